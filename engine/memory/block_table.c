/* engine/memory/block_table.c -- lock-free address table of sampled blocks (see block_table.h). */
#include <errno.h>
#include <string.h>
#include <sys/mman.h>

#include "memhooks_internal.h"

#define KEY_EMPTY ((uintptr_t)0)
#define KEY_BUSY  ((uintptr_t)1)
#define FILTER_SATURATED 255

uint8_t _scalene_mem_filter[1u << SCALENE_MEM_FILTER_BITS];

static uintptr_t *keys;              /* SLOTS keys, accessed atomically */
static _scalene_mem_block_t *vals;   /* SLOTS values, guarded by their key */
static uint64_t count;               /* atomic: records */
static uint64_t inflight;            /* atomic: inserts between claim and publish */

static inline uint64_t bucket_of(const void *p)
{
    uint64_t h = (uint64_t)(uintptr_t)p * 0x9E3779B97F4A7C15ULL;
    return h >> (64 - SCALENE_MEM_TABLE_BUCKET_BITS);
}

static inline uint8_t *filter_byte(const void *p)
{
    return &_scalene_mem_filter[((uintptr_t)p >> SCALENE_MEM_FILTER_SHIFT) &
                                ((1u << SCALENE_MEM_FILTER_BITS) - 1)];
}

static void filter_add(const void *p, int delta)
{
    uint8_t *f = filter_byte(p);
    uint8_t c = __atomic_load_n(f, __ATOMIC_RELAXED);
    for (;;) {
        if (c == FILTER_SATURATED)
            return; /* sticky: we no longer know the true count */
        if (delta < 0 && c == 0)
            return; /* cannot happen unless cleared meanwhile */
        uint8_t n = (uint8_t)(c + delta);
        if (__atomic_compare_exchange_n(f, &c, n, 1, __ATOMIC_RELAXED, __ATOMIC_RELAXED))
            return;
    }
}

void _scalene_mem_filter_pin(const void *p)
{
    __atomic_store_n(filter_byte(p), FILTER_SATURATED, __ATOMIC_RELAXED);
}

int _scalene_mem_table_init(void)
{
    if (__atomic_load_n(&keys, __ATOMIC_ACQUIRE))
        return 0;
    size_t ksz = SCALENE_MEM_TABLE_SLOTS * sizeof(uintptr_t);
    size_t vsz = SCALENE_MEM_TABLE_SLOTS * sizeof(_scalene_mem_block_t);
    /* Anonymous memory: zero pages until touched, so an idle table costs no RSS. */
    void *k = mmap(NULL, ksz, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (k == MAP_FAILED)
        return -ENOMEM;
    void *v = mmap(NULL, vsz, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (v == MAP_FAILED) {
        munmap(k, ksz);
        return -ENOMEM;
    }
    vals = v;
    __atomic_store_n(&keys, (uintptr_t *)k, __ATOMIC_RELEASE);
    return 0;
}

void _scalene_mem_table_clear(void)
{
    if (keys) {
        /* Drop the pages: they read as zero (empty keys) afterwards. */
        if (madvise(keys, SCALENE_MEM_TABLE_SLOTS * sizeof(uintptr_t), MADV_DONTNEED) != 0)
            memset(keys, 0, SCALENE_MEM_TABLE_SLOTS * sizeof(uintptr_t));
        madvise(vals, SCALENE_MEM_TABLE_SLOTS * sizeof(_scalene_mem_block_t), MADV_DONTNEED);
    }
    /* Keep filter bytes pinned for the bootstrap arena: clear only counts. */
    for (size_t i = 0; i < sizeof(_scalene_mem_filter); i++)
        if (_scalene_mem_filter[i] != FILTER_SATURATED)
            _scalene_mem_filter[i] = 0;
    __atomic_store_n(&count, 0, __ATOMIC_RELAXED);
}

int _scalene_mem_table_insert(const void *p, const _scalene_mem_block_t *b)
{
    uintptr_t *k = __atomic_load_n(&keys, __ATOMIC_ACQUIRE);
    if (!k)
        return 0;
    uintptr_t key = (uintptr_t)p;
    uint64_t base = bucket_of(p) * SCALENE_MEM_TABLE_WAYS;
    __atomic_fetch_add(&inflight, 1, __ATOMIC_RELAXED);

    /* A record for p can only still exist if p's free bypassed the hooks
     * (unpatched object, freed after uninstall...): it is stale, replace it. */
    for (uint64_t i = base; i < base + SCALENE_MEM_TABLE_WAYS; i++) {
        uintptr_t cur = key;
        if (__atomic_load_n(&k[i], __ATOMIC_RELAXED) == key &&
            __atomic_compare_exchange_n(&k[i], &cur, KEY_BUSY, 0, __ATOMIC_ACQUIRE, __ATOMIC_RELAXED)) {
            vals[i] = *b;
            __atomic_store_n(&k[i], key, __ATOMIC_RELEASE);
            __atomic_fetch_sub(&inflight, 1, __ATOMIC_RELAXED);
            return 1;
        }
    }
    for (uint64_t i = base; i < base + SCALENE_MEM_TABLE_WAYS; i++) {
        uintptr_t cur = KEY_EMPTY;
        if (__atomic_load_n(&k[i], __ATOMIC_RELAXED) == KEY_EMPTY &&
            __atomic_compare_exchange_n(&k[i], &cur, KEY_BUSY, 0, __ATOMIC_ACQUIRE, __ATOMIC_RELAXED)) {
            vals[i] = *b;
            __atomic_store_n(&k[i], key, __ATOMIC_RELEASE);
            filter_add(p, +1);
            __atomic_fetch_add(&count, 1, __ATOMIC_RELAXED);
            __atomic_fetch_sub(&inflight, 1, __ATOMIC_RELAXED);
            return 1;
        }
    }
    __atomic_fetch_sub(&inflight, 1, __ATOMIC_RELAXED);
    return 0;
}

int _scalene_mem_table_remove(const void *p, _scalene_mem_block_t *out)
{
    uintptr_t *k = __atomic_load_n(&keys, __ATOMIC_ACQUIRE);
    if (!k)
        return 0;
    uintptr_t key = (uintptr_t)p;
    if (key <= KEY_BUSY)
        return 0;
    uint64_t base = bucket_of(p) * SCALENE_MEM_TABLE_WAYS;
    for (uint64_t i = base; i < base + SCALENE_MEM_TABLE_WAYS; i++) {
        if (__atomic_load_n(&k[i], __ATOMIC_ACQUIRE) != key)
            continue;
        /* The value is stable while the key is ours (see header). */
        *out = vals[i];
        uintptr_t cur = key;
        if (__atomic_compare_exchange_n(&k[i], &cur, KEY_EMPTY, 0, __ATOMIC_RELEASE, __ATOMIC_RELAXED)) {
            filter_add(p, -1);
            __atomic_fetch_sub(&count, 1, __ATOMIC_RELAXED);
            return 1;
        }
    }
    return 0;
}

uint64_t _scalene_mem_table_count(void)
{
    return __atomic_load_n(&count, __ATOMIC_RELAXED);
}

void _scalene_mem_table_after_fork_child(void)
{
    /* Only this thread exists now: a busy slot belongs to a dead insert. */
    if (keys && __atomic_load_n(&inflight, __ATOMIC_RELAXED) != 0) {
        for (uint64_t i = 0; i < SCALENE_MEM_TABLE_SLOTS; i++)
            if (keys[i] == KEY_BUSY)
                keys[i] = KEY_EMPTY;
    }
    __atomic_store_n(&inflight, 0, __ATOMIC_RELAXED);
}
