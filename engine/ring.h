/* ring.h: fixed-size, lock-free, multi-producer single-consumer ring of
 * fixed-size records.
 *
 * Producers are signal handlers and the sampler thread: reserve and publish
 * never block, never allocate and are async-signal-safe; a full ring drops
 * the record and counts it.  The single consumer is whoever holds the
 * engine's drain lock.  Every record starts with the 64-bit publication
 * sequence word that this ring manages (scalene_ring_seq_t).
 */
#ifndef SCALENE_RING_H
#define SCALENE_RING_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

typedef _Atomic uint64_t scalene_ring_seq_t;

typedef struct {
    _Atomic uint64_t head;    /* next position to reserve (producers, CAS) */
    _Atomic uint64_t tail;    /* next position to consume (consumer only) */
    _Atomic uint64_t dropped; /* records refused because the ring was full */
    uint64_t capacity;        /* power of two; fixed at init */
    size_t record_size;       /* bytes per record, including the seq word */
    char *records;            /* capacity * record_size, zeroed */
} scalene_ring_t;

/* Allocate the ring's storage (not signal-safe).  0 on success, -1 on ENOMEM. */
int scalene_ring_init(scalene_ring_t *ring, uint64_t capacity, size_t record_size);
void scalene_ring_free(scalene_ring_t *ring);

/* Reserve a record; returns NULL if the ring is full.  *pos receives the
 * position to hand to scalene_ring_publish(). */
void *scalene_ring_reserve(scalene_ring_t *ring, uint64_t *pos);
void scalene_ring_publish(scalene_ring_t *ring, void *record, uint64_t pos);

/* Consumer side: the next published record, or NULL if the next position is
 * empty or still being written.  Call scalene_ring_release() after copying
 * it out. */
void *scalene_ring_peek(scalene_ring_t *ring);
void scalene_ring_release(scalene_ring_t *ring);

/* Approximate number of reserved records not yet consumed. */
uint64_t scalene_ring_used(scalene_ring_t *ring);

#endif
