/* aggregate.h: turns sample records into per-line and per-function totals.
 *
 * The drain empties the sampler's rings: it is run by a background thread
 * (started with the sampler) every few tens of milliseconds, and
 * synchronously before the profile is written.  Only one drain runs at a
 * time (the drain lock); the tables it fills are protected by the table
 * lock, which the profile writer also takes.  The drain needs the GIL only
 * to read the stacks of idle threads; it never holds the GIL while waiting
 * for the table lock, and nobody waits for the GIL while holding it.
 */
#ifndef SCALENE_AGGREGATE_H
#define SCALENE_AGGREGATE_H

#include <stdint.h>

#include "memprof.h"
#include "samples.h"
#include "table.h"

#define SCALENE_LINE_RESERVOIR 500

typedef struct {
    double python_s, native_s, system_s; /* seconds */
    double util_sum;                     /* sum of core utilisation over samples */
    uint64_t samples;
    double gpu_util_time;                /* sum of GPU utilisation x seconds */
    double gpu_mem_sum, gpu_mem_peak;    /* MB over samples */
    double await_s;                      /* asyncio: seconds coroutines spent awaiting here */
    double conc_sum, conc_peak;          /* suspended tasks seen, summed / max over await samples */
    uint64_t conc_n;
} scalene_cpu_totals_t;

typedef struct {
    int32_t file;
    int32_t lineno;
    scalene_cpu_totals_t cpu;
    scalene_mem_totals_t mem;
    double *times;      /* reservoir of sample timestamps (s), up to SCALENE_LINE_RESERVOIR */
    int32_t ntimes;
} scalene_line_t;

typedef struct {
    int32_t file;
    int32_t firstlineno;
    int32_t name; /* string id: qualified name where the interpreter knows it */
    scalene_cpu_totals_t cpu;
    scalene_mem_totals_t mem;
} scalene_func_t;

typedef struct {
    int32_t name;   /* string id of the file name */
    int traced;     /* lines of this file are reported */
    scalene_cpu_totals_t cpu;
    double malloc_b; /* sampled bytes allocated by its lines */
    uint64_t mallocs; /* sampled allocations by its lines */
    int32_t *ranges; /* @profile ranges [first, last] pairs; NULL = whole file */
    int32_t nranges;
} scalene_file_t;

/* A stack's frames are (file, name, lineno) triples, outermost first.  A
 * native sample's stack ends with the C function that was running, as the
 * triple (SCALENE_NATIVE_FRAME, symbol string id, module string id). */
#define SCALENE_NATIVE_FRAME (-1)
#define SCALENE_MAX_STACK_FRAMES (SCALENE_MAX_FRAMES + 1)

typedef struct {
    int32_t *frames;
    int32_t nframes;
    scalene_cpu_totals_t cpu;
    double malloc_b; /* sampled bytes allocated in this stack (memory_stacks) */
} scalene_stack_t;

/* combined_stacks_timeline: consecutive samples of one thread with the same
 * stack are one run. */
typedef struct {
    double t;           /* CLOCK_MONOTONIC seconds of the run's first sample:
                           one clock for the whole machine, so merged child
                           processes' runs line up with the parent's */
    int32_t stack;      /* index into stacks */
    int32_t count;
    uint64_t thread;    /* threading ident */
    int32_t pid;        /* a forked child's main thread has its parent's ident */
    int32_t unused;
} scalene_stack_run_t;

#define SCALENE_MAX_STACK_RUNS 100000

