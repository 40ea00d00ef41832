/* ring.c: see ring.h.  The protocol: a producer claims position p with a CAS
 * on head (only while p - tail < capacity), writes the record, then stores
 * p + 1 into the record's seq word with release order.  The consumer at
 * position t waits for seq == t + 1 (acquire), copies, and advances tail.
 * A slot's seq from the previous lap is t + 1 - capacity, never t + 1. */
#include "ring.h"

#include <stdlib.h>

int
scalene_ring_init(scalene_ring_t *ring, uint64_t capacity, size_t record_size)
{
    ring->records = calloc(capacity, record_size);
    if (ring->records == NULL) {
        return -1;
    }
    ring->capacity = capacity;
    ring->record_size = record_size;
    atomic_store(&ring->head, 0);
    atomic_store(&ring->tail, 0);
    atomic_store(&ring->dropped, 0);
    return 0;
}

void
scalene_ring_free(scalene_ring_t *ring)
{
    free(ring->records);
    ring->records = NULL;
}

static inline scalene_ring_seq_t *
slot_at(scalene_ring_t *ring, uint64_t pos)
{
    return (scalene_ring_seq_t *)(ring->records + (pos & (ring->capacity - 1)) * ring->record_size);
}

void *
scalene_ring_reserve(scalene_ring_t *ring, uint64_t *pos)
{
    if (ring->records == NULL) {
        return NULL;
    }
    uint64_t head = atomic_load_explicit(&ring->head, memory_order_relaxed);
    for (;;) {
        uint64_t tail = atomic_load_explicit(&ring->tail, memory_order_acquire);
        if (head - tail >= ring->capacity) {
            atomic_fetch_add_explicit(&ring->dropped, 1, memory_order_relaxed);
            return NULL;
        }
        if (atomic_compare_exchange_weak_explicit(&ring->head, &head, head + 1, memory_order_acq_rel,
                                                  memory_order_relaxed)) {
            *pos = head;
            return slot_at(ring, head);
        }
    }
}

void
scalene_ring_publish(scalene_ring_t *ring, void *record, uint64_t pos)
{
    (void)ring;
    atomic_store_explicit((scalene_ring_seq_t *)record, pos + 1, memory_order_release);
}

void *
scalene_ring_peek(scalene_ring_t *ring)
{
    if (ring->records == NULL) {
        return NULL;
    }
    uint64_t tail = atomic_load_explicit(&ring->tail, memory_order_relaxed);
    scalene_ring_seq_t *slot = slot_at(ring, tail);
    if (atomic_load_explicit(slot, memory_order_acquire) != tail + 1) {
        return NULL;
    }
    return slot;
}

void
scalene_ring_release(scalene_ring_t *ring)
{
    uint64_t tail = atomic_load_explicit(&ring->tail, memory_order_relaxed);
    atomic_store_explicit(&ring->tail, tail + 1, memory_order_release);
}

uint64_t
scalene_ring_used(scalene_ring_t *ring)
{
    return atomic_load_explicit(&ring->head, memory_order_relaxed) -
           atomic_load_explicit(&ring->tail, memory_order_relaxed);
}
