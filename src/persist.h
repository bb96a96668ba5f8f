/*
 * persist.h -- keeping observers, Observe numbers and dynamically created
 * resources across a server restart (coap_persist(3)), internal; the
 * public API is in coap3/coap_subscribe.h.
 *
 * Two ways to persist, as the page has them: the application's callbacks
 * (coap_persist_track_funcs()), or Petrel's own files
 * (coap_persist_startup()). A file given to coap_persist_startup() takes
 * over from the callback of its kind.
 *
 * The files are rewritten whole from the live state (observers of the
 * context, resources of the context), never patched: a change only marks
 * its file dirty and arms one timer of the context at "now", so that
 * however many changes one pass of the loop makes, each file is written
 * once at the end of it. The cost of a write is O(what the file holds);
 * nothing is written while nothing changes. See persist.c for the format.
 */
#ifndef PT_PERSIST_H
#define PT_PERSIST_H

#include "coap3/coap.h"

#include "timer.h"

/* Bounds on what a file may hold; a file past them is rejected whole. */
#define PT_PERSIST_MAX_FILE (64u * 1024u * 1024u) /* bytes */
#define PT_PERSIST_MAX_RECORDS 1000000u
#define PT_PERSIST_MAX_PACKET 65536u /* one stored request */
#define PT_PERSIST_MAX_NAME 4096u    /* one resource path */

/* A resource's share (embedded in coap_resource_t). */
typedef struct pt_persist_res {
  coap_bin_const_t *create_req; /* dynamic resource: the wire form of the
                                   request that created it (owned), kept
                                   only while persistence is on */
  uint32_t saved_seq;           /* last Observe number saved */
  uint8_t has_saved_seq;
} pt_persist_res;

/* Dirty bits: which files wait for the end of the pass. */
#define PT_PERSIST_DYN 1u
#define PT_PERSIST_OBS 2u
#define PT_PERSIST_CNT 4u

/* The context's share (embedded in coap_context_t). */
typedef struct pt_persist_ctx {
  /* coap_persist_track_funcs(); each NULL when unset */
  coap_observe_added_t observe_added;
  coap_observe_deleted_t observe_deleted;
  coap_track_observe_value_t track_observe_value;
  coap_dyn_resource_added_t dyn_resource_added;
  coap_resource_deleted_t resource_deleted;
  void *user_data;
  uint32_t save_freq; /* >= 1 */
  /* coap_persist_startup(); each owned, or NULL */
  char *dyn_file, *obs_file, *cnt_file;
  unsigned dirty; /* PT_PERSIST_* */
  pt_timer timer; /* writes the dirty files */
  /* The unknown-resource handler running now, whose coap_add_resource()
   * calls create dynamic resources (borrowed for the call). */
  coap_session_t *creating_session;
  const coap_pdu_t *creating_req;
  uint8_t loading; /* files are being read: no callbacks, no saves */
} pt_persist_ctx;

/* ---- hooks ----------------------------------------------------------- */

/* Context creation and teardown. pt_persist_free() writes any file still
 * dirty (after the teardown removed observers and resources) and frees
 * what persistence holds. */
void pt_persist_init(coap_context_t *ctx);
void pt_persist_free(coap_context_t *ctx);

/* An observer (@key) of @s was registered by the request @req (borrowed). */
void pt_persist_observer_added(coap_session_t *s, coap_subscription_t *key,
                               const coap_pdu_t *req);

/* The observer @key of @s is going. */
void pt_persist_observer_removed(coap_session_t *s, coap_subscription_t *key);

/* @r's Observe number moved on: saved every save_freq values. */
void pt_persist_observe_number(coap_resource_t *r);

/* @r was added to its context (coap_add_resource()): dynamic when the
 * unknown-resource handler is running. */
void pt_persist_resource_added(coap_resource_t *r);

/* @r (in the context's table until now) is being freed. */
void pt_persist_resource_freed(coap_resource_t *r);

/* Around a call of the unknown-resource handler for @req on @s. */
void pt_persist_unknown_begin(coap_context_t *ctx, coap_session_t *s,
                              const coap_pdu_t *req, coap_session_t **old_s,
                              const coap_pdu_t **old_req);
void pt_persist_unknown_end(coap_context_t *ctx, coap_session_t *old_s,
                            const coap_pdu_t *old_req);

/* CRC-32 (the zlib/Ethernet one) of @p[0..n): the files' checksum. */
uint32_t pt_persist_crc32(const uint8_t *p, size_t n);

#endif /* PT_PERSIST_H */
