/* writer.c: see writer.h. */
#include "writer.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "aggregate.h"
#include "jsonw.h"
#include "sampler.h"

typedef struct {
    const scalene_profile_meta_t *meta;
    double total; /* all attributed seconds: the denominator of every percentage */
} ctx_t;

static double
pct(const ctx_t *c, double seconds)
{
    return c->total > 0 ? 100.0 * seconds / c->total : 0.0;
}

#define MIB (1024.0 * 1024.0)

static int
has_activity(const scalene_cpu_totals_t *cpu, const scalene_mem_totals_t *mem)
{
    return (cpu != NULL && (cpu->samples > 0 || cpu->await_s > 0)) ||
           (mem != NULL && (mem->malloc_b > 0 || mem->copy_b > 0));
}

/* The metric keys shared by lines and functions, in sorted order, merged by
 * the caller with the keys specific to each. */
static void
write_cpu_metrics_a(scalene_jw_t *w, const ctx_t *c, const scalene_cpu_totals_t *cpu,
                    const scalene_mem_totals_t *mem)
{
    const scalene_mem_totals_t zero = {0};
    if (mem == NULL) {
        mem = &zero;
    }
    double total_malloc = scalene_mem_global.total_malloc_b;
    /* keys between "memory_samples" and "n_gpu_percent" in sort order */
    double total_await = scalene_tables.total_await_s;
    scalene_jw_key(w, "n_async_await_percent");
    scalene_jw_double(w, cpu && total_await > 0 ? 100.0 * cpu->await_s / total_await : 0);
    scalene_jw_key(w, "n_async_concurrency_mean");
    scalene_jw_double(w, cpu && cpu->conc_n ? cpu->conc_sum / (double)cpu->conc_n : 0);
    scalene_jw_key(w, "n_async_concurrency_peak");
    scalene_jw_double(w, cpu ? cpu->conc_peak : 0);
    /* mean of what the line held after each of its sampled allocations */
    double avg = mem->mallocs ? mem->avg_sum / (double)mem->mallocs : 0;
    scalene_jw_key(w, "n_avg_mb");
    scalene_jw_double(w, (avg < mem->peak_b ? avg : mem->peak_b) / MIB);
    scalene_jw_key(w, "n_copy_mb_s");
    scalene_jw_double(w, c->meta->elapsed_s > 0 ? mem->copy_b / MIB / c->meta->elapsed_s : 0);
    scalene_jw_key(w, "n_core_utilization");
    scalene_jw_double(w, cpu && cpu->samples ? cpu->util_sum / (double)cpu->samples : 0);
    scalene_jw_key(w, "n_cpu_percent_c");
    scalene_jw_double(w, cpu ? pct(c, cpu->native_s) : 0);
    scalene_jw_key(w, "n_cpu_percent_python");
    scalene_jw_double(w, cpu ? pct(c, cpu->python_s) : 0);
    double seconds = cpu ? cpu->python_s + cpu->native_s + cpu->system_s : 0;
    scalene_jw_key(w, "n_gpu_avg_memory_mb");
    scalene_jw_double(w, cpu && cpu->samples ? cpu->gpu_mem_sum / (double)cpu->samples : 0);
    scalene_jw_key(w, "n_gpu_peak_memory_mb");
    scalene_jw_double(w, cpu ? cpu->gpu_mem_peak : 0);
    scalene_jw_key(w, "n_gpu_percent");
    /* time-weighted mean utilisation while this line ran */
    scalene_jw_double(w, seconds > 0 ? 100.0 * cpu->gpu_util_time / seconds : 0);
    /* net growth: what the line's blocks still hold at the end */
    scalene_jw_key(w, "n_growth_mb");
    scalene_jw_double(w, (mem->current_b > 0 ? mem->current_b : 0) / MIB);
    scalene_jw_key(w, "n_malloc_mb");
    scalene_jw_double(w, mem->malloc_b / MIB);
    scalene_jw_key(w, "n_mallocs");
    scalene_jw_int(w, (int64_t)mem->mallocs);
    scalene_jw_key(w, "n_peak_mb");
    scalene_jw_double(w, mem->peak_b / MIB);
    scalene_jw_key(w, "n_python_fraction");
    scalene_jw_double(w, mem->malloc_b > 0 ? mem->python_b / mem->malloc_b : 0);
    scalene_jw_key(w, "n_sys_percent");
    scalene_jw_double(w, cpu ? pct(c, cpu->system_s) : 0);
    scalene_jw_key(w, "n_usage_fraction");
    scalene_jw_double(w, total_malloc > 0 ? mem->malloc_b / total_malloc : 0);
}

