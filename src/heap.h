/*
 * heap.h -- intrusive binary min-heap of deadlines (internal).
 *
 * Every deadline in Petrel's runtime (retransmissions, exchange lifetimes,
 * session idle timeouts, async delays) lives in one of these heaps, so the
 * event loop learns its next expiry in O(1) and never walks a list of
 * timers.
 *
 * The heap is intrusive: the owner embeds a pt_heap_node in its own struct
 * and gets back to itself with PT_CONTAINER_OF. The heap keeps a growable
 * array of node pointers; each node records its position in that array, so
 * removing or re-arming any node is O(log n) with no search.
 *
 * Ordering: smaller deadline first; equal deadlines in insertion order
 * (FIFO), using a sequence number the heap stamps on every insert and
 * update. Deadlines are opaque uint64_t values (Petrel uses milliseconds of
 * a monotonic clock); the heap never reads a clock.
 *
 * Ownership: the heap borrows nodes. It allocates only its pointer array;
 * nodes are the caller's and must stay valid (and not move) while they are
 * in a heap. Not thread-safe: one heap belongs to one event loop.
 */
#ifndef PETREL_HEAP_H
#define PETREL_HEAP_H

#include <stddef.h>
#include <stdint.h>

/* Owner struct of an embedded member. hashmap.h defines it identically (C
 * allows an identical redefinition), so either header may come first. */
#define PT_CONTAINER_OF(ptr, type, member)                                     \
  ((type *)(void *)((char *)(ptr)-offsetof(type, member)))

/* Position value of a node that is in no heap. */
#define PT_HEAP_NOT_IN_HEAP UINT32_MAX

typedef struct pt_heap_node {
  uint64_t deadline; /* read-only for the owner while in a heap */
  uint64_t seq;      /* insertion stamp: breaks deadline ties FIFO */
  uint32_t index;    /* position in the array, or PT_HEAP_NOT_IN_HEAP */
} pt_heap_node;

typedef struct pt_heap {
  pt_heap_node **nodes; /* owned array, nodes[0] is the minimum */
  uint32_t size;
  uint32_t capacity;
  uint64_t next_seq;
} pt_heap;

/* Prepares an empty heap; allocates nothing. */
void pt_heap_init(pt_heap *heap);

/* Frees the pointer array and marks every node still in the heap as out
 * of any heap (O(n), teardown only). The nodes themselves are not freed.
 * The heap is empty and reusable afterwards. */
void pt_heap_free(pt_heap *heap);

/* Marks a node as in no heap. Call once before first use: a zeroed node
 * has index 0 and would look like a member. */
void pt_heap_node_init(pt_heap_node *node);

/* Adds a borrowed node with the given deadline, O(log n). If the node is
 * already in this heap its deadline is changed instead (as
 * pt_heap_update). Returns 0, or -1 if the array cannot grow (the node
 * then stays out) or the node belongs to another heap. */
int pt_heap_insert(pt_heap *heap, pt_heap_node *node, uint64_t deadline);

/* Takes a node out, O(log n). A no-op if the node is not in this heap. */
void pt_heap_remove(pt_heap *heap, pt_heap_node *node);

/* Re-arms a node to a new deadline, O(log n); it goes behind nodes already
 * waiting on the same deadline. Inserts it if absent. Returns as
 * pt_heap_insert. */
int pt_heap_update(pt_heap *heap, pt_heap_node *node, uint64_t deadline);

/* The node with the earliest deadline (still in the heap), or NULL. */
pt_heap_node *pt_heap_min(const pt_heap *heap);

/* Removes and returns the earliest node, or NULL if the heap is empty. */
pt_heap_node *pt_heap_pop(pt_heap *heap);

/* Number of nodes in the heap. */
uint32_t pt_heap_size(const pt_heap *heap);

/* Nonzero if the node is in some heap (after pt_heap_node_init). */
int pt_heap_contains(const pt_heap_node *node);

#endif /* PETREL_HEAP_H */
