/* aggregate.c: see aggregate.h. */
#include <Python.h>

#include "aggregate.h"

#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "codecache.h"
#include "filter.h"
#include "platform.h"
#include "sampler.h"
#include "symbols.h"

scalene_tables_t scalene_tables; /* table_lock */

/* What the drain knows about each code object it has seen: indexed by the
 * value stored in the code cache.  drain_lock. */
typedef struct {
    int32_t file;
    int32_t name;
    int32_t firstlineno;
} code_info_t;
static code_info_t *infos;
static int32_t ninfos, infos_cap;

static pthread_mutex_t drain_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_mutex_t table_lock = PTHREAD_MUTEX_INITIALIZER;

/* The background drain thread. */
static pthread_t drainer;
static int drainer_started; /* GIL */
static pthread_mutex_t drainer_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t drainer_cond = PTHREAD_COND_INITIALIZER;
static int drainer_stop, drainer_kick; /* drainer_lock */

static uint64_t reservoir_rng = 0x2545F4914F6CDD1DULL; /* table_lock */

#define DRAIN_BATCH 256
static scalene_sample_t batch[DRAIN_BATCH]; /* drain_lock */
static scalene_memsample_t mem_batch[DRAIN_BATCH]; /* drain_lock */

int (*scalene_agg_async_hook)(unsigned long, scalene_async_task_t *, int); /* GIL */

/* Suspended tasks found for the idle samples of one batch (drain_lock). */
typedef struct {
    int32_t sample;  /* index in the batch */
    int32_t ntasks;  /* tasks suspended in that loop */
    scalene_async_task_t task;
} async_entry_t;
#define ASYNC_BATCH_MAX 512
static async_entry_t async_entries[ASYNC_BATCH_MAX];
static int32_t nasync;

/* ------------------------------------------------------------ the tables */

static void *
grow_array(void *array, int32_t *cap, size_t elem)
{
    int32_t n = *cap ? *cap * 2 : 64;
    void *bigger = realloc(array, (size_t)n * elem);
    if (bigger != NULL) {
        memset((char *)bigger + (size_t)*cap * elem, 0, (size_t)(n - *cap) * elem);
        *cap = n;
    }
    return bigger;
}

int32_t
scalene_agg_file_for_name_unlocked(int32_t name)
{
    scalene_tables_t *t = &scalene_tables;
    int32_t index = scalene_map_get(&t->file_index, (uint64_t)name);
    if (index >= 0) {
        return index;
    }
    if (t->nfiles == t->files_cap) {
        void *bigger = grow_array(t->files, &t->files_cap, sizeof(scalene_file_t));
        if (bigger == NULL) {
            return -1;
        }
        t->files = bigger;
    }
    index = t->nfiles;
    scalene_file_t *f = &t->files[index];
    memset(f, 0, sizeof(*f));
    f->name = name;
    f->traced = scalene_filter_file(scalene_strings_get(&t->strings, name));
    if (scalene_map_put(&t->file_index, (uint64_t)name, index) != 0) {
        return -1;
    }
    t->nfiles++;
    return index;
}

static void
add_codeinfo_unlocked(const scalene_codeinfo_t *ci)
{
    if (ci->code == 0 || scalene_codecache_lookup(ci->code, ci->stamp) >= 0) {
        /* code 0: a record abandoned by a faulting walk (sampler.c) */
        return;
    }
    scalene_tables_t *t = &scalene_tables;
    int32_t fname = scalene_strings_intern(&t->strings, ci->filename);
    int32_t name = scalene_strings_intern(&t->strings, ci->name);
    int32_t file = fname >= 0 ? scalene_agg_file_for_name_unlocked(fname) : -1;
    if (file < 0 || name < 0) {
        return;
    }
    if (ninfos == infos_cap) {
        void *bigger = grow_array(infos, &infos_cap, sizeof(code_info_t));
        if (bigger == NULL) {
            return;
        }
        infos = bigger;
    }
    infos[ninfos] = (code_info_t){.file = file, .name = name, .firstlineno = ci->firstlineno};
    if (scalene_codecache_insert(ci->code, ci->stamp, ninfos) == 0) {
        ninfos++;
    }
}

