/* persist.c: see persist.h. */
#include "persist.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "aggregate.h"
#include "sampler.h"

#define MAGIC "SCALENE-TABLES\n"

/* A child that is switched off and on (python3 -m scalene.profile) dumps its
 * tables at each "off" and then forgets them, so a process can leave several
 * dumps, each holding what is new since the previous one.  These two let the
 * parent count the process once and its threads once: the number of dumps
 * this process wrote before, and the threads they covered.  Written only by
 * scalene_persist_dump, which the Python side never runs concurrently (its
 * session lock); reset in a forked child. */
static uint64_t dumps_written;
static uint64_t threads_dumped;

/* Changes whenever a dumped struct changes shape. */
static uint32_t
layout_stamp(void)
{
    return (uint32_t)(sizeof(scalene_cpu_totals_t) * 1000003u + sizeof(scalene_mem_totals_t) * 131u +
                      sizeof(scalene_mem_global_t) * 7u + sizeof(scalene_stack_run_t) * 17u + 9u);
}

/* ------------------------------------------------------------------ dump */

typedef struct {
    FILE *f;
    int failed;
} out_t;

static void
put(out_t *o, const void *p, size_t n)
{
    if (!o->failed && n > 0 && fwrite(p, 1, n, o->f) != n) {
        o->failed = 1;
    }
}

static void
put_i32(out_t *o, int32_t v)
{
    put(o, &v, sizeof(v));
}

static void
dump_unlocked(out_t *o)
{
    scalene_tables_t *t = &scalene_tables;
    uint32_t stamp = layout_stamp();
    put(o, MAGIC, sizeof(MAGIC) - 1);
    put(o, &stamp, sizeof(stamp));
    put_i32(o, (int32_t)t->strings.count);
    for (size_t i = 0; i < t->strings.count; i++) {
        int32_t len = (int32_t)strlen(t->strings.strings[i]);
        put_i32(o, len);
        put(o, t->strings.strings[i], (size_t)len);
    }
    put_i32(o, t->nfiles);
    for (int32_t i = 0; i < t->nfiles; i++) {
        put_i32(o, t->files[i].name);
    }
    put_i32(o, t->nlines);
    for (int32_t i = 0; i < t->nlines; i++) {
        const scalene_line_t *l = &t->lines[i];
        put_i32(o, l->file);
        put_i32(o, l->lineno);
        put(o, &l->cpu, sizeof(l->cpu));
        put(o, &l->mem, sizeof(l->mem));
        put_i32(o, l->ntimes);
        put(o, l->times, (size_t)l->ntimes * sizeof(double));
    }
    put_i32(o, t->nfuncs);
    for (int32_t i = 0; i < t->nfuncs; i++) {
        const scalene_func_t *fn = &t->funcs[i];
        put_i32(o, fn->file);
        put_i32(o, fn->firstlineno);
        put_i32(o, fn->name);
        put(o, &fn->cpu, sizeof(fn->cpu));
        put(o, &fn->mem, sizeof(fn->mem));
    }
    put_i32(o, t->nstacks);
    for (int32_t i = 0; i < t->nstacks; i++) {
        const scalene_stack_t *st = &t->stacks[i];
        put_i32(o, st->nframes);
        put(o, st->frames, (size_t)st->nframes * 3 * sizeof(int32_t));
        put(o, &st->cpu, sizeof(st->cpu));
        put(o, &st->malloc_b, sizeof(st->malloc_b));
    }
    put_i32(o, t->nruns);
    put(o, t->runs, (size_t)t->nruns * sizeof(scalene_stack_run_t));
    scalene_sampler_counters_t k;
    scalene_sampler_counters(&k);
    double totals[3] = {t->total_s, t->unattributed_s, t->total_await_s};
    uint64_t threads = scalene_sampler_threads_seen();
    uint64_t counts[9] = {t->samples,        t->unattributed_samples,    k.cpu_samples, k.idle_samples,
                          k.dropped_samples, threads - threads_dumped, dumps_written,
                          k.dropped_code_names, k.dropped_memory_samples};
    put(o, totals, sizeof(totals));
    put(o, counts, sizeof(counts));
    put(o, &scalene_mem_global, sizeof(scalene_mem_global));
    put(o, MAGIC, sizeof(MAGIC) - 1); /* trailer: the file is complete */
}

