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

#endif