static int
line_allowed(const scalene_file_t *f, int32_t lineno)
{
    if (!f->traced) {
        return 0;
    }
    if (f->ranges == NULL) {
        return 1;
    }
    for (int32_t i = 0; i < f->nranges; i++) {
        if (lineno >= f->ranges[2 * i] && lineno <= f->ranges[2 * i + 1]) {
            return 1;
        }
    }
    return 0;
}

static void
add_cpu(scalene_cpu_totals_t *c, const scalene_sample_t *s, double w)
{
    if (s->kind == SCALENE_SAMPLE_IDLE) {
        c->system_s += w;
    } else if (s->native) {
        c->native_s += w;
    } else {
        c->python_s += w;
    }
    c->util_sum += s->core_util;
    c->samples++;
    c->gpu_util_time += (double)s->gpu_util * w;
    c->gpu_mem_sum += s->gpu_mem_mb;
    if (s->gpu_mem_mb > c->gpu_mem_peak) {
        c->gpu_mem_peak = s->gpu_mem_mb;
    }
}

scalene_line_t *
scalene_agg_line_entry_unlocked(int32_t file, int32_t lineno)
{
    scalene_tables_t *t = &scalene_tables;
    uint64_t key = ((uint64_t)(uint32_t)file << 32) | (uint32_t)lineno;
    int32_t index = scalene_map_get(&t->line_index, key);
    if (index >= 0) {
        return &t->lines[index];
    }
    if (t->nlines == t->lines_cap) {
        void *bigger = grow_array(t->lines, &t->lines_cap, sizeof(scalene_line_t));
        if (bigger == NULL) {
            return NULL;
        }
        t->lines = bigger;
    }
    index = t->nlines;
    if (scalene_map_put(&t->line_index, key, index) != 0) {
        return NULL;
    }
    t->nlines++;
    scalene_line_t *line = &t->lines[index];
    memset(line, 0, sizeof(*line));
    line->file = file;
    line->lineno = lineno;
    return line;
}

scalene_func_t *
scalene_agg_func_entry_unlocked(int32_t file, int32_t firstlineno, int32_t name)
{
    scalene_tables_t *t = &scalene_tables;
    int32_t parts[3] = {file, firstlineno, name};
    uint64_t key = scalene_hash_bytes(parts, sizeof(parts), 1);
    for (;; key++) { /* linear chaining over (astronomically rare) hash collisions */
        int32_t index = scalene_map_get(&t->func_index, key);
        if (index < 0) {
            break;
        }
        scalene_func_t *f = &t->funcs[index];
        if (f->file == file && f->firstlineno == firstlineno && f->name == name) {
            return f;
        }
    }
    if (t->nfuncs == t->funcs_cap) {
        void *bigger = grow_array(t->funcs, &t->funcs_cap, sizeof(scalene_func_t));
        if (bigger == NULL) {
            return NULL;
        }
        t->funcs = bigger;
    }
    int32_t index = t->nfuncs;
    if (scalene_map_put(&t->func_index, key, index) != 0) {
        return NULL;
    }
    t->nfuncs++;
    scalene_func_t *f = &t->funcs[index];
    memset(f, 0, sizeof(*f));
    f->file = file;
    f->firstlineno = firstlineno;
    f->name = name;
    return f;
}

/* Timeline runs: the run each thread slot extended last (table lock), so
 * a thread's consecutive samples in one stack stay one run even while
 * other threads' samples interleave.  -1: none. */
static int32_t last_run_of_slot[SCALENE_MAX_THREADS];