/* Everything the writer reads; valid while the table lock is held. */
typedef struct {
    scalene_strings_t strings;
    scalene_file_t *files;
    int32_t nfiles, files_cap;
    scalene_line_t *lines;
    int32_t nlines, lines_cap;
    scalene_func_t *funcs;
    int32_t nfuncs, funcs_cap;
    scalene_stack_t *stacks;
    int32_t nstacks, stacks_cap;
    scalene_map_t file_index;  /* name string id -> file index */
    scalene_map_t line_index;  /* (file << 32 | lineno) -> line index */
    scalene_map_t func_index;  /* hash(file, firstlineno, name) -> func index */
    scalene_map_t stack_index; /* hash of frames -> stack index (chained by linear scan) */
    scalene_stack_run_t *runs; /* the timeline of stacks, at most SCALENE_MAX_STACK_RUNS */
    int32_t nruns, runs_cap;
    int runs_started;          /* last_run_of_slot (aggregate.c) is initialised */
    double total_s;            /* all attributed time */
    double total_await_s;      /* all time coroutines spent awaiting */
    double unattributed_s;     /* time whose stack had no reported line */
    uint64_t samples, unattributed_samples;
    /* what merged child processes contributed (persist.c) */
    uint64_t merged_cpu_samples, merged_idle_samples, merged_dropped_samples, merged_threads;
    uint64_t merged_dropped_code_names, merged_dropped_memory_samples;
    uint64_t merged_processes;
    int collect_stacks;
} scalene_tables_t;

extern scalene_tables_t scalene_tables;

int scalene_agg_init(void);
/* Forget all totals (sampling stopped). */
void scalene_agg_reset(void);
void scalene_agg_set_collect_stacks(int on);
/* Restrict a file's reported lines to [first, last] (@profile). */
int scalene_agg_add_range(const char *filename, int first, int last);
/* Empty the rings.  Call with have_gil = 1 from a Python thread holding the
 * GIL, 0 from a thread without a Python state. */
void scalene_agg_drain(int have_gil);

/* asyncio: for an idle thread inside an event loop, the suspended tasks of
 * that loop.  Called by the drain with the GIL held; fills up to max entries
 * (each: the task's await chain, innermost first, as filename/lineno pairs)
 * and returns how many.  Installed by the module; NULL = no async profiling. */
#define SCALENE_ASYNC_MAX_TASKS 32
#define SCALENE_ASYNC_MAX_DEPTH 8
typedef struct {
    int depth;
    char filename[SCALENE_ASYNC_MAX_DEPTH][256];
    int lineno[SCALENE_ASYNC_MAX_DEPTH];
} scalene_async_task_t;
extern int (*scalene_agg_async_hook)(unsigned long ident, scalene_async_task_t *out, int max);

/* Background drain thread. */
int scalene_agg_start_drainer(void);
void scalene_agg_stop_drainer(void); /* call with the GIL held: releases it while joining */
void scalene_agg_wake_drainer(void); /* signal-safe enough: a condvar signal from the sampler thread */

/* In a forked child: locks re-initialised, no drain thread, totals dropped
 * (they may have been mid-update in the parent). */
void scalene_agg_after_fork_child(void);

void scalene_agg_lock(void);   /* table lock; do not call with the GIL held (release it first) */
void scalene_agg_unlock(void);

/* Entries of the tables, created on first use; table lock held.  NULL / -1
 * on ENOMEM.  (For the drain, and for merging other processes' tables.) */
int32_t scalene_agg_file_for_name_unlocked(int32_t name);
scalene_line_t *scalene_agg_line_entry_unlocked(int32_t file, int32_t lineno);
scalene_func_t *scalene_agg_func_entry_unlocked(int32_t file, int32_t firstlineno, int32_t name);
scalene_stack_t *scalene_agg_stack_entry_unlocked(const int32_t *triples, int32_t n);
/* dst += src (sums, and the maxima of the peaks). */
void scalene_cpu_totals_add(scalene_cpu_totals_t *dst, const scalene_cpu_totals_t *src);
void scalene_agg_reservoir_add_unlocked(scalene_line_t *line, double when);
/* memory_stacks: a sampled allocation of `bytes` by these frames (innermost
 * first); nothing unless stacks are collected. */
void scalene_agg_memory_stack_unlocked(const scalene_frame_t *frames, int n, double bytes);
/* Append another process's timeline run (its t is from that process's
 * first sample). */
void scalene_agg_add_run_unlocked(const scalene_stack_run_t *run);

/* The innermost reported frame of a stack: its line and function indices
 * (created on first use), or 0 if no frame of the stack is reported. */
int scalene_agg_pick_unlocked(const scalene_frame_t *frames, int n, int32_t *line, int32_t *func);

/* The line entry for (file, lineno), or NULL. */
const scalene_line_t *scalene_agg_find_line(int32_t file, int32_t lineno);

#endif