static int
cmp_point(const void *a, const void *b)
{
    double x = ((const double *)a)[0], y = ((const double *)b)[0];
    return (x > y) - (x < y);
}

/* A [[ns, MB], ...] timeline, sorted by time. */
static void
write_timeline(scalene_jw_t *w, const double (*points)[2], int32_t n)
{
    double sorted[SCALENE_MEM_TIMELINE][2];
    memcpy(sorted, points, (size_t)n * sizeof(sorted[0]));
    qsort(sorted, (size_t)n, sizeof(sorted[0]), cmp_point);
    scalene_jw_begin_inline_array(w);
    for (int32_t i = 0; i < n; i++) {
        scalene_jw_begin_inline_array(w);
        scalene_jw_int(w, (int64_t)sorted[i][0]);
        scalene_jw_double(w, sorted[i][1]);
        scalene_jw_end_array(w);
    }
    scalene_jw_end_array(w);
}

static int
cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static void
write_line(scalene_jw_t *w, const ctx_t *c, const scalene_file_meta_t *fm, int32_t lineno,
           const scalene_line_t *line)
{
    const int32_t *r = fm->regions ? &fm->regions[SCALENE_REGION_FIELDS * (lineno - 1)] : NULL;
    scalene_jw_begin_object(w);
    scalene_jw_key(w, "async_task_names");
    scalene_jw_begin_inline_array(w);
    scalene_jw_end_array(w);
    scalene_jw_key(w, "cpu_samples_list");
    scalene_jw_begin_inline_array(w);
    if (line != NULL && line->ntimes > 0) {
        double *sorted = malloc((size_t)line->ntimes * sizeof(double));
        if (sorted != NULL) {
            memcpy(sorted, line->times, (size_t)line->ntimes * sizeof(double));
            qsort(sorted, (size_t)line->ntimes, sizeof(double), cmp_double);
            for (int32_t i = 0; i < line->ntimes; i++) {
                scalene_jw_double(w, sorted[i]);
            }
            free(sorted);
        }
    }
    scalene_jw_end_array(w);
    scalene_jw_key(w, "end_function_line");
    scalene_jw_int(w, r ? r[5] : 0);
    scalene_jw_key(w, "end_outermost_loop");
    scalene_jw_int(w, r ? r[3] : lineno);
    scalene_jw_key(w, "end_region_line");
    scalene_jw_int(w, r ? r[1] : lineno);
    scalene_jw_key(w, "is_coroutine");
    scalene_jw_bool(w, r ? r[6] : 0);
    scalene_jw_key(w, "line");
    scalene_jw_string(w, fm->lines[lineno - 1], 1);
    scalene_jw_key(w, "lineno");
    scalene_jw_int(w, lineno);
    scalene_jw_key(w, "memory_samples");
    if (line != NULL) {
        write_timeline(w, (const double(*)[2])line->mem.timeline, line->mem.ntimeline);
    } else {
        scalene_jw_begin_inline_array(w);
        scalene_jw_end_array(w);
    }
    write_cpu_metrics_a(w, c, line ? &line->cpu : NULL, line ? &line->mem : NULL);
    scalene_jw_key(w, "start_function_line");
    scalene_jw_int(w, r ? r[4] : 0);
    scalene_jw_key(w, "start_outermost_loop");
    scalene_jw_int(w, r ? r[2] : lineno);
    scalene_jw_key(w, "start_region_line");
    scalene_jw_int(w, r ? r[0] : lineno);
    scalene_jw_end_object(w);
}

static const char *
qualified_name(const scalene_file_meta_t *fm, int32_t firstlineno, const char *name)
{
    if (fm != NULL) {
        for (int32_t i = 0; i < fm->nqual; i++) {
            if (fm->qual_first[i] == firstlineno && strcmp(fm->qual_name[i], name) == 0) {
                return fm->qual_qualname[i];
            }
        }
    }
    return name;
}

static const scalene_file_meta_t *
meta_for_file(const ctx_t *c, int32_t file)
{
    const char *name = scalene_strings_get(&scalene_tables.strings, scalene_tables.files[file].name);
    for (int32_t i = 0; i < c->meta->nfiles; i++) {
        if (strcmp(c->meta->files[i].name, name) == 0) {
            return &c->meta->files[i];
        }
    }
    return NULL;
}

