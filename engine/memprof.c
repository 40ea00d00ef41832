/* memprof.c: see memprof.h. */
#include <Python.h>

#include "memprof.h"

#include <stdatomic.h>
#include <stdio.h>
#include <string.h>

#include "aggregate.h"
#include "memory/memhooks.h"
#include "platform.h"
#include "sampler.h"

#define MEM_RING_CAPACITY 8192
#define MIB (1024.0 * 1024.0)

scalene_ring_t scalene_mem_ring;
scalene_mem_global_t scalene_mem_global; /* table_lock */

static _Atomic int active;             /* the callback records only while set */
static _Atomic uint64_t next_tag = 1;  /* tags handed to the layer for sampled blocks */
static int installed;                  /* GIL */
static int64_t start_ns;               /* written before install; read by the drain */

/* Sampled blocks still alive: tag -> index into blocks[] (table_lock). */
typedef struct {
    int32_t line, func; /* -1 when the block belongs to no reported line */
    double weight;
    uint8_t python;
} block_t;
static scalene_map_t tag_index;
static block_t *blocks;
static int32_t nblocks, blocks_cap, free_head = -1;
static double python_retained_b;  /* table_lock */
static uint64_t timeline_rng = 0x9E3779B97F4A7C15ULL;

/* -------------------------------------------------------- the callback */

static uint64_t
on_memory_event(const scalene_mem_event_t *ev, void *arg)
{
    (void)arg;
    if (!atomic_load_explicit(&active, memory_order_relaxed)) {
        return 0;
    }
    uint64_t pos;
    scalene_memsample_t *r = scalene_ring_reserve(&scalene_mem_ring, &pos);
    if (r == NULL) {
        return 0;
    }
    r->kind = (uint8_t)ev->kind;
    r->domain = (uint8_t)ev->domain;
    r->weight = ev->weight;
    r->t_ns = scalene_now_ns();
    r->nframes = 0;
    r->tag = 0;
    if (ev->kind == SCALENE_MEM_FREE) {
        r->tag = ev->tag;
    } else {
        if (ev->kind == SCALENE_MEM_MALLOC) {
            r->tag = atomic_fetch_add_explicit(&next_tag, 1, memory_order_relaxed);
        }
        /* This thread's own frames: it is inside an allocation, so nothing
         * can push or pop them under us (same reasoning as the signal
         * handler).  A thread that never ran Python has no thread state. */
        int top = -1;
        r->nframes = (uint16_t)scalene_capture_frames(PyGILState_GetThisThreadState(), r->frames,
                                                      SCALENE_MEM_FRAMES, &top);
    }
    uint64_t tag = r->tag;
    scalene_ring_publish(&scalene_mem_ring, r, pos);
    return tag;
}

int
scalene_memprof_start(const scalene_memprof_config_t *cfg, int64_t t0, char *why, size_t why_len)
{
    if (scalene_mem_ring.records == NULL &&
        scalene_ring_init(&scalene_mem_ring, MEM_RING_CAPACITY, sizeof(scalene_memsample_t)) != 0) {
        snprintf(why, why_len, "out of memory allocating the memory sample buffer");
        return -1;
    }
    start_ns = t0;
    if (!installed) {
        scalene_memhooks_config_t hc = {
            .sampling_window = cfg->window,
            .copy_window = cfg->copy_window,
            .hook_python_allocators = 1,
            .hook_copies = 1,
            .callback = on_memory_event,
            .callback_arg = NULL,
        };
        if (scalene_memhooks_install(&hc, why, why_len) != 0) {
            return -1;
        }
        installed = 1;
    }
    scalene_memhooks_set_enabled(1);
    atomic_store(&active, 1);
    return 0;
}

void
scalene_memprof_stop(void)
{
    atomic_store(&active, 0);
    if (installed) {
        scalene_memhooks_uninstall();
        installed = 0;
    }
}

int
scalene_memprof_active(void)
{
    return atomic_load(&active);
}

/* ---------------------------------------------------------- aggregation */

static void
timeline_add(double (*points)[2], int32_t *n, uint64_t seen, double t, double mb)
{
    if (*n < SCALENE_MEM_TIMELINE) {
        points[*n][0] = t;
        points[*n][1] = mb;
        (*n)++;
        return;
    }
    timeline_rng ^= timeline_rng << 13;
    timeline_rng ^= timeline_rng >> 7;
    timeline_rng ^= timeline_rng << 17;
    uint64_t j = seen ? timeline_rng % seen : 0;
    if (j < SCALENE_MEM_TIMELINE) {
        points[j][0] = t;
        points[j][1] = mb;
    }
}

static int32_t
block_new(void)
{
    if (free_head >= 0) {
        int32_t i = free_head;
        free_head = blocks[i].line; /* the free list threads through .line */
        return i;
    }
    if (nblocks == blocks_cap) {
        int32_t cap = blocks_cap ? blocks_cap * 2 : 1024;
        block_t *bigger = realloc(blocks, (size_t)cap * sizeof(block_t));
        if (bigger == NULL) {
            return -1;
        }
        blocks = bigger;
        blocks_cap = cap;
    }
    return nblocks++;
}