static void
add_stack_run_unlocked(const scalene_sample_t *s, int32_t stack)
{
    scalene_tables_t *t = &scalene_tables;
    if (s->slot < 0 || s->slot >= SCALENE_MAX_THREADS) {
        return;
    }
    if (!t->runs_started) {
        t->runs_started = 1;
        for (int i = 0; i < SCALENE_MAX_THREADS; i++) {
            last_run_of_slot[i] = -1;
        }
    }
    unsigned long ident = scalene_sampler_slot_ident(s->slot);
    int32_t last = last_run_of_slot[s->slot];
    if (last >= 0 && last < t->nruns && t->runs[last].stack == stack && t->runs[last].thread == ident) {
        t->runs[last].count++;
        return;
    }
    scalene_stack_run_t run = {.t = (double)s->t_ns / 1e9, .stack = stack, .count = 1, .thread = ident,
                               .pid = (int32_t)getpid()};
    int32_t before = t->nruns;
    scalene_agg_add_run_unlocked(&run);
    last_run_of_slot[s->slot] = t->nruns > before ? before : -1;
}

void
scalene_agg_add_run_unlocked(const scalene_stack_run_t *run)
{
    scalene_tables_t *t = &scalene_tables;
    if (t->nruns >= SCALENE_MAX_STACK_RUNS) {
        return; /* bounded memory: the timeline keeps its beginning */
    }
    if (t->nruns == t->runs_cap) {
        void *bigger = grow_array(t->runs, &t->runs_cap, sizeof(scalene_stack_run_t));
        if (bigger == NULL) {
            return;
        }
        t->runs = bigger;
    }
    t->runs[t->nruns++] = *run;
}

/* The C function a native sample was running, as a stack's leaf triple.
 * 0 if the address is in no loaded object. */
static int
native_leaf_unlocked(uintptr_t pc, int32_t *triple)
{
    scalene_symbol_t sym;
    if (pc == 0 || !scalene_symbolize(pc, &sym)) {
        return 0;
    }
    scalene_tables_t *t = &scalene_tables;
    int32_t symbol = scalene_strings_intern(&t->strings, sym.symbol);
    int32_t module = scalene_strings_intern(&t->strings, sym.module);
    if (symbol < 0 || module < 0) {
        return 0;
    }
    triple[0] = SCALENE_NATIVE_FRAME;
    triple[1] = symbol;
    triple[2] = module;
    return 1;
}

/* The stack entry of picked frames (innermost first), ending in `leaf` if
 * not NULL. */
static scalene_stack_t *
stack_of_picked_unlocked(const int32_t *picked, int npicked, const int32_t *leaf)
{
    int32_t triples[3 * SCALENE_MAX_STACK_FRAMES];
    int n = 0;
    for (int i = npicked - 1; i >= 0; i--) { /* outermost first */
        const code_info_t *info = &infos[picked[2 * i]];
        triples[3 * n] = info->file;
        triples[3 * n + 1] = info->name;
        triples[3 * n + 2] = picked[2 * i + 1];
        n++;
    }
    if (leaf != NULL) {
        memcpy(&triples[3 * n], leaf, 3 * sizeof(int32_t));
        n++;
    }
    return scalene_agg_stack_entry_unlocked(triples, n);
}

static void
add_stack_unlocked(const scalene_sample_t *s, const int32_t *picked, int npicked, double w)
{
    int32_t leaf[3];
    int has_leaf = s->kind == SCALENE_SAMPLE_CPU && s->native && native_leaf_unlocked(s->pc, leaf);
    scalene_stack_t *st = stack_of_picked_unlocked(picked, npicked, has_leaf ? leaf : NULL);
    if (st != NULL) {
        add_cpu(&st->cpu, s, w);
        add_stack_run_unlocked(s, (int32_t)(st - scalene_tables.stacks));
    }
}