int
scalene_persist_dump(const char *path, char *why, size_t why_len)
{
    size_t n = strlen(path) + 32;
    char *tmp = malloc(n);
    if (tmp == NULL) {
        snprintf(why, why_len, "out of memory");
        return -1;
    }
    snprintf(tmp, n, "%s.tmp%d", path, (int)getpid());
    out_t o = {.f = fopen(tmp, "wb")};
    if (o.f == NULL) {
        snprintf(why, why_len, "cannot write %s: %s", tmp, strerror(errno));
        free(tmp);
        return -1;
    }
    scalene_agg_lock();
    dump_unlocked(&o);
    scalene_agg_unlock();
    if (fclose(o.f) != 0) {
        o.failed = 1;
    }
    if (o.failed || rename(tmp, path) != 0) {
        snprintf(why, why_len, "cannot write %s: %s", path, strerror(errno ? errno : EIO));
        unlink(tmp);
        free(tmp);
        return -1;
    }
    free(tmp);
    dumps_written++;
    threads_dumped = scalene_sampler_threads_seen();
    return 0;
}

void
scalene_persist_after_fork_child(void)
{
    dumps_written = 0;
    threads_dumped = 0;
}

/* ----------------------------------------------------------------- merge */

typedef struct {
    const char *p, *end;
    int failed;
} in_t;

static void
get(in_t *in, void *dst, size_t n)
{
    if (in->failed || (size_t)(in->end - in->p) < n) {
        in->failed = 1;
        memset(dst, 0, n);
        return;
    }
    memcpy(dst, in->p, n);
    in->p += n;
}

static int32_t
get_count(in_t *in, int32_t max)
{
    int32_t v;
    get(in, &v, sizeof(v));
    if (v < 0 || v > max) {
        in->failed = 1;
        return 0;
    }
    return v;
}

/* Only complete files get here (the caller checked the trailer); every id is
 * bounds-checked as it is read, and reading stops at the first bad value. */