static void
on_malloc(const scalene_memsample_t *r, int32_t li, int32_t fi)
{
    scalene_mem_global_t *g = &scalene_mem_global;
    scalene_tables_t *t = &scalene_tables;
    double w = (double)r->weight;
    int python = r->domain == SCALENE_DOMAIN_PYTHON;
    g->total_malloc_b += w;
    if (r->nframes == 0) {
        g->native_b += w;
    }
    g->footprint_b += w;
    python_retained_b += python ? w : 0;
    double t_rel = (double)(r->t_ns - start_ns);
    if (g->footprint_b > g->max_footprint_b) {
        g->max_footprint_b = g->footprint_b;
        g->max_python_fraction = g->footprint_b > 0 ? python_retained_b / g->footprint_b : 0;
        /* The place is the last profiled line that raised the peak: a few
         * KiB allocated afterwards by the library or the interpreter (not
         * reported lines) must not hide the line that made the peak. */
        if (li >= 0) {
            g->max_file = t->lines[li].file;
            g->max_lineno = t->lines[li].lineno;
        }
    }
    int32_t b = block_new();
    if (b >= 0 && scalene_map_put(&tag_index, r->tag, b) == 0) {
        blocks[b] = (block_t){.line = li, .func = fi, .weight = w, .python = (uint8_t)python};
    }
    if (li >= 0) {
        t->files[t->lines[li].file].malloc_b += w;
        t->files[t->lines[li].file].mallocs++;
    }
    scalene_mem_totals_t *targets[2] = {li >= 0 ? &t->lines[li].mem : NULL, fi >= 0 ? &t->funcs[fi].mem : NULL};
    for (int k = 0; k < 2; k++) {
        scalene_mem_totals_t *m = targets[k];
        if (m == NULL) {
            continue;
        }
        m->malloc_b += w;
        m->python_b += python ? w : 0;
        m->mallocs++;
        m->current_b += w;
        if (m->current_b > m->peak_b) {
            m->peak_b = m->current_b;
        }
        m->avg_sum += m->current_b;
        if (k == 0) {
            timeline_add(m->timeline, &m->ntimeline, m->mallocs + m->frees, t_rel, g->footprint_b / MIB);
        }
    }
}

static void
on_free(const scalene_memsample_t *r)
{
    scalene_mem_global_t *g = &scalene_mem_global;
    scalene_tables_t *t = &scalene_tables;
    int32_t b = scalene_map_get(&tag_index, r->tag);
    if (b < 0) {
        return; /* sampled before profiling started, or in the parent before a fork */
    }
    scalene_map_del(&tag_index, r->tag);
    block_t blk = blocks[b];
    blocks[b].line = free_head;
    free_head = b;
    g->footprint_b -= blk.weight;
    if (g->footprint_b < 0) {
        g->footprint_b = 0;
    }
    python_retained_b -= blk.python ? blk.weight : 0;
    scalene_mem_totals_t *targets[2] = {blk.line >= 0 ? &t->lines[blk.line].mem : NULL,
                                        blk.func >= 0 ? &t->funcs[blk.func].mem : NULL};
    for (int k = 0; k < 2; k++) {
        if (targets[k] != NULL) {
            targets[k]->current_b -= blk.weight;
            targets[k]->frees++;
        }
    }
}

void
scalene_memprof_aggregate_unlocked(const scalene_memsample_t *records, int n)
{
    scalene_mem_global_t *g = &scalene_mem_global;
    scalene_tables_t *t = &scalene_tables;
    for (int i = 0; i < n; i++) {
        const scalene_memsample_t *r = &records[i];
        int32_t li = -1, fi = -1;
        g->records++;
        if (r->kind != SCALENE_MEM_FREE && !scalene_agg_pick_unlocked(r->frames, r->nframes, &li, &fi)) {
            li = fi = -1;
        }
        if (r->kind == SCALENE_MEM_MALLOC) {
            on_malloc(r, li, fi);
            if (li >= 0) {
                scalene_agg_memory_stack_unlocked(r->frames, r->nframes, (double)r->weight);
            }
        } else if (r->kind == SCALENE_MEM_FREE) {
            on_free(r);
        } else if (r->kind == SCALENE_MEM_COPY) {
            if (li >= 0) {
                t->lines[li].mem.copy_b += (double)r->weight;
            }
            if (fi >= 0) {
                t->funcs[fi].mem.copy_b += (double)r->weight;
            }
        }
        if (r->kind != SCALENE_MEM_COPY) {
            timeline_add(g->timeline, &g->ntimeline, g->records, (double)(r->t_ns - start_ns),
                         g->footprint_b / MIB);
        }
    }
}

void
scalene_memprof_reset_unlocked(void)
{
    memset(&scalene_mem_global, 0, sizeof(scalene_mem_global));
    scalene_mem_global.max_file = scalene_mem_global.max_lineno = -1;
    scalene_map_clear(&tag_index);
    free(blocks);
    blocks = NULL;
    nblocks = blocks_cap = 0;
    free_head = -1;
    python_retained_b = 0;
}

void
scalene_mem_totals_add(scalene_mem_totals_t *dst, const scalene_mem_totals_t *src)
{
    dst->malloc_b += src->malloc_b;
    dst->python_b += src->python_b;
    dst->copy_b += src->copy_b;
    dst->current_b += src->current_b;
    /* processes allocate concurrently: the larger peak is a lower bound of the joint one */
    if (src->peak_b > dst->peak_b) {
        dst->peak_b = src->peak_b;
    }
    dst->avg_sum += src->avg_sum;
    dst->mallocs += src->mallocs;
    dst->frees += src->frees;
    for (int32_t i = 0; i < src->ntimeline && dst->ntimeline < SCALENE_MEM_TIMELINE; i++) {
        dst->timeline[dst->ntimeline][0] = src->timeline[i][0];
        dst->timeline[dst->ntimeline][1] = src->timeline[i][1];
        dst->ntimeline++;
    }
}