void
scalene_cpu_totals_add(scalene_cpu_totals_t *dst, const scalene_cpu_totals_t *src)
{
    dst->python_s += src->python_s;
    dst->native_s += src->native_s;
    dst->system_s += src->system_s;
    dst->util_sum += src->util_sum;
    dst->samples += src->samples;
    dst->gpu_util_time += src->gpu_util_time;
    dst->gpu_mem_sum += src->gpu_mem_sum;
    if (src->gpu_mem_peak > dst->gpu_mem_peak) {
        dst->gpu_mem_peak = src->gpu_mem_peak;
    }
    dst->await_s += src->await_s;
    dst->conc_sum += src->conc_sum;
    dst->conc_n += src->conc_n;
    if (src->conc_peak > dst->conc_peak) {
        dst->conc_peak = src->conc_peak;
    }
}

scalene_stack_t *
scalene_agg_stack_entry_unlocked(const int32_t *triples, int32_t n)
{
    scalene_tables_t *t = &scalene_tables;
    uint64_t key = scalene_hash_bytes(triples, (size_t)n * 3 * sizeof(int32_t), 2);
    for (;; key++) {
        int32_t index = scalene_map_get(&t->stack_index, key);
        if (index < 0) {
            break;
        }
        scalene_stack_t *st = &t->stacks[index];
        if (st->nframes == n && memcmp(st->frames, triples, (size_t)n * 3 * sizeof(int32_t)) == 0) {
            return st;
        }
    }
    if (t->nstacks >= 20000) {
        return NULL; /* bounded memory: a profile with more distinct stacks keeps the first ones */
    }
    if (t->nstacks == t->stacks_cap) {
        void *bigger = grow_array(t->stacks, &t->stacks_cap, sizeof(scalene_stack_t));
        if (bigger == NULL) {
            return NULL;
        }
        t->stacks = bigger;
    }
    int32_t *frames = malloc((size_t)(n > 0 ? n : 1) * 3 * sizeof(int32_t));
    if (frames == NULL || scalene_map_put(&t->stack_index, key, t->nstacks) != 0) {
        free(frames);
        return NULL;
    }
    memcpy(frames, triples, (size_t)n * 3 * sizeof(int32_t));
    scalene_stack_t *st = &t->stacks[t->nstacks++];
    memset(st, 0, sizeof(*st));
    st->frames = frames;
    st->nframes = n;
    return st;
}

void
scalene_agg_reservoir_add_unlocked(scalene_line_t *line, double when)
{
    if (line->times == NULL) {
        line->times = malloc(SCALENE_LINE_RESERVOIR * sizeof(double));
        if (line->times == NULL) {
            return;
        }
    }
    if (line->ntimes < SCALENE_LINE_RESERVOIR) {
        line->times[line->ntimes++] = when;
        return;
    }
    /* Algorithm R over this line's samples */
    reservoir_rng ^= reservoir_rng << 13;
    reservoir_rng ^= reservoir_rng >> 7;
    reservoir_rng ^= reservoir_rng << 17;
    uint64_t j = reservoir_rng % line->cpu.samples;
    if (j < SCALENE_LINE_RESERVOIR) {
        line->times[j] = when;
    }
}

int
scalene_agg_pick_unlocked(const scalene_frame_t *frames, int n, int32_t *line, int32_t *func)
{
    scalene_tables_t *t = &scalene_tables;
    for (int i = 0; i < n; i++) {
        int32_t index = scalene_codecache_lookup(frames[i].code, frames[i].stamp);
        if (index < 0 || index >= ninfos) {
            continue;
        }
        const code_info_t *info = &infos[index];
        if (!line_allowed(&t->files[info->file], frames[i].lineno)) {
            continue;
        }
        scalene_line_t *l = scalene_agg_line_entry_unlocked(info->file, frames[i].lineno);
        scalene_func_t *f = scalene_agg_func_entry_unlocked(info->file, info->firstlineno, info->name);
        if (l == NULL || f == NULL) {
            return 0;
        }
        *line = (int32_t)(l - t->lines);
        *func = (int32_t)(f - t->funcs);
        return 1;
    }
    return 0;
}

/* The reported frames of a sample, innermost first, as (info, lineno)
 * pairs in picked[]: all of them when stacks are collected, else the first. */