static int
cmp_func_by_line(const void *a, const void *b)
{
    const scalene_func_t *x = *(const scalene_func_t *const *)a, *y = *(const scalene_func_t *const *)b;
    return (x->firstlineno > y->firstlineno) - (x->firstlineno < y->firstlineno);
}

static void
write_functions(scalene_jw_t *w, const ctx_t *c, int32_t file, const scalene_file_meta_t *fm)
{
    scalene_tables_t *t = &scalene_tables;
    const scalene_func_t **list = malloc((size_t)(t->nfuncs > 0 ? t->nfuncs : 1) * sizeof(*list));
    int32_t n = 0;
    for (int32_t i = 0; list != NULL && i < t->nfuncs; i++) {
        const char *name = scalene_strings_get(&t->strings, t->funcs[i].name);
        if (t->funcs[i].file == file && strcmp(name, "<module>") != 0 &&
            has_activity(&t->funcs[i].cpu, &t->funcs[i].mem)) {
            list[n++] = &t->funcs[i];
        }
    }
    qsort(list, (size_t)n, sizeof(*list), cmp_func_by_line);
    scalene_jw_begin_array(w);
    for (int32_t i = 0; i < n; i++) {
        const scalene_func_t *f = list[i];
        const char *name = qualified_name(fm, f->firstlineno, scalene_strings_get(&t->strings, f->name));
        scalene_jw_begin_object(w);
        scalene_jw_key(w, "async_task_names");
        scalene_jw_begin_inline_array(w);
        scalene_jw_end_array(w);
        scalene_jw_key(w, "cpu_samples_list");
        scalene_jw_begin_inline_array(w);
        scalene_jw_end_array(w);
        scalene_jw_key(w, "is_coroutine");
        scalene_jw_bool(w, 0);
        scalene_jw_key(w, "line");
        scalene_jw_string(w, name, 1);
        scalene_jw_key(w, "lineno");
        scalene_jw_int(w, f->firstlineno);
        scalene_jw_key(w, "memory_samples");
        scalene_jw_begin_inline_array(w);
        scalene_jw_end_array(w);
        write_cpu_metrics_a(w, c, &f->cpu, &f->mem);
        scalene_jw_end_object(w);
    }
    scalene_jw_end_array(w);
    free(list);
}

static void
write_file(scalene_jw_t *w, const ctx_t *c, const scalene_file_meta_t *fm)
{
    scalene_tables_t *t = &scalene_tables;
    int32_t name = scalene_strings_find(&t->strings, fm->name);
    int32_t file = name >= 0 ? scalene_map_get(&t->file_index, (uint64_t)name) : -1;
    scalene_jw_key(w, fm->name);
    scalene_jw_begin_object(w);
    scalene_jw_key(w, "functions");
    if (file >= 0) {
        write_functions(w, c, file, fm);
    } else {
        scalene_jw_begin_array(w);
        scalene_jw_end_array(w);
    }
    scalene_jw_key(w, "imports");
    scalene_jw_begin_array(w);
    for (int32_t i = 0; i < fm->nimports; i++) {
        scalene_jw_string(w, fm->imports[i], 0);
    }
    scalene_jw_end_array(w);
    scalene_jw_key(w, "leaks");
    scalene_jw_begin_object(w);
    for (int32_t ln = 1; file >= 0 && c->meta->leak_detector && ln <= fm->nlines; ln++) {
        const scalene_line_t *line = scalene_agg_find_line(file, ln);
        if (line == NULL) {
            continue;
        }
        const scalene_mem_totals_t *m = &line->mem;
        /* Of the blocks this line allocated (sampled), how many were freed:
         * Laplace's rule of succession for "the next one is kept too". */
        double likelihood = 1.0 - ((double)m->frees + 1.0) / ((double)m->mallocs - (double)m->frees + 2.0);
        if (m->mallocs >= 8 && likelihood >= 0.95 && m->current_b > 0.01 * scalene_mem_global.max_footprint_b) {
            char key[16];
            snprintf(key, sizeof(key), "%d", ln);
            scalene_jw_key(w, key);
            scalene_jw_begin_object(w);
            scalene_jw_key(w, "likelihood");
            scalene_jw_double(w, likelihood);
            scalene_jw_key(w, "velocity_mb_s");
            scalene_jw_double(w, c->meta->elapsed_s > 0 ? m->current_b / MIB / c->meta->elapsed_s : 0);
            scalene_jw_end_object(w);
        }
    }
    scalene_jw_end_object(w);
    scalene_jw_key(w, "lines");
    scalene_jw_begin_array(w);
    for (int32_t ln = 1; ln <= fm->nlines; ln++) {
        const scalene_line_t *line = file >= 0 ? scalene_agg_find_line(file, ln) : NULL;
        if (c->meta->reduced && !(line && has_activity(&line->cpu, &line->mem))) {
            continue;
        }
        write_line(w, c, fm, ln, line);
    }
    scalene_jw_end_array(w);
    scalene_jw_key(w, "percent_cpu_time");
    if (file >= 0) {
        const scalene_cpu_totals_t *cpu = &t->files[file].cpu;
        scalene_jw_double(w, pct(c, cpu->python_s + cpu->native_s + cpu->system_s));
    } else {
        scalene_jw_double(w, 0);
    }
    scalene_jw_end_object(w);
}

