/*
 * outq.c -- a capped queue of bytes waiting for a socket (see outq.h). A
 * singly linked list of chunks, each one allocation holding what one push
 * gave; writes consume from the head, so every operation is O(1).
 */
#include "outq.h"

#include <stdlib.h>
#include <string.h>

struct pt_outq_chunk {
  pt_outq_chunk *next;
  size_t len; /* bytes in data */
  size_t off; /* bytes of data already written */
  uint8_t data[];
};

void pt_outq_init(pt_outq *q, size_t cap) {
  memset(q, 0, sizeof(*q));
  q->cap = cap;
}

void pt_outq_free(pt_outq *q) {
  while (q->head) {
    pt_outq_chunk *c = q->head;
    q->head = c->next;
    free(c);
  }
  q->tail = NULL;
  q->bytes = 0;
}

int pt_outq_push(pt_outq *q, const uint8_t *a, size_t alen, const uint8_t *b,
                 size_t blen) {
  size_t len = alen + blen;
  if (len == 0)
    return PT_OUTQ_OK;
  if (len > q->cap - q->bytes || len < alen)
    return PT_OUTQ_FULL;
  pt_outq_chunk *c = malloc(sizeof(*c) + len);
  if (!c)
    return PT_OUTQ_NOMEM;
  c->next = NULL;
  c->len = len;
  c->off = 0;
  if (alen)
    memcpy(c->data, a, alen);
  if (blen)
    memcpy(c->data + alen, b, blen);
  if (q->tail)
    q->tail->next = c;
  else
    q->head = c;
  q->tail = c;
  q->bytes += len;
  return PT_OUTQ_OK;
}

size_t pt_outq_peek(const pt_outq *q, const uint8_t **data) {
  if (!q->head) {
    *data = NULL;
    return 0;
  }
  *data = q->head->data + q->head->off;
  return q->head->len - q->head->off;
}

void pt_outq_consume(pt_outq *q, size_t n) {
  if (n > q->bytes)
    n = q->bytes;
  q->bytes -= n;
  while (n && q->head) {
    pt_outq_chunk *c = q->head;
    size_t left = c->len - c->off;
    size_t k = n < left ? n : left;
    c->off += k;
    n -= k;
    if (c->off == c->len) {
      q->head = c->next;
      if (!q->head)
        q->tail = NULL;
      free(c);
    }
  }
}

size_t pt_outq_bytes(const pt_outq *q) {
  return q->bytes;
}