static int
pick_frames_unlocked(const scalene_frame_t *frames, int n, int32_t *picked)
{
    scalene_tables_t *t = &scalene_tables;
    int npicked = 0;
    for (int i = 0; i < n; i++) {
        int32_t index = scalene_codecache_lookup(frames[i].code, frames[i].stamp);
        if (index < 0 || index >= ninfos) {
            continue; /* its names were lost (codeinfo ring full) */
        }
        const scalene_file_t *f = &t->files[infos[index].file];
        if (line_allowed(f, frames[i].lineno)) {
            picked[2 * npicked] = index;
            picked[2 * npicked + 1] = frames[i].lineno;
            npicked++;
            if (!t->collect_stacks) {
                break;
            }
        }
    }
    return npicked;
}

void
scalene_agg_memory_stack_unlocked(const scalene_frame_t *frames, int n, double bytes)
{
    int32_t picked[2 * SCALENE_MAX_FRAMES];
    if (!scalene_tables.collect_stacks || n > SCALENE_MAX_FRAMES) {
        return;
    }
    int npicked = pick_frames_unlocked(frames, n, picked);
    scalene_stack_t *st = npicked > 0 ? stack_of_picked_unlocked(picked, npicked, NULL) : NULL;
    if (st != NULL) {
        st->malloc_b += bytes;
    }
}

static void
aggregate_unlocked(const scalene_sample_t *s)
{
    scalene_tables_t *t = &scalene_tables;
    double w = (double)s->weight_ns / 1e9;
    int32_t picked[2 * SCALENE_MAX_FRAMES]; /* (info, lineno) of reported frames, innermost first */
    int npicked = pick_frames_unlocked(s->frames, s->nframes, picked);
    if (npicked == 0) {
        t->unattributed_s += w;
        t->unattributed_samples++;
        return;
    }
    const code_info_t *info = &infos[picked[0]];
    scalene_line_t *line = scalene_agg_line_entry_unlocked(info->file, picked[1]);
    scalene_func_t *func = scalene_agg_func_entry_unlocked(info->file, info->firstlineno, info->name);
    if (line != NULL) {
        add_cpu(&line->cpu, s, w);
        scalene_agg_reservoir_add_unlocked(line, (double)s->t_ns / 1e9);
    }
    if (func != NULL) {
        add_cpu(&func->cpu, s, w);
    }
    add_cpu(&t->files[info->file].cpu, s, w);
    if (t->collect_stacks) {
        add_stack_unlocked(s, picked, npicked, w);
    }
    t->total_s += w;
    t->samples++;
}

/* ----------------------------------------------------------- the drain */

/* Where the idle thread is now, read with the GIL held.  The thread has
 * not run since it was seen idle when its CPU clock has not moved, so the
 * stack read now is the stack it was blocked in. */
static void
resolve_idle_with_gil(scalene_sample_t *s, int32_t index)
{
    unsigned long ident = scalene_sampler_slot_ident(s->slot);
    s->nframes = 0;
    if (ident == 0) {
        return;
    }
    PyInterpreterState *interp = PyInterpreterState_Main();
    for (PyThreadState *ts = PyInterpreterState_ThreadHead(interp); ts != NULL; ts = PyThreadState_Next(ts)) {
        if (ts->thread_id == ident) {
            int top = -1;
            s->nframes = (uint16_t)scalene_capture_frames(ts, s->frames, SCALENE_MAX_FRAMES, &top);
            break;
        }
    }
    if (scalene_agg_async_hook == NULL) {
        return;
    }
    /* Idle inside an event loop's _run_once: its suspended coroutines are
     * awaiting.  (The frames are live: we hold the GIL and the thread is
     * blocked.) */
    int in_loop = 0;
    for (int i = 0; i < s->nframes && !in_loop; i++) {
        PyCodeObject *code = (PyCodeObject *)s->frames[i].code;
        in_loop = PyUnicode_CompareWithASCIIString(code->co_name, "_run_once") == 0;
    }
    if (!in_loop || nasync >= ASYNC_BATCH_MAX) {
        return;
    }
    static scalene_async_task_t tasks[SCALENE_ASYNC_MAX_TASKS];
    int n = scalene_agg_async_hook(ident, tasks, SCALENE_ASYNC_MAX_TASKS);
    for (int i = 0; i < n && nasync < ASYNC_BATCH_MAX; i++) {
        async_entries[nasync].sample = index;
        async_entries[nasync].ntasks = n;
        async_entries[nasync].task = tasks[i];
        nasync++;
    }
}

