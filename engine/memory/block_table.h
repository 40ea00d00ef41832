/* engine/memory/block_table.h -- lock-free address table of sampled blocks.
 *
 * Layout: 2^13 buckets x 16 ways of keys (block addresses) in one mmap'd
 * array, values in a parallel array.  A key lives anywhere in its bucket
 * (no probing across buckets, no tombstones): lookups scan the 16 keys of one
 * bucket (two cache lines); an insert into a full bucket fails and the sample
 * is counted as dropped.  Key states: 0 empty, 1 busy (being written), else
 * an address.  Insert: CAS 0 -> busy, write the value, store-release the key.
 * Remove: find the key, read the value, CAS key -> 0.  Only the thread that
 * frees a block removes it, and the allocator cannot hand the address out
 * again before that free, so a key never changes under its remover.
 *
 * In front of the table sits a filter of 2^16 one-byte counters indexed by
 * (address >> 4): the number of recorded blocks whose address maps there (255
 * = saturated, sticky).  Every free reads one byte of it; only a nonzero byte
 * leads to the table.  Nearby addresses share filter cache lines, so the
 * lookup is usually an L1 hit.
 *
 * Everything here is async-signal-safe (no locks, no allocation after init).
 */
#ifndef SCALENE_MEM_BLOCK_TABLE_H
#define SCALENE_MEM_BLOCK_TABLE_H

#include <stdint.h>

#define SCALENE_MEM_TABLE_BUCKET_BITS 13
#define SCALENE_MEM_TABLE_WAYS        16
#define SCALENE_MEM_TABLE_SLOTS       ((uint64_t)SCALENE_MEM_TABLE_WAYS << SCALENE_MEM_TABLE_BUCKET_BITS)
#define SCALENE_MEM_FILTER_BITS       16
#define SCALENE_MEM_FILTER_SHIFT      4

/* What is remembered about a sampled block. */
typedef struct {
    uint64_t tag;     /* engine's tag (nonzero) */
    uint64_t weight;  /* weight of the MALLOC sample */
    uint64_t size;    /* requested size */
    uint32_t domain;  /* SCALENE_DOMAIN_* */
    uint32_t pad_;
} _scalene_mem_block_t;

extern uint8_t _scalene_mem_filter[1u << SCALENE_MEM_FILTER_BITS];

/* One byte load: 0 means "certainly not recorded". */
static inline int _scalene_mem_filter_maybe(const void *p)
{
    uintptr_t i = ((uintptr_t)p >> SCALENE_MEM_FILTER_SHIFT) & ((1u << SCALENE_MEM_FILTER_BITS) - 1);
    return __atomic_load_n(&_scalene_mem_filter[i], __ATOMIC_RELAXED) != 0;
}

/* Maps the table (once).  0 or -ENOMEM.  Not async-signal-safe. */
int  _scalene_mem_table_init(void);
/* Forgets every record.  Pre: no concurrent insert (install time). */
void _scalene_mem_table_clear(void);
/* Records p (replacing a stale record of the same address).  1 = recorded,
 * 0 = bucket full or table not initialised. */
int  _scalene_mem_table_insert(const void *p, const _scalene_mem_block_t *b);
/* Removes p's record into *out.  1 = found, 0 = not recorded. */
int  _scalene_mem_table_remove(const void *p, _scalene_mem_block_t *out);
/* Number of records. */
uint64_t _scalene_mem_table_count(void);
/* Marks p's filter byte saturated (used for bootstrap-arena blocks, whose
 * frees must reach the slow path). */
void _scalene_mem_filter_pin(const void *p);
/* In a forked child: releases slots left busy by threads that no longer exist. */
void _scalene_mem_table_after_fork_child(void);

#endif /* SCALENE_MEM_BLOCK_TABLE_H */