static int
merge_unlocked(in_t *in)
{
    scalene_tables_t *t = &scalene_tables;
    char magic[sizeof(MAGIC) - 1];
    uint32_t stamp;
    get(in, magic, sizeof(magic));
    get(in, &stamp, sizeof(stamp));
    if (in->failed || memcmp(magic, MAGIC, sizeof(magic)) != 0 || stamp != layout_stamp()) {
        return -1;
    }
    /* Check the string section before interning anything. */
    in_t scan = *in;
    int32_t nstrings = get_count(&scan, 1 << 26);
    for (int32_t i = 0; i < nstrings && !scan.failed; i++) {
        int32_t len = get_count(&scan, 1 << 20);
        scan.p += len <= scan.end - scan.p ? len : 0;
    }
    if (scan.failed) {
        return -1;
    }
    /* Strings: remap the child's ids to ours. */
    int32_t *str_map = calloc((size_t)(nstrings > 0 ? nstrings : 1), sizeof(int32_t));
    int32_t *file_map = NULL;
    if (str_map == NULL) {
        return -1;
    }
    int rc = -1;
    int32_t n = get_count(in, 1 << 26);
    for (int32_t i = 0; i < n && !in->failed; i++) {
        int32_t len = get_count(in, 1 << 20);
        char *text = malloc((size_t)len + 1);
        if (text == NULL) {
            goto out;
        }
        get(in, text, (size_t)len);
        text[len] = '\0';
        str_map[i] = scalene_strings_intern(&t->strings, text);
        free(text);
    }
    int32_t nfiles = get_count(in, 1 << 24);
    file_map = calloc((size_t)(nfiles > 0 ? nfiles : 1), sizeof(int32_t));
    if (file_map == NULL) {
        goto out;
    }
    for (int32_t i = 0; i < nfiles && !in->failed; i++) {
        int32_t name = get_count(in, nstrings - 1);
        file_map[i] = in->failed ? -1 : scalene_agg_file_for_name_unlocked(str_map[name]);
    }
    int32_t nlines = get_count(in, 1 << 26);
    for (int32_t i = 0; i < nlines && !in->failed; i++) {
        int32_t file = get_count(in, nfiles - 1), lineno;
        get(in, &lineno, sizeof(lineno));
        scalene_cpu_totals_t cpu;
        get(in, &cpu, sizeof(cpu));
        static scalene_mem_totals_t mem;
        get(in, &mem, sizeof(mem));
        int32_t ntimes = get_count(in, SCALENE_LINE_RESERVOIR);
        double times[SCALENE_LINE_RESERVOIR];
        get(in, times, (size_t)ntimes * sizeof(double));
        if (in->failed || file_map[file] < 0) {
            continue;
        }
        scalene_cpu_totals_add(&t->files[file_map[file]].cpu, &cpu); /* a file's totals are its lines' */
        t->files[file_map[file]].malloc_b += mem.malloc_b;
        t->files[file_map[file]].mallocs += mem.mallocs;
        scalene_line_t *line = scalene_agg_line_entry_unlocked(file_map[file], lineno);
        if (line != NULL) {
            uint64_t before = line->cpu.samples;
            scalene_cpu_totals_add(&line->cpu, &cpu);
            scalene_mem_totals_add(&line->mem, &mem);
            line->cpu.samples = before;
            for (int32_t j = 0; j < ntimes; j++) {
                line->cpu.samples++; /* the reservoir draws by sample count */
                scalene_agg_reservoir_add_unlocked(line, times[j]);
            }
            line->cpu.samples = before + cpu.samples;
        }
    }
    int32_t nfuncs = get_count(in, 1 << 26);
    for (int32_t i = 0; i < nfuncs && !in->failed; i++) {
        int32_t file = get_count(in, nfiles - 1), first, name;
        get(in, &first, sizeof(first));
        name = get_count(in, nstrings - 1);
        scalene_cpu_totals_t cpu;
        get(in, &cpu, sizeof(cpu));
        static scalene_mem_totals_t mem;
        get(in, &mem, sizeof(mem));
        if (in->failed || file_map[file] < 0) {
            continue;
        }
        scalene_func_t *fn = scalene_agg_func_entry_unlocked(file_map[file], first, str_map[name]);
        if (fn != NULL) {
            scalene_cpu_totals_add(&fn->cpu, &cpu);
            scalene_mem_totals_add(&fn->mem, &mem);
        }
    }
    int32_t nstacks = get_count(in, 1 << 26);
    /* the child's stack index -> ours, for its timeline (-1: dropped) */
    int32_t *stack_map = malloc((size_t)(nstacks > 0 ? nstacks : 1) * sizeof(int32_t));
    if (stack_map == NULL) {
        in->failed = 1;
    }
    for (int32_t i = 0; i < nstacks && !in->failed; i++) {
        int32_t nframes = get_count(in, SCALENE_MAX_STACK_FRAMES);
        int32_t triples[3 * SCALENE_MAX_STACK_FRAMES];
        get(in, triples, (size_t)nframes * 3 * sizeof(int32_t));
        scalene_cpu_totals_t cpu;
        double malloc_b;
        get(in, &cpu, sizeof(cpu));
        get(in, &malloc_b, sizeof(malloc_b));
        int ok = !in->failed;
        for (int32_t j = 0; ok && j < nframes; j++) {
            int32_t f = triples[3 * j], nm = triples[3 * j + 1], ln = triples[3 * j + 2];
            if (f == SCALENE_NATIVE_FRAME) { /* (marker, symbol, module) */
                ok = j == nframes - 1 && nm >= 0 && nm < nstrings && ln >= 0 && ln < nstrings;
                if (ok) {
                    triples[3 * j + 1] = str_map[nm];
                    triples[3 * j + 2] = str_map[ln];
                }
                continue;
            }
            ok = f >= 0 && f < nfiles && file_map[f] >= 0 && nm >= 0 && nm < nstrings;
            if (ok) {
                triples[3 * j] = file_map[f];
                triples[3 * j + 1] = str_map[nm];
            }
        }
        scalene_stack_t *st = ok ? scalene_agg_stack_entry_unlocked(triples, nframes) : NULL;
        if (st != NULL) {
            scalene_cpu_totals_add(&st->cpu, &cpu);
            st->malloc_b += malloc_b;
        }
        stack_map[i] = st != NULL ? (int32_t)(st - t->stacks) : -1;
    }
    int32_t nruns = get_count(in, SCALENE_MAX_STACK_RUNS);
    for (int32_t i = 0; i < nruns && !in->failed; i++) {
        scalene_stack_run_t run;
        get(in, &run, sizeof(run));
        if (!in->failed && run.stack >= 0 && run.stack < nstacks && stack_map[run.stack] >= 0) {
            run.stack = stack_map[run.stack];
            scalene_agg_add_run_unlocked(&run);
        }
    }
    free(stack_map);
    double totals[3];
    uint64_t counts[9];
    static scalene_mem_global_t mg;
    get(in, totals, sizeof(totals));
    get(in, counts, sizeof(counts));
    get(in, &mg, sizeof(mg));
    if (!in->failed) {
        t->total_s += totals[0];
        t->unattributed_s += totals[1];
        t->total_await_s += totals[2];
        t->samples += counts[0];
        t->unattributed_samples += counts[1];
        t->merged_cpu_samples += counts[2];
        t->merged_idle_samples += counts[3];
        t->merged_dropped_samples += counts[4];
        t->merged_threads += counts[5];
        t->merged_dropped_code_names += counts[7];
        t->merged_dropped_memory_samples += counts[8];
        if (counts[6] == 0) { /* the process's first dump */
            t->merged_processes++;
        }
        scalene_mem_global_t *g = &scalene_mem_global;
        g->records += mg.records;
        g->total_malloc_b += mg.total_malloc_b;
        g->native_b += mg.native_b;
        if (mg.max_footprint_b > g->max_footprint_b) { /* the parent's own place stays unknown */
            g->max_footprint_b = mg.max_footprint_b;
            g->max_python_fraction = mg.max_python_fraction;
            g->max_file = -1;
            g->max_lineno = -1;
        }
        rc = 0;
    }
out:
    free(str_map);
    free(file_map);
    return rc;
}

int
scalene_persist_merge(const char *path, char *why, size_t why_len)
{
    FILE *f = fopen(path, "rb");
    if (f == NULL) {
        snprintf(why, why_len, "cannot read %s: %s", path, strerror(errno));
        return -1;
    }
    fseek(f, 0, SEEK_END);
    long size = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *data = size > 0 ? malloc((size_t)size) : NULL;
    if (data == NULL || fread(data, 1, (size_t)size, f) != (size_t)size) {
        fclose(f);
        free(data);
        snprintf(why, why_len, "cannot read %s", path);
        return -1;
    }
    fclose(f);
    /* complete files end with the magic again */
    size_t m = sizeof(MAGIC) - 1;
    if ((size_t)size < 2 * m || memcmp(data + size - m, MAGIC, m) != 0) {
        free(data);
        snprintf(why, why_len, "%s is truncated", path);
        return -1;
    }
    in_t in = {.p = data, .end = data + size - m};
    scalene_agg_lock();
    int rc = merge_unlocked(&in);
    scalene_agg_unlock();
    free(data);
    if (rc != 0) {
        snprintf(why, why_len, "%s is not a table dump of this engine build", path);
    }
    return rc;
}
