/*
 * heap.c -- intrusive binary min-heap of deadlines (heap.h).
 *
 * A plain array-backed binary heap: the children of position i are 2i+1
 * and 2i+2. Every move of a node pointer also writes the node's index, so
 * a node always knows where it is and removal needs no search. An
 * array (rather than libuv's pointer tree) keeps the nodes small and the
 * hot top of the heap in a few cache lines.
 */
#include <stdlib.h>

#include "heap.h"

#define HEAP_MIN_CAPACITY 16u

/* Strict "fires before": earlier deadline, or same deadline inserted first.
 * Sequence numbers are 64-bit, so they never wrap in practice. */
static int fires_before(const pt_heap_node *a, const pt_heap_node *b) {
  if (a->deadline != b->deadline)
    return a->deadline < b->deadline;
  return a->seq < b->seq;
}

static void place(pt_heap *heap, pt_heap_node *node, uint32_t i) {
  heap->nodes[i] = node;
  node->index = i;
}

static void sift_up(pt_heap *heap, uint32_t i) {
  pt_heap_node *node = heap->nodes[i];
  while (i > 0) {
    uint32_t parent = (i - 1) / 2;
    if (!fires_before(node, heap->nodes[parent]))
      break;
    place(heap, heap->nodes[parent], i);
    i = parent;
  }
  place(heap, node, i);
}

static void sift_down(pt_heap *heap, uint32_t i) {
  pt_heap_node *node = heap->nodes[i];
  for (;;) {
    /* 64-bit arithmetic: 2i+1 can exceed UINT32_MAX for huge heaps. */
    uint64_t child = 2 * (uint64_t)i + 1;
    if (child >= heap->size)
      break;
    if (child + 1 < heap->size &&
        fires_before(heap->nodes[child + 1], heap->nodes[child]))
      child++;
    if (!fires_before(heap->nodes[child], node))
      break;
    place(heap, heap->nodes[child], i);
    i = (uint32_t)child;
  }
  place(heap, node, i);
}

/* Restores order around position i after its node's key changed. */
static void fix(pt_heap *heap, uint32_t i) {
  pt_heap_node *node = heap->nodes[i];
  sift_up(heap, i);
  sift_down(heap, node->index);
}

static int in_this_heap(const pt_heap *heap, const pt_heap_node *node) {
  return node->index < heap->size && heap->nodes[node->index] == node;
}

/* Makes room for one more pointer; doubling keeps growth amortized O(1). */
static int reserve_one(pt_heap *heap) {
  if (heap->size < heap->capacity)
    return 0;
  if (heap->capacity >= PT_HEAP_NOT_IN_HEAP / 2)
    return -1; /* the index must stay below PT_HEAP_NOT_IN_HEAP */
  uint32_t cap = heap->capacity ? heap->capacity * 2 : HEAP_MIN_CAPACITY;
  size_t bytes = (size_t)cap * sizeof(*heap->nodes);
  if (bytes / sizeof(*heap->nodes) != cap)
    return -1; /* 32-bit size_t overflow */
  pt_heap_node **grown = realloc(heap->nodes, bytes);
  if (!grown)
    return -1;
  heap->nodes = grown;
  heap->capacity = cap;
  return 0;
}

void pt_heap_init(pt_heap *heap) {
  heap->nodes = NULL;
  heap->size = 0;
  heap->capacity = 0;
  heap->next_seq = 0;
}

void pt_heap_free(pt_heap *heap) {
  for (uint32_t i = 0; i < heap->size; i++)
    heap->nodes[i]->index = PT_HEAP_NOT_IN_HEAP;
  free(heap->nodes);
  pt_heap_init(heap);
}

void pt_heap_node_init(pt_heap_node *node) {
  node->deadline = 0;
  node->seq = 0;
  node->index = PT_HEAP_NOT_IN_HEAP;
}

int pt_heap_insert(pt_heap *heap, pt_heap_node *node, uint64_t deadline) {
  if (in_this_heap(heap, node)) {
    node->deadline = deadline;
    node->seq = heap->next_seq++;
    fix(heap, node->index);
    return 0;
  }
  if (node->index != PT_HEAP_NOT_IN_HEAP)
    return -1; /* member of another heap, or never initialised */
  if (reserve_one(heap) < 0)
    return -1;
  node->deadline = deadline;
  node->seq = heap->next_seq++;
  place(heap, node, heap->size++);
  sift_up(heap, node->index);
  return 0;
}

void pt_heap_remove(pt_heap *heap, pt_heap_node *node) {
  if (!in_this_heap(heap, node))
    return;
  uint32_t i = node->index;
  pt_heap_node *last = heap->nodes[--heap->size];
  heap->nodes[heap->size] = NULL;
  node->index = PT_HEAP_NOT_IN_HEAP;
  if (last == node)
    return;
  place(heap, last, i);
  fix(heap, i);
}

int pt_heap_update(pt_heap *heap, pt_heap_node *node, uint64_t deadline) {
  return pt_heap_insert(heap, node, deadline);
}

pt_heap_node *pt_heap_min(const pt_heap *heap) {
  return heap->size ? heap->nodes[0] : NULL;
}

pt_heap_node *pt_heap_pop(pt_heap *heap) {
  pt_heap_node *min = pt_heap_min(heap);
  if (min)
    pt_heap_remove(heap, min);
  return min;
}

uint32_t pt_heap_size(const pt_heap *heap) {
  return heap->size;
}

int pt_heap_contains(const pt_heap_node *node) {
  return node->index != PT_HEAP_NOT_IN_HEAP;
}