/* A frame's function: its qualname from the file's AST, where known. */
static const char *
frame_qualname(const ctx_t *c, int32_t file, int32_t name)
{
    scalene_tables_t *t = &scalene_tables;
    const char *qual = scalene_strings_get(&t->strings, name);
    const scalene_file_meta_t *fm = meta_for_file(c, file);
    if (fm != NULL) {
        for (int32_t k = 0; k < t->nfuncs; k++) {
            if (t->funcs[k].file == file && t->funcs[k].name == name) {
                return qualified_name(fm, t->funcs[k].firstlineno, qual);
            }
        }
    }
    return qual;
}

/* Python frames of a stack: all but a native leaf. */
static int32_t
python_depth(const scalene_stack_t *st)
{
    int32_t n = st->nframes;
    return n > 0 && st->frames[3 * (n - 1)] == SCALENE_NATIVE_FRAME ? n - 1 : n;
}

static int
cmp_python_prefix_only(int32_t a, int32_t b)
{
    const scalene_stack_t *x = &scalene_tables.stacks[a], *y = &scalene_tables.stacks[b];
    int32_t nx = python_depth(x), ny = python_depth(y);
    if (nx != ny) {
        return nx < ny ? -1 : 1;
    }
    return memcmp(x->frames, y->frames, (size_t)nx * 3 * sizeof(int32_t));
}

static int
cmp_python_prefix(const void *a, const void *b)
{
    int32_t x = *(const int32_t *)a, y = *(const int32_t *)b;
    int r = cmp_python_prefix_only(x, y);
    return r != 0 ? r : (x < y ? -1 : x > y); /* within a group: first seen first */
}

static int
cmp_i64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return x < y ? -1 : x > y;
}

static void
write_native_leaf(scalene_jw_t *w, const ctx_t *c, const scalene_stack_t *st)
{
    scalene_tables_t *t = &scalene_tables;
    const int32_t *leaf = &st->frames[3 * (st->nframes - 1)];
    double total = c->total > 0 ? c->total : 1;
    scalene_jw_begin_object(w);
    scalene_jw_key(w, "c_time");
    scalene_jw_double(w, st->cpu.native_s / total);
    scalene_jw_key(w, "count");
    scalene_jw_int(w, (int64_t)st->cpu.samples);
    scalene_jw_key(w, "module");
    scalene_jw_string(w, scalene_strings_get(&t->strings, leaf[2]), 0);
    scalene_jw_key(w, "symbol");
    scalene_jw_string(w, scalene_strings_get(&t->strings, leaf[1]), 0);
    scalene_jw_end_object(w);
}

/* "stacks": Python frames only (as the reference has them), so stacks that
 * differ only in their native leaf are one entry; its native leaves are
 * listed under "native_leaves", each with its share of the C time. */
