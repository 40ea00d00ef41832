/* engine/tests/memory/bench_memhooks.c -- cost of the hooks (a measurement,
 * not a test).  `make bench` builds and runs it.
 *
 * Native: malloc/free/memcpy called from a helper library through its
 * (patched or not) PLT, in tight loops.  For each loop we report the best of
 * N runs of: thread CPU time (ns/op), user-space cycles/op and user-space
 * instructions/op (perf_event_open; instructions are immune to the load of a
 * shared machine, cycles mostly so).  Python: an embedded CPython 3.11 timing
 * allocation-heavy snippets (process CPU time) with and without the layer
 * (Python allocators wrapped, native hooks on, 1 MiB windows). */
#define PY_SSIZE_T_CLEAN
#include <Python.h>

#include <dlfcn.h>
#include <limits.h>
#include <linux/perf_event.h>
#include <sys/syscall.h>

#include "ta.h"
#include "testlib.h"

#define REPS 11

static const ta_api_t *ta;
static int fd_cyc = -1, fd_ins = -1;

static int perf_open(uint64_t config)
{
    struct perf_event_attr a;
    memset(&a, 0, sizeof(a));
    a.type = PERF_TYPE_HARDWARE;
    a.size = sizeof(a);
    a.config = config;
    a.exclude_kernel = 1;
    a.exclude_hv = 1;
    return (int)syscall(SYS_perf_event_open, &a, 0, -1, -1, 0);
}

static uint64_t perf_read(int fd)
{
    uint64_t v = 0;
    if (fd < 0 || read(fd, &v, sizeof(v)) != (ssize_t)sizeof(v))
        return 0;
    return v;
}

static double cpu_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

typedef struct {
    double ns, cyc, ins;
} cost_t;

typedef struct {
    double t;
    uint64_t c, i;
} snap_t;

static snap_t snap(void)
{
    snap_t s = {cpu_s(), perf_read(fd_cyc), perf_read(fd_ins)};
    return s;
}

static cost_t per_op(snap_t a, snap_t b, double ops)
{
    cost_t r = {(b.t - a.t) * 1e9 / ops, (double)(b.c - a.c) / ops, (double)(b.i - a.i) / ops};
    return r;
}

static cost_t best(cost_t a, cost_t b)
{
    cost_t m = a;
    if (b.ns < m.ns)
        m.ns = b.ns;
    if (b.cyc < m.cyc)
        m.cyc = b.cyc;
    if (b.ins < m.ins)
        m.ins = b.ins;
    return m;
}

enum { C_PAIR, C_MALLOC, C_FREE, C_COPY64, C_COPY4K, NCOL };
static const char *colname[NCOL] = {"malloc+free 32B", "malloc 48B", "free 48B", "memcpy 64B", "memcpy 4KiB"};
typedef struct {
    cost_t c[NCOL];
} row_t;

static void *vec[1000];
static char src[8192], dst[8192];

static row_t measure(void)
{
    row_t r;
    for (int k = 0; k < NCOL; k++)
        r.c[k].ns = r.c[k].cyc = r.c[k].ins = 1e30;
    for (int rep = 0; rep < REPS; rep++) {
        snap_t a = snap();
        ta->pairs(1000000, 32);
        snap_t b = snap();
        r.c[C_PAIR] = best(r.c[C_PAIR], per_op(a, b, 1e6));

        cost_t m = {0, 0, 0}, f = {0, 0, 0};
        for (int k = 0; k < 200; k++) {
            snap_t s0 = snap();
            for (int i = 0; i < 1000; i++)
                vec[i] = ta->malloc(48);
            snap_t s1 = snap();
            for (int i = 0; i < 1000; i++)
                ta->free(vec[i]);
            snap_t s2 = snap();
            cost_t cm = per_op(s0, s1, 200e3), cf = per_op(s1, s2, 200e3);
            m.ns += cm.ns, m.cyc += cm.cyc, m.ins += cm.ins;
            f.ns += cf.ns, f.cyc += cf.cyc, f.ins += cf.ins;
        }
        r.c[C_MALLOC] = best(r.c[C_MALLOC], m);
        r.c[C_FREE] = best(r.c[C_FREE], f);

        a = snap();
        ta->copies(dst, src, 64, 2000000);
        b = snap();
        r.c[C_COPY64] = best(r.c[C_COPY64], per_op(a, b, 2e6));
        a = snap();
        ta->copies(dst, src, 4096, 200000);
        b = snap();
        r.c[C_COPY4K] = best(r.c[C_COPY4K], per_op(a, b, 2e5));
    }
    return r;
}

static void print_header(void)
{
    printf("%-40s", "");
    for (int k = 0; k < NCOL; k++)
        printf(" | %-22s", colname[k]);
    printf("\n%-40s", "");
    for (int k = 0; k < NCOL; k++)
        printf(" | %6s %6s %7s ", "ns", "cycles", "instrs");
    printf("\n");
}

static void print_row(const char *name, row_t r, const row_t *base)
{
    printf("%-40s", name);
    for (int k = 0; k < NCOL; k++) {
        if (base)
            printf(" | %+6.1f %+6.1f %+7.1f ", r.c[k].ns - base->c[k].ns, r.c[k].cyc - base->c[k].cyc,
                   r.c[k].ins - base->c[k].ins);
        else
            printf(" | %6.1f %6.1f %7.1f ", r.c[k].ns, r.c[k].cyc, r.c[k].ins);
    }
    printf("\n");
    fflush(stdout);
}

static uint64_t quiet_cb(const scalene_mem_event_t *ev, void *arg)
{
    (void)arg;
    return ev->kind == SCALENE_MEM_MALLOC ? 1 : 0;
}

