/* engine/tests/memory/testlib.h -- minimal harness for the memory-layer tests.
 *
 * A test program defines its cases with TEST_CASE(name) and lists them in
 * TESTS; main() runs the case named on the command line ("--list" prints the
 * names, no argument runs them all in order).  A failed CHECK prints where
 * and why and exits 1; SKIP() exits 77.  pytest runs one case per process. */
#ifndef TESTLIB_H
#define TESTLIB_H
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "memory/memhooks.h"
#include "memory/memhooks_internal.h"

#define CHECK(cond, ...)                                                           \
    do {                                                                           \
        if (!(cond)) {                                                             \
            fprintf(stderr, "%s:%d: CHECK(%s) failed: ", __FILE__, __LINE__, #cond); \
            fprintf(stderr, __VA_ARGS__);                                          \
            fputc('\n', stderr);                                                   \
            fflush(NULL);                                                          \
            _exit(1);                                                              \
        }                                                                          \
    } while (0)

#define SKIP(...)                                                                  \
    do {                                                                           \
        printf("SKIP: ");                                                          \
        printf(__VA_ARGS__);                                                       \
        printf("\n");                                                              \
        fflush(NULL);                                                              \
        _exit(77);                                                                 \
    } while (0)

/* |got - want| <= tol * want */
#define CHECK_NEAR(got, want, tol, what)                                                 \
    do {                                                                                 \
        double g_ = (double)(got), w_ = (double)(want);                                  \
        CHECK(fabs(g_ - w_) <= (tol) * w_, "%s: got %.6g, want %.6g (%+.2f%%, tolerance %.1f%%)", \
              what, g_, w_, 100.0 * (g_ - w_) / w_, 100.0 * (tol));                      \
        printf("  %s: %.6g vs %.6g (%+.2f%%)\n", what, g_, w_, 100.0 * (g_ - w_) / w_);   \
    } while (0)

typedef struct {
    const char *name;
    void (*fn)(void);
} test_case_t;

#define TEST_CASE(name) static void name(void)
#define T(name) {#name, name}

#ifdef __SANITIZE_ADDRESS__
#define TEST_ASAN 1
/* Tests allocate 2^62 bytes on purpose: malloc must return NULL, not abort. */
#ifndef TEST_ASAN_OPTIONS
#define TEST_ASAN_OPTIONS "allocator_may_return_null=1"
#endif
const char *__asan_default_options(void);
const char *__asan_default_options(void) { return TEST_ASAN_OPTIONS; }
#else
#define TEST_ASAN 0
#endif

static inline double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* ---- event recorder used as the engine callback ---------------------------- */

#define REC_LOG_MAX (1u << 20)
typedef struct {
    int kind, domain;
    void *ptr;
    uint64_t size, weight, tag;
} rec_event_t;

typedef struct {
    uint64_t n[4];             /* events per kind */
    uint64_t w[4];             /* weight per kind */
    uint64_t w_dom[2];         /* MALLOC weight per domain */
    uint64_t n_dom[2];
    uint64_t next_tag;
    int tag_mode;              /* 0: tag every block, 1: never, 2: every other */
    int log_on;
    uint64_t log_len;          /* atomic index into log */
    rec_event_t *log;
    void (*extra)(const scalene_mem_event_t *ev);
} recorder_t;

static recorder_t REC;

static uint64_t rec_callback(const scalene_mem_event_t *ev, void *arg)
{
    recorder_t *r = arg;
    __atomic_fetch_add(&r->n[ev->kind], 1, __ATOMIC_RELAXED);
    __atomic_fetch_add(&r->w[ev->kind], ev->weight, __ATOMIC_RELAXED);
    if (ev->kind == SCALENE_MEM_MALLOC) {
        __atomic_fetch_add(&r->w_dom[ev->domain], ev->weight, __ATOMIC_RELAXED);
        __atomic_fetch_add(&r->n_dom[ev->domain], 1, __ATOMIC_RELAXED);
    }
    uint64_t tag = 0;
    if (ev->kind == SCALENE_MEM_MALLOC) {
        uint64_t t = __atomic_add_fetch(&r->next_tag, 1, __ATOMIC_RELAXED);
        if (r->tag_mode == 0 || (r->tag_mode == 2 && (t & 1)))
            tag = t;
    }
    if (r->log_on && r->log) {
        uint64_t i = __atomic_fetch_add(&r->log_len, 1, __ATOMIC_RELAXED);
        if (i < REC_LOG_MAX) {
            rec_event_t *e = &r->log[i];
            e->kind = ev->kind;
            e->domain = ev->domain;
            e->ptr = ev->ptr;
            e->size = ev->size;
            e->weight = ev->weight;
            e->tag = ev->kind == SCALENE_MEM_MALLOC ? tag : ev->tag;
        }
    }
    if (r->extra)
        r->extra(ev);
    return tag;
}

static inline void rec_reset(void)
{
    rec_event_t *log = REC.log;
    memset(&REC, 0, sizeof(REC));
    REC.log = log;
}

static inline void rec_log(int on)
{
    if (on && !REC.log) {
        REC.log = calloc(REC_LOG_MAX, sizeof(rec_event_t));
        CHECK(REC.log != NULL, "no memory for the event log");
    }
    REC.log_len = 0;
    REC.log_on = on;
}

/* A pointer's value, hidden from the optimiser: after free(p) the compiler
 * may treat p as indeterminate and fold comparisons with it. */
static inline uintptr_t addr_of(const void *p)
{
    uintptr_t v = (uintptr_t)p;
    __asm__ volatile("" : "+r"(v));
    return v;
}

/* Finds the last logged event of a kind for an address. */
static inline const rec_event_t *rec_find_addr(int kind, uintptr_t a)
{
    uint64_t n = REC.log_len < REC_LOG_MAX ? REC.log_len : REC_LOG_MAX;
    for (uint64_t i = n; i-- > 0;)
        if (REC.log[i].kind == kind && (uintptr_t)REC.log[i].ptr == a)
            return &REC.log[i];
    return NULL;
}

/* Only for pointers not yet freed; use rec_find_addr(kind, addr_of(p)) taken
 * before the free otherwise. */
#define rec_find(kind, p) rec_find_addr((kind), addr_of(p))

static inline scalene_memhooks_config_t cfg_default(uint64_t window, uint64_t copy_window, int copies)
{
    scalene_memhooks_config_t c;
    memset(&c, 0, sizeof(c));
    c.sampling_window = window;
    c.copy_window = copy_window;
    c.hook_copies = copies;
    c.callback = rec_callback;
    c.callback_arg = &REC;
    return c;
}

static inline void install_or_die(const scalene_memhooks_config_t *c)
{
    char why[256];
    int r = scalene_memhooks_install(c, why, sizeof(why));
    CHECK(r == 0, "install failed: %d %s", r, why);
}

static inline int test_main(int argc, char **argv, const test_case_t *tests, size_t n)
{
    if (argc > 1 && strcmp(argv[1], "--list") == 0) {
        for (size_t i = 0; i < n; i++)
            printf("%s\n", tests[i].name);
        return 0;
    }
    for (size_t i = 0; i < n; i++) {
        if (argc > 1 && strcmp(argv[1], tests[i].name) != 0)
            continue;
        printf("== %s\n", tests[i].name);
        fflush(stdout);
        double t0 = now_s();
        tests[i].fn();
        printf("ok %s (%.2fs)\n", tests[i].name, now_s() - t0);
        fflush(stdout);
        if (argc > 1)
            return 0;
    }
    if (argc > 1) {
        fprintf(stderr, "unknown test case %s\n", argv[1]);
        return 2;
    }
    return 0;
}
#endif