static void
write_stacks(scalene_jw_t *w, const ctx_t *c)
{
    scalene_tables_t *t = &scalene_tables;
    char frame[1024];
    int32_t *order = malloc((size_t)(t->nstacks > 0 ? t->nstacks : 1) * sizeof(int32_t));
    scalene_jw_begin_array(w);
    if (order == NULL) {
        scalene_jw_end_array(w);
        return;
    }
    for (int32_t i = 0; i < t->nstacks; i++) {
        order[i] = i;
    }
    qsort(order, (size_t)t->nstacks, sizeof(int32_t), cmp_python_prefix);
    /* groups of equal Python frames, written in order of first appearance:
     * (first stack index, start in order) pairs, sorted */
    int64_t *groups = malloc((size_t)(t->nstacks > 0 ? t->nstacks : 1) * sizeof(int64_t));
    int32_t ngroups = 0;
    for (int32_t g = 0; groups != NULL && g < t->nstacks; g++) {
        if (g == 0 || cmp_python_prefix_only(order[g - 1], order[g]) != 0) {
            groups[ngroups++] = (int64_t)order[g] << 32 | (uint32_t)g; /* head: the group's smallest index */
        }
    }
    if (groups != NULL) {
        qsort(groups, (size_t)ngroups, sizeof(int64_t), cmp_i64);
    }
    double total = c->total > 0 ? c->total : 1;
    for (int32_t gi = 0; gi < ngroups; gi++) {
        int32_t g = (int32_t)(uint32_t)groups[gi];
        const scalene_stack_t *head = &t->stacks[order[g]];
        int32_t depth = python_depth(head), end = g + 1;
        while (end < t->nstacks && cmp_python_prefix_only(order[g], order[end]) == 0) {
            end++;
        }
        scalene_cpu_totals_t sum = {0};
        int leaves = 0;
        for (int32_t k = g; k < end; k++) {
            scalene_cpu_totals_add(&sum, &t->stacks[order[k]].cpu);
            leaves += python_depth(&t->stacks[order[k]]) < t->stacks[order[k]].nframes;
        }
        if (sum.samples == 0) {
            continue; /* seen by memory samples only: in memory_stacks */
        }
        scalene_jw_begin_array(w);
        scalene_jw_begin_array(w);
        for (int32_t j = 0; j < depth; j++) {
            int32_t file = head->frames[3 * j], name = head->frames[3 * j + 1], lineno = head->frames[3 * j + 2];
            snprintf(frame, sizeof(frame), "%s %s:%d;", scalene_strings_get(&t->strings, t->files[file].name),
                     frame_qualname(c, file, name), lineno);
            scalene_jw_string(w, frame, 0);
        }
        scalene_jw_end_array(w);
        scalene_jw_begin_object(w);
        scalene_jw_key(w, "c_time");
        scalene_jw_double(w, sum.native_s / total);
        scalene_jw_key(w, "count");
        scalene_jw_int(w, (int64_t)sum.samples);
        scalene_jw_key(w, "cpu_samples");
        scalene_jw_double(w, (sum.python_s + sum.native_s + sum.system_s) / total);
        if (leaves > 0) {
            scalene_jw_key(w, "native_leaves");
            scalene_jw_begin_array(w);
            for (int32_t k = g; k < end; k++) {
                const scalene_stack_t *st = &t->stacks[order[k]];
                if (python_depth(st) < st->nframes) {
                    write_native_leaf(w, c, st);
                }
            }
            scalene_jw_end_array(w);
        }
        scalene_jw_key(w, "python_time");
        scalene_jw_double(w, sum.python_s / total);
        scalene_jw_key(w, "sys_time");
        scalene_jw_double(w, sum.system_s / total);
        scalene_jw_end_object(w);
        scalene_jw_end_array(w);
    }
    free(groups);
    free(order);
    scalene_jw_end_array(w);
}

/* A stack's frames as combined_stacks and memory_stacks write them. */
static void
write_frame_dicts(scalene_jw_t *w, const ctx_t *c, const scalene_stack_t *st)
{
    scalene_tables_t *t = &scalene_tables;
    scalene_jw_begin_array(w);
    for (int32_t j = 0; j < st->nframes; j++) {
        const int32_t *f = &st->frames[3 * j];
        scalene_jw_begin_object(w);
        if (f[0] == SCALENE_NATIVE_FRAME) {
            scalene_jw_key(w, "display_name");
            scalene_jw_string(w, scalene_strings_get(&t->strings, f[1]), 0);
            scalene_jw_key(w, "filename_or_module");
            scalene_jw_string(w, scalene_strings_get(&t->strings, f[2]), 0);
            scalene_jw_key(w, "kind");
            scalene_jw_string(w, "native", 0);
        } else {
            scalene_jw_key(w, "display_name");
            scalene_jw_string(w, frame_qualname(c, f[0], f[1]), 0);
            scalene_jw_key(w, "filename_or_module");
            scalene_jw_string(w, scalene_strings_get(&t->strings, t->files[f[0]].name), 0);
            scalene_jw_key(w, "kind");
            scalene_jw_string(w, "py", 0);
            scalene_jw_key(w, "line");
            scalene_jw_int(w, f[2]);
        }
        scalene_jw_end_object(w);
    }
    scalene_jw_end_array(w);
}

