/* codecache.c: see codecache.h. */
#include "codecache.h"

#include <stdatomic.h>
#include <stdlib.h>

typedef struct {
    _Atomic uintptr_t code; /* 0 = empty; published last, with release order */
    uint32_t stamp;
    int32_t index;
} entry_t;

/* Allocated once by init and never freed while the process lives, so a
 * handler racing with clear() still reads valid memory. */
static entry_t *table;
static uint32_t mask;
static uint32_t used; /* writer only */

/* Fingerprints of codes whose names are in the codeinfo ring (any thread;
 * see codecache.h).  The mark is a release after the record's publication
 * and the check an acquire before the skipping sample's own publication,
 * so a drain that sees that sample also sees the record. */
#define IN_FLIGHT_SLOTS 512
static _Atomic uint64_t in_flight[IN_FLIGHT_SLOTS];

static inline uint64_t
fingerprint(uintptr_t code, uint32_t stamp)
{
    uint64_t h = ((uint64_t)code ^ ((uint64_t)stamp << 29)) * 0x9E3779B97F4A7C15ULL;
    h ^= h >> 31;
    return h | 1; /* never 0, the empty slot */
}

int
scalene_codecache_in_flight(uintptr_t code, uint32_t stamp)
{
    uint64_t f = fingerprint(code, stamp);
    return atomic_load_explicit(&in_flight[f % IN_FLIGHT_SLOTS], memory_order_acquire) == f;
}

void
scalene_codecache_mark_in_flight(uintptr_t code, uint32_t stamp)
{
    uint64_t f = fingerprint(code, stamp);
    atomic_store_explicit(&in_flight[f % IN_FLIGHT_SLOTS], f, memory_order_release);
}

int
scalene_codecache_init(uint32_t capacity_pow2)
{
    if (table != NULL) {
        return 0;
    }
    table = calloc(capacity_pow2, sizeof(entry_t));
    if (table == NULL) {
        return -1;
    }
    mask = capacity_pow2 - 1;
    return 0;
}

void
scalene_codecache_clear(void)
{
    for (int i = 0; i < IN_FLIGHT_SLOTS; i++) {
        atomic_store_explicit(&in_flight[i], 0, memory_order_relaxed);
    }
    if (table == NULL) {
        return;
    }
    for (uint32_t i = 0; i <= mask; i++) {
        atomic_store_explicit(&table[i].code, 0, memory_order_relaxed);
    }
    used = 0;
}

static inline uint32_t
hash(uintptr_t code, uint32_t stamp)
{
    uint64_t h = (uint64_t)code * 0x9E3779B97F4A7C15ULL ^ stamp;
    return (uint32_t)(h >> 32) ^ (uint32_t)h;
}

int32_t
scalene_codecache_lookup(uintptr_t code, uint32_t stamp)
{
    if (table == NULL) {
        return -1;
    }
    for (uint32_t i = hash(code, stamp) & mask, probes = 0; probes <= mask; i = (i + 1) & mask, probes++) {
        uintptr_t c = atomic_load_explicit(&table[i].code, memory_order_acquire);
        if (c == 0) {
            return -1;
        }
        if (c == code && table[i].stamp == stamp) {
            return table[i].index;
        }
    }
    return -1;
}

int
scalene_codecache_insert(uintptr_t code, uint32_t stamp, int32_t index)
{
    if (table == NULL || used >= (mask + 1) / 4 * 3) {
        return -1;
    }
    for (uint32_t i = hash(code, stamp) & mask;; i = (i + 1) & mask) {
        uintptr_t c = atomic_load_explicit(&table[i].code, memory_order_relaxed);
        if (c == code && table[i].stamp == stamp) {
            table[i].index = index;
            return 0;
        }
        if (c == 0) {
            table[i].stamp = stamp;
            table[i].index = index;
            atomic_store_explicit(&table[i].code, code, memory_order_release);
            used++;
            return 0;
        }
    }
}