/* Credit each suspended task's await time to its innermost reported line. */
static void
aggregate_async_unlocked(void)
{
    scalene_tables_t *t = &scalene_tables;
    for (int32_t i = 0; i < nasync; i++) {
        const async_entry_t *e = &async_entries[i];
        const scalene_sample_t *s = &batch[e->sample];
        double w = (double)s->weight_ns / 1e9;
        for (int d = 0; d < e->task.depth; d++) {
            int32_t name = scalene_strings_intern(&t->strings, e->task.filename[d]);
            int32_t file = name >= 0 ? scalene_agg_file_for_name_unlocked(name) : -1;
            if (file < 0 || !line_allowed(&t->files[file], e->task.lineno[d])) {
                continue;
            }
            scalene_line_t *line = scalene_agg_line_entry_unlocked(file, e->task.lineno[d]);
            if (line != NULL) {
                line->cpu.await_s += w;
                line->cpu.conc_sum += e->ntasks;
                line->cpu.conc_n++;
                if (e->ntasks > line->cpu.conc_peak) {
                    line->cpu.conc_peak = e->ntasks;
                }
                t->files[file].cpu.await_s += w;
                t->total_await_s += w;
            }
            break;
        }
    }
    nasync = 0;
}

static int
is_finalizing(void)
{
#if PY_VERSION_HEX >= 0x030D0000
    return Py_IsFinalizing();
#else
    return _Py_IsFinalizing();
#endif
}

static void
drain_codeinfo_unlocked(void)
{
    scalene_codeinfo_t *ci;
    while ((ci = scalene_ring_peek(&scalene_codeinfo_ring)) != NULL) {
        add_codeinfo_unlocked(ci);
        scalene_ring_release(&scalene_codeinfo_ring);
    }
}


void
scalene_agg_drain(int have_gil)
{
    if (have_gil) {
        Py_BEGIN_ALLOW_THREADS pthread_mutex_lock(&drain_lock);
        Py_END_ALLOW_THREADS
    } else {
        pthread_mutex_lock(&drain_lock);
    }
    for (;;) {
        int n = 0, nidle = 0, nmem = 0;
        scalene_sample_t *s;
        scalene_memsample_t *m;
        while (nmem < DRAIN_BATCH && (m = scalene_ring_peek(&scalene_mem_ring)) != NULL) {
            memcpy(&mem_batch[nmem++], m, sizeof(*m));
            scalene_ring_release(&scalene_mem_ring);
        }
        while (n < DRAIN_BATCH && (s = scalene_ring_peek(&scalene_sample_ring)) != NULL) {
            memcpy(&batch[n], s, sizeof(*s));
            scalene_ring_release(&scalene_sample_ring);
            nidle += batch[n].kind == SCALENE_SAMPLE_IDLE;
            n++;
        }
        if (nidle > 0 && (have_gil || !is_finalizing())) {
            PyGILState_STATE g = PyGILState_Ensure();
            for (int i = 0; i < n; i++) {
                if (batch[i].kind == SCALENE_SAMPLE_IDLE) {
                    resolve_idle_with_gil(&batch[i], i);
                }
            }
            PyGILState_Release(g);
        }
        /* Names of code objects first met in this batch were published before
         * the samples that need them. */
        pthread_mutex_lock(&table_lock);
        drain_codeinfo_unlocked();
        for (int i = 0; i < n; i++) {
            aggregate_unlocked(&batch[i]);
        }
        aggregate_async_unlocked();
        scalene_memprof_aggregate_unlocked(mem_batch, nmem);
        pthread_mutex_unlock(&table_lock);
        if (n < DRAIN_BATCH && nmem < DRAIN_BATCH) {
            break;
        }
    }
    pthread_mutex_unlock(&drain_lock);
}