/* Position of stack i in combined_stacks, which leaves out the stacks that
 * only memory samples saw (no CPU sample, so no timeline run points there). */
static int32_t *
combined_positions(void)
{
    scalene_tables_t *t = &scalene_tables;
    int32_t *pos = malloc((size_t)(t->nstacks > 0 ? t->nstacks : 1) * sizeof(int32_t));
    int32_t next = 0;
    for (int32_t i = 0; pos != NULL && i < t->nstacks; i++) {
        pos[i] = t->stacks[i].cpu.samples > 0 ? next++ : -1;
    }
    return pos;
}

/* "combined_stacks": every stack as recorded, Python frames and the native
 * leaf, with its sample count; the timeline's stack_index points here. */
static void
write_combined_stacks(scalene_jw_t *w, const ctx_t *c)
{
    scalene_tables_t *t = &scalene_tables;
    scalene_jw_begin_array(w);
    for (int32_t i = 0; i < t->nstacks; i++) {
        const scalene_stack_t *st = &t->stacks[i];
        if (st->cpu.samples == 0) {
            continue; /* as in combined_positions() */
        }
        scalene_jw_begin_array(w);
        write_frame_dicts(w, c, st);
        scalene_jw_int(w, (int64_t)st->cpu.samples);
        scalene_jw_end_array(w);
    }
    scalene_jw_end_array(w);
}

/* "memory_stacks": the Python stacks of sampled allocations, MB each. */
static void
write_memory_stacks(scalene_jw_t *w, const ctx_t *c)
{
    scalene_tables_t *t = &scalene_tables;
    scalene_jw_begin_array(w);
    for (int32_t i = 0; i < t->nstacks; i++) {
        const scalene_stack_t *st = &t->stacks[i];
        if (st->malloc_b <= 0) {
            continue;
        }
        scalene_jw_begin_array(w);
        write_frame_dicts(w, c, st);
        scalene_jw_double(w, (double)(int64_t)(st->malloc_b / MIB * 1e6 + 0.5) / 1e6);
        scalene_jw_end_array(w);
    }
    scalene_jw_end_array(w);
}

static int
cmp_run_time(const void *a, const void *b)
{
    const scalene_stack_run_t *x = &scalene_tables.runs[*(const int32_t *)a];
    const scalene_stack_run_t *y = &scalene_tables.runs[*(const int32_t *)b];
    if (x->t != y->t) {
        return x->t < y->t ? -1 : 1;
    }
    return *(const int32_t *)a < *(const int32_t *)b ? -1 : 1;
}

/* Runs in time order (merged children's runs were appended after ours),
 * t_sec from the first sample of any process. */
static void
write_combined_timeline(scalene_jw_t *w)
{
    scalene_tables_t *t = &scalene_tables;
    int32_t *order = malloc((size_t)(t->nruns > 0 ? t->nruns : 1) * sizeof(int32_t));
    int32_t *pos = combined_positions();
    scalene_jw_begin_array(w);
    if (order == NULL || pos == NULL) {
        free(order);
        free(pos);
        scalene_jw_end_array(w);
        return;
    }
    for (int32_t i = 0; i < t->nruns; i++) {
        order[i] = i;
    }
    qsort(order, (size_t)t->nruns, sizeof(int32_t), cmp_run_time);
    double origin = t->nruns > 0 ? t->runs[order[0]].t : 0;
    for (int32_t i = 0; i < t->nruns; i++) {
        const scalene_stack_run_t *r = &t->runs[order[i]];
        if (r->stack < 0 || r->stack >= t->nstacks || pos[r->stack] < 0) {
            continue;
        }
        scalene_jw_begin_object(w);
        scalene_jw_key(w, "count");
        scalene_jw_int(w, r->count);
        scalene_jw_key(w, "pid");
        scalene_jw_int(w, r->pid);
        scalene_jw_key(w, "stack_index");
        scalene_jw_int(w, pos[r->stack]);
        scalene_jw_key(w, "t_sec");
        scalene_jw_double(w, (double)(int64_t)((r->t - origin) * 1e6 + 0.5) / 1e6);
        scalene_jw_key(w, "thread_id");
        scalene_jw_int(w, (int64_t)r->thread);
        scalene_jw_end_object(w);
    }
    free(order);
    free(pos);
    scalene_jw_end_array(w);
}

