/* codecache.h: which code objects the aggregator already knows.
 *
 * An open-addressing table from (code pointer, stamp) to the aggregator's
 * index for that code.  One writer (the drain, under the drain lock) inserts;
 * any number of signal handlers read it without locks to decide whether they
 * must copy a code object's names (scalene_codeinfo_t).  Entries are never
 * removed while sampling runs; when the table fills up, handlers keep
 * copying names, which costs time but never correctness.
 */
#ifndef SCALENE_CODECACHE_H
#define SCALENE_CODECACHE_H

#include <stdint.h>

/* Allocate (not signal-safe); 0 ok, -1 ENOMEM. */
int scalene_codecache_init(uint32_t capacity_pow2);
/* Forget everything (only while no handler can run). */
void scalene_codecache_clear(void);
/* Async-signal-safe lookup: the aggregator's index, or -1 if unknown. */
int32_t scalene_codecache_lookup(uintptr_t code, uint32_t stamp);
/* Writer only.  Returns 0, or -1 if the table is too full to insert. */
int scalene_codecache_insert(uintptr_t code, uint32_t stamp, int32_t index);

/* Names in flight.  Until the drain has cached a code, every sample that
 * meets it would copy its names again: a loop that allocates fast sends
 * the same three names hundreds of times and fills the codeinfo ring with
 * copies (seen: 2,600 refused records in a 0.1 s run, every one a
 * duplicate).  Producers mark a code here once its names are published;
 * others then skip it.  A lossy, lock-free, async-signal-safe filter: a
 * collision only costs a copy, and a mark never names a code whose record
 * is not already in the ring.  Cleared with the cache. */
int scalene_codecache_in_flight(uintptr_t code, uint32_t stamp);
void scalene_codecache_mark_in_flight(uintptr_t code, uint32_t stamp);

#endif