static void *
drainer_main(void *arg)
{
    (void)arg;
    sigset_t all;
    sigfillset(&all);
    pthread_sigmask(SIG_BLOCK, &all, NULL);
    pthread_mutex_lock(&drainer_lock);
    while (!drainer_stop) {
        if (!drainer_kick) {
            int64_t deadline = scalene_now_ns() + 200 * 1000000LL;
            struct timespec ts = {.tv_sec = deadline / 1000000000LL, .tv_nsec = deadline % 1000000000LL};
            pthread_cond_timedwait(&drainer_cond, &drainer_lock, &ts);
        }
        if (drainer_stop) {
            break;
        }
        drainer_kick = 0;
        pthread_mutex_unlock(&drainer_lock);
        if (scalene_ring_used(&scalene_sample_ring) > 0 || scalene_ring_used(&scalene_codeinfo_ring) > 0 ||
            scalene_ring_used(&scalene_mem_ring) > 0) {
            scalene_agg_drain(0);
        }
        pthread_mutex_lock(&drainer_lock);
    }
    pthread_mutex_unlock(&drainer_lock);
    return NULL;
}

int
scalene_agg_start_drainer(void)
{
    if (drainer_started) {
        return 0;
    }
    drainer_stop = 0;
    drainer_kick = 0;
    if (pthread_create(&drainer, NULL, drainer_main, NULL) != 0) {
        return -1;
    }
    drainer_started = 1;
    return 0;
}

void
scalene_agg_stop_drainer(void)
{
    if (!drainer_started) {
        return;
    }
    pthread_mutex_lock(&drainer_lock);
    drainer_stop = 1;
    pthread_cond_broadcast(&drainer_cond);
    pthread_mutex_unlock(&drainer_lock);
    /* The drainer may be waiting for the GIL: let it have it. */
    Py_BEGIN_ALLOW_THREADS pthread_join(drainer, NULL);
    Py_END_ALLOW_THREADS drainer_started = 0;
}

void
scalene_agg_wake_drainer(void)
{
    pthread_mutex_lock(&drainer_lock);
    drainer_kick = 1;
    pthread_cond_signal(&drainer_cond);
    pthread_mutex_unlock(&drainer_lock);
}

/* ------------------------------------------------------------ lifecycle */

static void
init_drainer_cond(void)
{
    pthread_condattr_t attr;
    pthread_condattr_init(&attr);
    pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
    pthread_cond_init(&drainer_cond, &attr);
    pthread_condattr_destroy(&attr);
}

int
scalene_agg_init(void)
{
    pthread_cond_destroy(&drainer_cond);
    init_drainer_cond();
    return 0;
}

/* Called with the GIL held: the drain lock is taken with the GIL released,
 * since a background drain may be waiting for the GIL while holding it. */