static void
write_profiler_section(scalene_jw_t *w, const ctx_t *c)
{
    scalene_sampler_counters_t k;
    scalene_sampler_counters(&k);
    scalene_tables_t *t = &scalene_tables;
    struct {
        const char *key;
        int kind; /* 0 int, 1 double, 2 snippet */
        int64_t i;
        double d;
        const char *json;
    } items[64];
    int n = 0;
#define ITEM_I(K, V) items[n++] = (typeof(items[0])){.key = (K), .kind = 0, .i = (int64_t)(V)}
#define ITEM_D(K, V) items[n++] = (typeof(items[0])){.key = (K), .kind = 1, .d = (V)}
    ITEM_I("cpu_samples", k.cpu_samples + t->merged_cpu_samples);
    ITEM_I("idle_samples", k.idle_samples + t->merged_idle_samples);
    ITEM_I("dropped_samples", k.dropped_samples + t->merged_dropped_samples);
    ITEM_I("dropped_code_names", k.dropped_code_names + t->merged_dropped_code_names);
    ITEM_I("dropped_memory_samples", k.dropped_memory_samples + t->merged_dropped_memory_samples);
    ITEM_I("timer_failures", k.timer_failures);
    ITEM_I("frame_walk_faults", k.walk_faults);
    ITEM_I("threads_seen", scalene_sampler_threads_seen() + t->merged_threads);
    ITEM_I("processes", 1 + t->merged_processes);
    ITEM_I("attributed_samples", t->samples);
    ITEM_I("unattributed_samples", t->unattributed_samples);
    ITEM_D("total_sampled_sec", c->total);
    ITEM_D("unattributed_sec", t->unattributed_s);
#undef ITEM_I
#undef ITEM_D
    for (int32_t i = 0; i < c->meta->nprof && n < 64; i++) {
        items[n++] = (typeof(items[0])){.key = c->meta->prof_keys[i], .kind = 2, .json = c->meta->prof_json[i]};
    }
    /* sorted keys, like everything else in the file */
    for (int i = 1; i < n; i++) {
        for (int j = i; j > 0 && strcmp(items[j - 1].key, items[j].key) > 0; j--) {
            typeof(items[0]) tmp = items[j];
            items[j] = items[j - 1];
            items[j - 1] = tmp;
        }
    }
    scalene_jw_begin_object(w);
    for (int i = 0; i < n; i++) {
        scalene_jw_key(w, items[i].key);
        if (items[i].kind == 0) {
            scalene_jw_int(w, items[i].i);
        } else if (items[i].kind == 1) {
            scalene_jw_double(w, items[i].d);
        } else {
            scalene_jw_raw(w, items[i].json);
        }
    }
    scalene_jw_end_object(w);
}

/* Top-level keys the engine owns; Python supplies the others. */
enum {
    K_ALLOC_SAMPLES, K_COMBINED_STACKS, K_COMBINED_TIMELINE, K_FILES, K_GROWTH, K_MAX_FNAME, K_MAX_LINENO,
    K_MAX_MB, K_MAX_PYFRAC, K_MEMORY_STACKS, K_NATIVE_MB, K_PROFILER, K_SAMPLES, K_STACKS, K_COUNT
};
static const char *const engine_keys[K_COUNT] = {
    "alloc_samples", "combined_stacks", "combined_stacks_timeline", "files", "growth_rate",
    "max_footprint_fname", "max_footprint_lineno", "max_footprint_mb", "max_footprint_python_fraction",
    "memory_stacks", "native_allocations_mb", "profiler", "samples", "stacks",
};

