/* engine/tests/memory/test_pymem.c -- the layer inside an embedded CPython.
 *
 * Ground truth for Python allocations comes from a counting wrapper that the
 * test installs on top of the layer's (like tracemalloc would): it sees every
 * request made through PyMem_* / PyObject_* and sums the requested bytes. */
#define PY_SSIZE_T_CLEAN
#include <Python.h>

/* CPython is not built with LeakSanitizer in mind. */
#define TEST_ASAN_OPTIONS "allocator_may_return_null=1:detect_leaks=0"

#include <errno.h>
#include <pthread.h>

#include "testlib.h"

/* ---- counting wrapper (truth) ------------------------------------------------- */
typedef struct {
    PyMemAllocatorEx orig;
    uint64_t bytes; /* under the GIL */
} counter_t;
static counter_t cnt_mem, cnt_obj;

static void *c_malloc(void *ctx, size_t n)
{
    counter_t *c = ctx;
    c->bytes += n;
    return c->orig.malloc(c->orig.ctx, n);
}
static void *c_calloc(void *ctx, size_t a, size_t b)
{
    counter_t *c = ctx;
    c->bytes += a * b;
    return c->orig.calloc(c->orig.ctx, a, b);
}
static void *c_realloc(void *ctx, void *p, size_t n)
{
    counter_t *c = ctx;
    c->bytes += n;
    return c->orig.realloc(c->orig.ctx, p, n);
}
static void c_free(void *ctx, void *p)
{
    counter_t *c = ctx;
    c->orig.free(c->orig.ctx, p);
}

static void counter_push(void)
{
    counter_t *cs[2] = {&cnt_mem, &cnt_obj};
    PyMemAllocatorDomain ds[2] = {PYMEM_DOMAIN_MEM, PYMEM_DOMAIN_OBJ};
    for (int i = 0; i < 2; i++) {
        PyMem_GetAllocator(ds[i], &cs[i]->orig);
        cs[i]->bytes = 0;
        PyMemAllocatorEx a = {cs[i], c_malloc, c_calloc, c_realloc, c_free};
        PyMem_SetAllocator(ds[i], &a);
    }
}

static void counter_pop(void)
{
    PyMem_SetAllocator(PYMEM_DOMAIN_MEM, &cnt_mem.orig);
    PyMem_SetAllocator(PYMEM_DOMAIN_OBJ, &cnt_obj.orig);
}

static uint64_t counted(void) { return cnt_mem.bytes + cnt_obj.bytes; }

/* ---- helpers ------------------------------------------------------------------------ */
static void py_init(void)
{
    Py_InitializeEx(0);
    CHECK(Py_IsInitialized(), "Py_Initialize");
}

static void run(const char *code)
{
    int r = PyRun_SimpleString(code);
    CHECK(r == 0, "python code failed:\n%s", code);
}

static void install_py(uint64_t window)
{
    scalene_memhooks_config_t c = cfg_default(window, 0, 0);
    c.hook_python_allocators = 1;
    install_or_die(&c);
}

/* Large Python objects go pymalloc -> malloc: counted once, as PYTHON. */
TEST_CASE(python_domain_large)
{
    py_init();
    run("sizes = [1000 + (i * 7919) % 100000 for i in range(20000)]\n");
    rec_reset();
    install_py(64 << 10);
    counter_push();
    run("for n in sizes:\n    b = bytes(n)\ndel b\n");
    uint64_t truth = counted();
    counter_pop();
    CHECK(scalene_memhooks_uninstall() == 0, "uninstall");
    CHECK_NEAR(REC.w_dom[SCALENE_DOMAIN_PYTHON], truth, 0.05, "PYTHON bytes, 1-100 KB objects");
    CHECK(REC.w_dom[SCALENE_DOMAIN_NATIVE] < truth / 50, "large Python blocks double counted as NATIVE: %llu",
          (unsigned long long)REC.w_dom[SCALENE_DOMAIN_NATIVE]);
}

/* Small objects (pymalloc arenas): counted once, unbiased. */
TEST_CASE(python_domain_small)
{
    py_init();
    rec_reset();
    _scalene_mem_test_set_seed(2024);
    install_py(16 << 10);
    counter_push();
    run("x = [str(i) * 3 for i in range(300000)]\n"
        "y = [(i, i + 1.5) for i in range(200000)]\n"
        "z = {i: [i] for i in range(100000)}\n"
        "del x, y, z\n");
    uint64_t truth = counted();
    counter_pop();
    CHECK(scalene_memhooks_uninstall() == 0, "uninstall");
    _scalene_mem_test_set_seed(0);
    CHECK_NEAR(REC.w_dom[SCALENE_DOMAIN_PYTHON], truth, 0.05, "PYTHON bytes, small objects");
}

