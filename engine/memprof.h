/* memprof.h: memory profiling on top of the interposition layer
 * (memory/memhooks.h): which lines allocate, how much of it through
 * Python's allocator, what each line still holds (frees are credited back to
 * the line that allocated the block, by tag), peaks, timelines, leaks and
 * copy volume.
 *
 * The layer calls on_memory_event() synchronously in the allocating thread;
 * it captures that thread's Python frames (like the CPU signal handler: own
 * stack, no allocation, no lock) into a lock-free ring.  The drain turns the
 * records into per-line totals under the table lock (aggregate.c calls
 * scalene_memprof_drain_unlocked()).
 */
#ifndef SCALENE_MEMPROF_H
#define SCALENE_MEMPROF_H

#include <stddef.h>
#include <stdint.h>

#include "ring.h"
#include "samples.h"

#define SCALENE_MEM_FRAMES 24
#define SCALENE_MEM_TIMELINE 100 /* points per timeline (global and per line) */

typedef struct {
    scalene_ring_seq_t seq;
    uint8_t kind;     /* SCALENE_MEM_MALLOC / FREE / COPY */
    uint8_t domain;   /* SCALENE_DOMAIN_PYTHON or NATIVE */
    uint16_t nframes; /* innermost first; 0 = a thread with no Python frame */
    uint64_t weight;  /* bytes this sample stands for */
    uint64_t tag;     /* MALLOC: the tag handed back; FREE: the block's tag */
    int64_t t_ns;
    scalene_frame_t frames[SCALENE_MEM_FRAMES];
} scalene_memsample_t;

/* Per-line (and per-function) memory totals, in bytes. */
typedef struct {
    double malloc_b, python_b, copy_b;
    double current_b, peak_b;    /* retained by blocks this line allocated */
    double avg_sum;              /* sum of current_b after each of its allocations */
    uint64_t mallocs, frees;     /* sampled blocks, and how many of them were freed */
    int32_t ntimeline;
    double timeline[SCALENE_MEM_TIMELINE][2]; /* [ns since start, global footprint MB] */
} scalene_mem_totals_t;

typedef struct {
    uint64_t window, copy_window;
} scalene_memprof_config_t;

extern scalene_ring_t scalene_mem_ring;

/* Install the interposition layer (GIL held).  0 ok; <0 with a reason. */
int scalene_memprof_start(const scalene_memprof_config_t *cfg, int64_t start_ns, char *why, size_t why_len);
/* Uninstall it (GIL held). */
void scalene_memprof_stop(void);
int scalene_memprof_active(void);

/* Global results, for the writer (table lock held). */
typedef struct {
    double footprint_b, max_footprint_b, max_python_fraction;
    int32_t max_file, max_lineno;        /* where the peak was reached; -1 = unknown */
    double total_malloc_b, native_b;     /* all sampled allocation; by threads with no Python frame */
    uint64_t records;                    /* memory records processed */
    int32_t ntimeline;
    double timeline[SCALENE_MEM_TIMELINE][2];
} scalene_mem_global_t;
extern scalene_mem_global_t scalene_mem_global;

/* Aggregate one batch of memory records (drain; table lock held). */
struct scalene_line_s;
void scalene_memprof_aggregate_unlocked(const scalene_memsample_t *records, int n);
void scalene_memprof_reset_unlocked(void);
void scalene_mem_totals_add(scalene_mem_totals_t *dst, const scalene_mem_totals_t *src);

#endif