static void
write_engine_key(scalene_jw_t *w, const ctx_t *c, int k)
{
    const scalene_mem_global_t *g = &scalene_mem_global;
    switch (k) {
    case K_ALLOC_SAMPLES:
        scalene_jw_int(w, (int64_t)g->records);
        break;
    case K_SAMPLES:
        write_timeline(w, (const double(*)[2])g->timeline, g->ntimeline);
        break;
    case K_COMBINED_STACKS:
        write_combined_stacks(w, c);
        break;
    case K_COMBINED_TIMELINE:
        write_combined_timeline(w);
        break;
    case K_MEMORY_STACKS:
        write_memory_stacks(w, c);
        break;
    case K_FILES:
        scalene_jw_begin_object(w);
        for (int32_t i = 0; i < c->meta->nfiles; i++) {
            write_file(w, c, &c->meta->files[i]);
        }
        scalene_jw_end_object(w);
        break;
    case K_MAX_FNAME:
        if (g->max_file >= 0 && g->max_file < scalene_tables.nfiles) {
            scalene_jw_string(w, scalene_strings_get(&scalene_tables.strings, scalene_tables.files[g->max_file].name), 0);
        } else {
            scalene_jw_null(w);
        }
        break;
    case K_MAX_LINENO:
        if (g->max_file >= 0) {
            scalene_jw_int(w, g->max_lineno);
        } else {
            scalene_jw_null(w);
        }
        break;
    case K_GROWTH:
        /* net change of the footprint as a share of all allocation */
        scalene_jw_double(w, g->total_malloc_b > 0 ? 100.0 * g->footprint_b / g->total_malloc_b : 0);
        break;
    case K_MAX_MB:
        scalene_jw_double(w, g->max_footprint_b / MIB);
        break;
    case K_MAX_PYFRAC:
        scalene_jw_double(w, g->max_python_fraction);
        break;
    case K_NATIVE_MB:
        scalene_jw_double(w, g->native_b / MIB);
        break;
    case K_PROFILER:
        write_profiler_section(w, c);
        break;
    case K_STACKS:
        write_stacks(w, c);
        break;
    }
}

static int
write_all(FILE *out, const scalene_profile_meta_t *meta)
{
    ctx_t c = {.meta = meta, .total = scalene_tables.total_s};
    scalene_jw_t w;
    scalene_jw_init(&w, out);
    scalene_jw_begin_object(&w);
    /* merge the engine's keys and Python's, both in sorted order */
    int32_t total = K_COUNT + meta->nmeta;
    const char **keys = malloc((size_t)total * sizeof(char *));
    int32_t *who = malloc((size_t)total * sizeof(int32_t));
    if (keys == NULL || who == NULL) {
        free(keys);
        free(who);
        return -1;
    }
    int32_t n = 0;
    for (int k = 0; k < K_COUNT; k++) {
        keys[n] = engine_keys[k];
        who[n++] = -1 - k;
    }
    for (int32_t i = 0; i < meta->nmeta; i++) {
        int dup = 0;
        for (int k = 0; k < K_COUNT; k++) {
            dup |= strcmp(meta->meta_keys[i], engine_keys[k]) == 0;
        }
        if (!dup) {
            keys[n] = meta->meta_keys[i];
            who[n++] = i;
        }
    }
    for (int32_t i = 1; i < n; i++) {
        for (int32_t j = i; j > 0 && strcmp(keys[j - 1], keys[j]) > 0; j--) {
            const char *tk = keys[j];
            keys[j] = keys[j - 1];
            keys[j - 1] = tk;
            int32_t tw = who[j];
            who[j] = who[j - 1];
            who[j - 1] = tw;
        }
    }
    for (int32_t i = 0; i < n; i++) {
        scalene_jw_key(&w, keys[i]);
        if (who[i] < 0) {
            write_engine_key(&w, &c, -1 - who[i]);
        } else {
            scalene_jw_raw(&w, meta->meta_json[who[i]]);
        }
    }
    free(keys);
    free(who);
    scalene_jw_end_object(&w);
    if (fputs("\n", out) < 0) {
        return -1;
    }
    return scalene_jw_failed(&w) ? -1 : 0;
}

int
scalene_write_profile(const char *path, const scalene_profile_meta_t *meta, char *why, size_t why_len)
{
    size_t n = strlen(path) + 32;
    char *tmp = malloc(n);
    if (tmp == NULL) {
        snprintf(why, why_len, "out of memory");
        return -1;
    }
    snprintf(tmp, n, "%s.tmp%d", path, (int)getpid());
    FILE *out = fopen(tmp, "w");
    if (out == NULL) {
        snprintf(why, why_len, "cannot write %s: %s", path, strerror(errno));
        free(tmp);
        return -1;
    }
    setvbuf(out, NULL, _IOFBF, 1 << 16);
    scalene_agg_lock();
    int rc = write_all(out, meta);
    scalene_agg_unlock();
    if (fclose(out) != 0) {
        rc = -1;
    }
    if (rc == 0 && rename(tmp, path) != 0) {
        rc = -1;
    }
    if (rc != 0) {
        snprintf(why, why_len, "cannot write %s: %s", path, strerror(errno ? errno : EIO));
        unlink(tmp);
    }
    free(tmp);
    return rc;
}