/* Freed Python objects are credited with their allocation's tag. */
TEST_CASE(python_frees_credited)
{
    py_init();
    rec_reset();
    rec_log(1);
    install_py(8192);
    run("keep = [bytearray(200) for i in range(50000)]\n");
    scalene_memhooks_stats_t st;
    scalene_memhooks_stats(&st);
    uint64_t tracked = st.tracked_blocks, nlog = REC.log_len;
    CHECK(tracked > 100, "only %llu tracked", (unsigned long long)tracked);
    run("del keep\n");
    scalene_memhooks_stats(&st);
    printf("  tracked %llu -> %llu\n", (unsigned long long)tracked, (unsigned long long)st.tracked_blocks);
    CHECK(st.tracked_blocks * 4 < tracked, "frees not retired");
    uint64_t frees = 0;
    for (uint64_t i = nlog; i < REC.log_len && i < REC_LOG_MAX; i++) {
        const rec_event_t *f = &REC.log[i];
        if (f->kind != SCALENE_MEM_FREE)
            continue;
        frees++;
        int found = 0;
        for (uint64_t k = 0; k < i && !found; k++)
            found = REC.log[k].kind == SCALENE_MEM_MALLOC && REC.log[k].tag == f->tag && REC.log[k].ptr == f->ptr &&
                    REC.log[k].weight == f->weight && REC.log[k].domain == f->domain;
        CHECK(found, "FREE %p tag %llu does not match its MALLOC", f->ptr, (unsigned long long)f->tag);
    }
    CHECK(frees * 4 > tracked * 3, "%llu FREE events for %llu tracked", (unsigned long long)frees,
          (unsigned long long)tracked);
    CHECK(scalene_memhooks_uninstall() == 0, "uninstall");
}

/* Python threads plus a thread that never ran Python. */
static volatile int g_stop;
static void *native_thread(void *arg)
{
    (void)arg;
    void *(*volatile m)(size_t) = malloc; /* no malloc/free pair elision */
    while (!__atomic_load_n(&g_stop, __ATOMIC_RELAXED)) {
        void *p = m(3000);
        free(p);
    }
    return NULL;
}

TEST_CASE(python_threads)
{
    py_init();
    rec_reset();
    install_py(32768);
    pthread_t th;
    pthread_create(&th, NULL, native_thread, NULL);
    run("import threading\n"
        "def work():\n"
        "    for i in range(20000):\n"
        "        l = [bytes(100) for _ in range(10)]\n"
        "ts = [threading.Thread(target=work) for _ in range(4)]\n"
        "[t.start() for t in ts]\n"
        "[t.join() for t in ts]\n");
    __atomic_store_n(&g_stop, 1, __ATOMIC_RELAXED);
    pthread_join(th, NULL);
    CHECK(REC.n_dom[SCALENE_DOMAIN_PYTHON] > 100 && REC.n_dom[SCALENE_DOMAIN_NATIVE] > 10,
          "samples python %llu native %llu", (unsigned long long)REC.n_dom[SCALENE_DOMAIN_PYTHON],
          (unsigned long long)REC.n_dom[SCALENE_DOMAIN_NATIVE]);
    CHECK(scalene_memhooks_uninstall() == 0, "uninstall");
}

/* Uninstall restores the allocators; a wrapper on top makes it -EBUSY, and
 * the next install reuses our wrapper still in the chain. */
TEST_CASE(python_uninstall)
{
    py_init();
    PyMemAllocatorEx m0, o0, m1, o1;
    PyMem_GetAllocator(PYMEM_DOMAIN_MEM, &m0);
    PyMem_GetAllocator(PYMEM_DOMAIN_OBJ, &o0);
    rec_reset();
    install_py(4096);
    PyMem_GetAllocator(PYMEM_DOMAIN_MEM, &m1);
    CHECK(m1.malloc != m0.malloc, "MEM not wrapped");
    CHECK(scalene_memhooks_uninstall() == 0, "uninstall");
    PyMem_GetAllocator(PYMEM_DOMAIN_MEM, &m1);
    PyMem_GetAllocator(PYMEM_DOMAIN_OBJ, &o1);
    CHECK(m1.malloc == m0.malloc && m1.ctx == m0.ctx && o1.malloc == o0.malloc && o1.free == o0.free,
          "allocators not restored");

    install_py(4096);
    counter_push(); /* someone wraps on top of us */
    CHECK(scalene_memhooks_uninstall() == -EBUSY, "uninstall under a foreign wrapper must report -EBUSY");
    uint64_t n = REC.n[SCALENE_MEM_MALLOC];
    run("x = [bytes(1000) for i in range(10000)]\ndel x\n");
    CHECK(REC.n[SCALENE_MEM_MALLOC] == n, "events after uninstall");
    install_py(4096);            /* reuses the wrappers still in the chain */
    run("x = [bytes(1000) for i in range(10000)]\ndel x\n");
    CHECK(REC.n_dom[SCALENE_DOMAIN_PYTHON] > 100, "reinstalled wrappers do not sample");
    counter_pop();
    CHECK(scalene_memhooks_uninstall() == 0, "uninstall after the foreign wrapper left");
    PyMem_GetAllocator(PYMEM_DOMAIN_MEM, &m1);
    CHECK(m1.malloc == m0.malloc, "allocators not restored at last");
}

TEST_CASE(python_requires_gil)
{
    py_init();
    PyThreadState *ts = PyEval_SaveThread();
    scalene_memhooks_config_t c = cfg_default(0, 0, 0);
    c.hook_python_allocators = 1;
    char why[200];
    int r = scalene_memhooks_install(&c, why, sizeof(why));
    PyEval_RestoreThread(ts);
    printf("  without the GIL: %d %s\n", r, why);
    CHECK(r == -EPERM && strstr(why, "GIL"), "install without the GIL: %d %s", r, why);
    scalene_memhooks_stats_t st;
    scalene_memhooks_stats(&st);
    CHECK(_scalene_mem_got_count_hooked(NULL) == 0, "failed install left slots patched");
}

static const test_case_t TESTS[] = {
    T(python_domain_large), T(python_domain_small), T(python_frees_credited),
    T(python_threads), T(python_uninstall), T(python_requires_gil),
};

int main(int argc, char **argv)
{
    setvbuf(stdout, NULL, _IOLBF, 0);
    return test_main(argc, argv, TESTS, sizeof(TESTS) / sizeof(TESTS[0]));
}