static void install(uint64_t window, int py)
{
    scalene_memhooks_config_t c;
    memset(&c, 0, sizeof(c));
    c.sampling_window = window;
    c.copy_window = window;
    c.hook_copies = 1;
    c.hook_python_allocators = py;
    c.callback = quiet_cb;
    install_or_die(&c);
}

/* User-space cycles and instructions of one run of `number` executions. */
static void py_count(const char *stmt, int number, double *cyc, double *ins)
{
    char code[1024];
    snprintf(code, sizeof(code), "import timeit\n_tm = timeit.Timer(%s)\n", stmt);
    CHECK(PyRun_SimpleString(code) == 0, "python");
    snprintf(code, sizeof(code), "_tm.timeit(number=%d)\n", number);
    *cyc = *ins = 1e30;
    for (int r = 0; r < 5; r++) {
        snap_t a = snap();
        CHECK(PyRun_SimpleString(code) == 0, "python");
        snap_t b = snap();
        if ((double)(b.c - a.c) < *cyc)
            *cyc = (double)(b.c - a.c);
        if ((double)(b.i - a.i) < *ins)
            *ins = (double)(b.i - a.i);
    }
}

static double py_time(const char *stmt, int number)
{
    char code[1024];
    snprintf(code, sizeof(code),
             "import timeit, time\n_t = min(timeit.repeat(%s, number=%d, repeat=9, timer=time.process_time))\n",
             stmt, number);
    CHECK(PyRun_SimpleString(code) == 0, "python");
    PyObject *t = PyObject_GetAttrString(PyImport_AddModule("__main__"), "_t");
    double v = PyFloat_AsDouble(t);
    Py_DECREF(t);
    return v;
}

int main(void)
{
    char dir[PATH_MAX], path[PATH_MAX + 32];
    ssize_t n = readlink("/proc/self/exe", dir, sizeof(dir) - 1);
    CHECK(n > 0, "readlink");
    dir[n] = '\0';
    *strrchr(dir, '/') = '\0';
    snprintf(path, sizeof(path), "%s/libta_lazy.so", dir);
    void *h = dlopen(path, RTLD_NOW | RTLD_LOCAL);
    CHECK(h, "%s", dlerror());
    ta = ((ta_api_fn)dlsym(h, "ta_api"))();
    fd_cyc = perf_open(PERF_COUNT_HW_CPU_CYCLES);
    fd_ins = perf_open(PERF_COUNT_HW_INSTRUCTIONS);
    if (fd_cyc < 0 || fd_ins < 0)
        printf("(perf counters unavailable: cycles/instructions read as 0)\n");

    printf("Native hooks: best of %d runs per cell; first row absolute, others the difference to it\n", REPS);
    print_header();
    row_t base = measure();
    print_row("not installed (plain PLT -> libc)", base, NULL);

    install(1 << 20, 0);
    row_t r = measure();
    print_row("installed, enabled, 1 MiB windows", r, &base);
    scalene_memhooks_set_enabled(0);
    r = measure();
    print_row("installed, disabled", r, &base);
    CHECK(scalene_memhooks_uninstall() == 0, "uninstall");

    install((uint64_t)1 << 39, 0);
    r = measure();
    print_row("installed, enabled, never sampling", r, &base);
    CHECK(scalene_memhooks_uninstall() == 0, "uninstall");

    /* A populated filter: 20000 live sampled blocks (a 1-byte window records
     * all of them), then 1 MiB windows without clearing the table. */
    install(1, 0);
    static void *live[20000];
    for (int i = 0; i < 20000; i++)
        live[i] = ta->malloc(64);
    scalene_memhooks_stats_t st;
    scalene_memhooks_stats(&st);
    CHECK(st.tracked_blocks >= 19000, "tracked %llu", (unsigned long long)st.tracked_blocks);
    _scalene_mem_sampler_configure(1 << 20, 1 << 20, 0);
    r = measure();
    print_row("enabled, 1 MiB, 20000 live sampled blocks", r, &base);
    for (int i = 0; i < 20000; i++)
        ta->free(live[i]);
    CHECK(scalene_memhooks_uninstall() == 0, "uninstall");

    r = measure();
    print_row("uninstalled again (noise check)", r, &base);

    /* Python */
    Py_InitializeEx(0);
    const char *snippets[][2] = {
        {"'[object() for _ in range(1000)]'", "2000"},
        {"'{i: str(i) for i in range(1000)}'", "500"},
        {"'[(i, i) for i in range(1000)]'", "2000"},
        {"'bytearray(100000)'", "20000"},
        {"'b\"x\" * 100000'", "20000"},
    };
    printf("\nPython 3.11, layer off -> on (native + Python hooks, 1 MiB windows): CPU seconds best of 9, user cycles and instructions best of 5\n");
    for (size_t i = 0; i < sizeof(snippets) / sizeof(snippets[0]); i++) {
        int number = atoi(snippets[i][1]);
        double off = py_time(snippets[i][0], number), c0, i0, c1, i1;
        py_count(snippets[i][0], number, &c0, &i0);
        install(1 << 20, 1);
        double on = py_time(snippets[i][0], number);
        py_count(snippets[i][0], number, &c1, &i1);
        CHECK(scalene_memhooks_uninstall() == 0, "uninstall");
        double off2 = py_time(snippets[i][0], number);
        if (off2 < off)
            off = off2;
        printf("  %-38s x%-6d  time %.4f -> %.4f (x%.3f)  cycles x%.3f  instructions x%.3f\n", snippets[i][0],
               number, off, on, on / off, c1 / c0, i1 / i0);
    }
    return 0;
}