void
scalene_agg_reset(void)
{
    Py_BEGIN_ALLOW_THREADS pthread_mutex_lock(&drain_lock);
    Py_END_ALLOW_THREADS
    pthread_mutex_lock(&table_lock);
    scalene_tables_t *t = &scalene_tables;
    for (int32_t i = 0; i < t->nlines; i++) {
        free(t->lines[i].times);
    }
    for (int32_t i = 0; i < t->nstacks; i++) {
        free(t->stacks[i].frames);
    }
    /* Files keep their @profile ranges and names; their totals restart.
     * Filter decisions are recomputed: the configuration may have changed. */
    for (int32_t i = 0; i < t->nfiles; i++) {
        memset(&t->files[i].cpu, 0, sizeof(t->files[i].cpu));
        t->files[i].malloc_b = 0;
        t->files[i].mallocs = 0;
        t->files[i].traced = scalene_filter_file(scalene_strings_get(&t->strings, t->files[i].name));
    }
    free(t->lines);
    free(t->funcs);
    free(t->stacks);
    free(t->runs);
    t->lines = NULL;
    t->funcs = NULL;
    t->stacks = NULL;
    t->runs = NULL;
    t->nlines = t->lines_cap = t->nfuncs = t->funcs_cap = t->nstacks = t->stacks_cap = 0;
    t->nruns = t->runs_cap = 0;
    t->runs_started = 0;
    scalene_symbols_reset();
    scalene_map_clear(&t->line_index);
    scalene_map_clear(&t->func_index);
    scalene_map_clear(&t->stack_index);
    t->total_s = t->unattributed_s = t->total_await_s = 0;
    t->samples = t->unattributed_samples = 0;
    t->merged_cpu_samples = t->merged_idle_samples = t->merged_dropped_samples = 0;
    t->merged_dropped_code_names = t->merged_dropped_memory_samples = 0;
    t->merged_threads = t->merged_processes = 0;
    /* Throw away anything still queued from a previous run. */
    while (scalene_ring_peek(&scalene_sample_ring) != NULL) {
        scalene_ring_release(&scalene_sample_ring);
    }
    while (scalene_ring_peek(&scalene_mem_ring) != NULL) {
        scalene_ring_release(&scalene_mem_ring);
    }
    scalene_memprof_reset_unlocked();
    pthread_mutex_unlock(&table_lock);
    pthread_mutex_unlock(&drain_lock);
}

void
scalene_agg_set_collect_stacks(int on)
{
    pthread_mutex_lock(&table_lock);
    scalene_tables.collect_stacks = on;
    pthread_mutex_unlock(&table_lock);
}

int
scalene_agg_add_range(const char *filename, int first, int last)
{
    int rc = -1;
    pthread_mutex_lock(&table_lock);
    scalene_tables_t *t = &scalene_tables;
    int32_t name = scalene_strings_intern(&t->strings, filename);
    int32_t file = name >= 0 ? scalene_agg_file_for_name_unlocked(name) : -1;
    if (file >= 0) {
        scalene_file_t *f = &t->files[file];
        int32_t *ranges = realloc(f->ranges, (size_t)(f->nranges + 1) * 2 * sizeof(int32_t));
        if (ranges != NULL) {
            ranges[2 * f->nranges] = first;
            ranges[2 * f->nranges + 1] = last;
            f->ranges = ranges;
            f->nranges++;
            f->traced = 1;
            rc = 0;
        }
    }
    pthread_mutex_unlock(&table_lock);
    return rc;
}

void
scalene_agg_lock(void)
{
    pthread_mutex_lock(&table_lock);
}

void
scalene_agg_unlock(void)
{
    pthread_mutex_unlock(&table_lock);
}

const scalene_line_t *
scalene_agg_find_line(int32_t file, int32_t lineno)
{
    uint64_t key = ((uint64_t)(uint32_t)file << 32) | (uint32_t)lineno;
    int32_t index = scalene_map_get(&scalene_tables.line_index, key);
    return index >= 0 ? &scalene_tables.lines[index] : NULL;
}

void
scalene_agg_after_fork_child(void)
{
    pthread_mutex_init(&drain_lock, NULL);
    pthread_mutex_init(&table_lock, NULL);
    pthread_mutex_init(&drainer_lock, NULL);
    init_drainer_cond(); /* the parent's drain thread may have been waiting on it */
    drainer_started = 0;
    /* Abandon (leak) the parent's tables: a drain may have been half-way
     * through updating them when the parent forked.  The code cache is
     * abandoned with them; the configuration stays. */
    int collect_stacks = scalene_tables.collect_stacks;
    memset(&scalene_tables, 0, sizeof(scalene_tables));
    scalene_tables.collect_stacks = collect_stacks;
    infos = NULL;
    ninfos = infos_cap = 0;
    scalene_codecache_clear();
    scalene_symbols_after_fork_child();
}
