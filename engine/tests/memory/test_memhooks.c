/* engine/tests/memory/test_memhooks.c -- the layer through real GOT patching.
 *
 * The layer is linked as a shared library (libscalene_mem.so, "this
 * extension" from its own point of view, hence never patched); allocations
 * are made by the helper libraries (ta.c built several ways) and by this
 * executable, whose relocation slots the layer rewrites. */
#include <dlfcn.h>
#include <errno.h>
#include <limits.h>
#include <malloc.h>
#include <pthread.h>
#include <stdint.h>
#include <sys/wait.h>

#include "ta.h"
#include "testlib.h"

#if TEST_ASAN
#define SCALE 4 /* ASan is ~10x slower: fewer operations, smaller windows */
#else
#define SCALE 1
#endif

static char g_dir[PATH_MAX];

static void find_dir(void)
{
    if (g_dir[0])
        return;
    ssize_t n = readlink("/proc/self/exe", g_dir, sizeof(g_dir) - 1);
    CHECK(n > 0, "readlink /proc/self/exe: %s", strerror(errno));
    g_dir[n] = '\0';
    *strrchr(g_dir, '/') = '\0';
}

static const ta_api_t *load_ta(const char *lib)
{
    char path[PATH_MAX + 64];
    find_dir();
    snprintf(path, sizeof(path), "%s/%s", g_dir, lib);
    void *h = dlopen(path, RTLD_NOW | RTLD_LOCAL);
    CHECK(h != NULL, "dlopen %s: %s", path, dlerror());
    ta_api_fn f = (ta_api_fn)dlsym(h, "ta_api");
    CHECK(f != NULL, "dlsym ta_api in %s", lib);
    return f();
}

static void check_uninstall(void)
{
    CHECK(scalene_memhooks_uninstall() == 0, "uninstall failed");
}

/* Checks that p's allocation was reported with size n and that its free is
 * reported with the same tag, weight and size. */
static void check_pair(const ta_api_t *ta, const char *what, void *p, uint64_t n)
{
    CHECK(p != NULL, "%s/%s returned NULL", ta->name, what);
    const rec_event_t *m = rec_find(SCALENE_MEM_MALLOC, p);
    CHECK(m != NULL, "%s/%s: no MALLOC event for %p", ta->name, what, p);
    CHECK(m->size == n, "%s/%s: size %llu, want %llu", ta->name, what, (unsigned long long)m->size,
          (unsigned long long)n);
    CHECK(m->domain == SCALENE_DOMAIN_NATIVE, "%s/%s: domain %d", ta->name, what, m->domain);
    CHECK(m->weight == n, "%s/%s: weight %llu for a block 4096x the window", ta->name, what,
          (unsigned long long)m->weight);
    CHECK(m->tag != 0, "%s/%s: not tagged", ta->name, what);
    rec_event_t mm = *m;
    uintptr_t pa = addr_of(p);
    ta->free(p);
    const rec_event_t *f = rec_find_addr(SCALENE_MEM_FREE, pa);
    CHECK(f != NULL, "%s/%s: no FREE event for %p", ta->name, what, p);
    CHECK(f->tag == mm.tag && f->weight == mm.weight && f->size == mm.size,
          "%s/%s: FREE tag/weight/size %llu/%llu/%llu != MALLOC %llu/%llu/%llu", ta->name, what,
          (unsigned long long)f->tag, (unsigned long long)f->weight, (unsigned long long)f->size,
          (unsigned long long)mm.tag, (unsigned long long)mm.weight, (unsigned long long)mm.size);
}

static void check_copy(const ta_api_t *ta, const char *what, void *dst, uint64_t n)
{
    const rec_event_t *c = rec_find(SCALENE_MEM_COPY, dst);
    CHECK(c != NULL, "%s/%s: no COPY event", ta->name, what);
    CHECK(c->size == n, "%s/%s: copy size %llu, want %llu", ta->name, what, (unsigned long long)c->size,
          (unsigned long long)n);
}

/* Every hooked function, in a lazily bound library, a BIND_NOW + full RELRO
 * one and a -fno-plt one (GLOB_DAT slots in RELRO). */
TEST_CASE(family_all_libs)
{
    const ta_api_t *libs[3] = {load_ta("libta_lazy.so"), load_ta("libta_now.so"), load_ta("libta_noplt.so")};
    void *real_malloc = dlsym(RTLD_DEFAULT, "malloc");
    rec_reset();
    rec_log(1);
    scalene_memhooks_config_t c = cfg_default(1, 1, 1); /* sample everything >= a few bytes */
    install_or_die(&c);
    scalene_memhooks_stats_t st;
    scalene_memhooks_stats(&st);
    printf("  patched objects: %llu\n", (unsigned long long)st.patched_objects);
    CHECK(st.patched_objects >= 4, "only %llu objects patched", (unsigned long long)st.patched_objects);
    for (int i = 0; i < 3; i++) {
        const ta_api_t *ta = libs[i];
        CHECK(ta->addr_malloc() != real_malloc, "%s: &malloc still the real malloc", ta->name);
        check_pair(ta, "malloc", ta->malloc(4096), 4096);
        check_pair(ta, "calloc", ta->calloc(16, 256), 4096);
        void *p = NULL;
        CHECK(ta->posix_memalign(&p, 64, 4096) == 0, "posix_memalign");
        check_pair(ta, "posix_memalign", p, 4096);
        check_pair(ta, "aligned_alloc", ta->aligned_alloc(256, 4096), 4096);
        check_pair(ta, "memalign", ta->memalign(128, 4096), 4096);
        check_pair(ta, "valloc", ta->valloc(4096), 4096);
        check_pair(ta, "pvalloc", ta->pvalloc(4000), 4000);
        /* realloc = free(old) + malloc(new) */
        void *a = ta->malloc(1000);
        const rec_event_t *ma = rec_find(SCALENE_MEM_MALLOC, a);
        CHECK(ma && ma->size == 1000, "%s: malloc(1000) not reported", ta->name);
        uint64_t tag_a = ma->tag;
        uintptr_t aa = addr_of(a);
        void *b = ta->realloc(a, 1 << 20);
        const rec_event_t *fa = rec_find_addr(SCALENE_MEM_FREE, aa);
        CHECK(fa && fa->tag == tag_a, "%s: realloc did not report the free of the old block", ta->name);
        const rec_event_t *mb = rec_find(SCALENE_MEM_MALLOC, b);
        CHECK(mb && mb->size == (1 << 20), "%s: realloc did not report the new block", ta->name);
        uint64_t tag_b = mb->tag;
        uintptr_t ba = addr_of(b);
        void *d = ta->reallocarray(b, 4, 1 << 20);
        const rec_event_t *fb = rec_find_addr(SCALENE_MEM_FREE, ba);
        CHECK(fb && fb->tag == tag_b, "%s: reallocarray did not report the free", ta->name);
        check_pair(ta, "reallocarray", d, 4 << 20);
        check_pair(ta, "realloc(NULL)", ta->realloc(NULL, 8192), 8192);
        /* copies */
        char *src = ta->malloc(100000), *dst = ta->malloc(100000);
        memset(src, 'x', 99999);
        src[99999] = '\0';
        ta->memcpy(dst, src, 5000);
        check_copy(ta, "memcpy", dst, 5000);
        ta->memmove(dst + 1, dst, 6000);
        check_copy(ta, "memmove", dst + 1, 6000);
        ta->mempcpy(dst + 2, src, 7000);
        check_copy(ta, "mempcpy", dst + 2, 7000);
        CHECK(ta->strcpy(dst + 3, src) == dst + 3, "strcpy return value");
        check_copy(ta, "strcpy", dst + 3, 100000);
        CHECK(ta->stpcpy(dst + 4, src + 90000) == dst + 4 + 9999, "stpcpy return value");
        check_copy(ta, "stpcpy", dst + 4, 10000);
        CHECK(strcmp(dst + 4, src + 90000) == 0, "stpcpy result");
        ta->free(src);
        ta->free(dst);
    }
    /* This executable is patched too. */
    void *p = malloc(12345);
    uintptr_t pa = addr_of(p);
    CHECK(rec_find_addr(SCALENE_MEM_MALLOC, pa) != NULL, "the executable's own malloc is not hooked");
    free(p);
    CHECK(rec_find_addr(SCALENE_MEM_FREE, pa) != NULL, "the executable's own free is not hooked");
    check_uninstall();
}

/* One-byte to 64-byte objects: the byte total must come out unbiased. */
TEST_CASE(unbiased_tiny)
{
    const ta_api_t *ta = load_ta("libta_lazy.so");
    rec_reset();
    _scalene_mem_test_set_seed(12345);
    scalene_memhooks_config_t c = cfg_default(16384 / SCALE, 0, 0);
    install_or_die(&c);
    uint64_t total = ta->churn(8000000 / (SCALE * SCALE), 1, 64, 7);
    scalene_memhooks_stats_t st;
    scalene_memhooks_stats(&st);
    check_uninstall();
    _scalene_mem_test_set_seed(0);
    /* ~16k samples: sd ~0.8%; other allocations of the process are noise */
    CHECK_NEAR(REC.w[SCALENE_MEM_MALLOC], total, 0.04, "sampled bytes of 1..64-byte objects");
    CHECK(st.tracked_blocks <= 2, "%llu blocks tracked after freeing all", (unsigned long long)st.tracked_blocks);
    CHECK(REC.n[SCALENE_MEM_FREE] + st.tracked_blocks == REC.n[SCALENE_MEM_MALLOC],
          "frees not credited: %llu FREE for %llu MALLOC", (unsigned long long)REC.n[SCALENE_MEM_FREE],
          (unsigned long long)REC.n[SCALENE_MEM_MALLOC]);
}

/* Huge buffers are always sampled, with their exact size. */
TEST_CASE(unbiased_huge)
{
    const ta_api_t *ta = load_ta("libta_lazy.so");
    rec_reset();
    rec_log(1);
    scalene_memhooks_config_t c = cfg_default(0, 0, 0); /* default 1 MiB window */
    install_or_die(&c);
    uint64_t total = 0;
    for (int i = 0; i < 40; i++) {
        uint64_t n = (uint64_t)(64 + i) << 20; /* 64..103 MiB, never touched */
        void *p = ta->malloc(n);
        CHECK(p, "malloc(%llu)", (unsigned long long)n);
        const rec_event_t *e = rec_find(SCALENE_MEM_MALLOC, p);
        CHECK(e && e->weight == n, "a %llu-byte buffer must be sampled with weight = size", (unsigned long long)n);
        total += n;
        ta->free(p);
    }
    check_uninstall();
    CHECK(REC.w[SCALENE_MEM_MALLOC] >= total, "missing weight");
    CHECK_NEAR(REC.w[SCALENE_MEM_MALLOC], total, 0.001, "bytes of 64-103 MiB buffers");
}

/* Medium and mixed sizes: 64 KiB..4 MiB, and log-uniform 1 B..8 MiB. */
TEST_CASE(unbiased_mixed)
{
    const ta_api_t *ta = load_ta("libta_lazy.so");
    rec_reset();
    _scalene_mem_test_set_seed(777);
    scalene_memhooks_config_t c = cfg_default(0, 0, 0);
    install_or_die(&c);
    uint64_t total = ta->churn(2000 / SCALE, 64 << 10, 4 << 20, 3);
    check_uninstall();
    CHECK_NEAR(REC.w[SCALENE_MEM_MALLOC], total, 0.05, "sampled bytes, 64 KiB..4 MiB blocks, 1 MiB window");

    rec_reset();
    c = cfg_default(256 << 10, 0, 0);
    install_or_die(&c);
    uint64_t x = 99, tot2 = 0;
    for (int i = 0; i < 400000 / (SCALE * SCALE * SCALE); i++) {
        x ^= x << 13, x ^= x >> 7, x ^= x << 17;
        double e = (double)(x % 23000) / 1000.0; /* log2 size in [0, 23) */
        size_t n = (size_t)exp2(e);
        void *p = ta->malloc(n);
        ta->free(p);
        tot2 += n;
    }
    check_uninstall();
    _scalene_mem_test_set_seed(0);
    CHECK_NEAR(REC.w[SCALENE_MEM_MALLOC], tot2, 0.05, "sampled bytes, log-uniform 1 B..8 MiB, 256 KiB window");
}

/* Frees are credited with the tag and weight recorded at allocation. */
TEST_CASE(free_credit)
{
    const ta_api_t *ta = load_ta("libta_now.so");
    enum { N = 20000 };
    static void *blocks[N];
    rec_reset();
    rec_log(1);
    REC.tag_mode = 2; /* only odd tags are kept: untracked samples must not come back */
    scalene_memhooks_config_t c = cfg_default(64 << 10, 0, 0);
    install_or_die(&c);
    uint64_t x = 1234567;
    for (int i = 0; i < N; i++) {
        x ^= x << 13, x ^= x >> 7, x ^= x << 17;
        blocks[i] = ta->malloc(16 + x % 100000);
    }
    scalene_memhooks_stats_t st;
    scalene_memhooks_stats(&st);
    uint64_t mallocs = REC.log_len, tracked = st.tracked_blocks;
    printf("  samples %llu, tracked %llu\n", (unsigned long long)mallocs, (unsigned long long)tracked);
    CHECK(tracked > 100 && tracked < mallocs, "tracked %llu of %llu", (unsigned long long)tracked,
          (unsigned long long)mallocs);
    for (int i = N - 1; i > 0; i--) { /* free in random order */
        x ^= x << 13, x ^= x >> 7, x ^= x << 17;
        int j = (int)(x % (uint64_t)(i + 1));
        void *t = blocks[i];
        blocks[i] = blocks[j];
        blocks[j] = t;
    }
    for (int i = 0; i < N; i++)
        ta->free(blocks[i]);
    uint64_t frees = 0, n = REC.log_len;
    for (uint64_t i = mallocs; i < n; i++) {
        const rec_event_t *f = &REC.log[i];
        if (f->kind != SCALENE_MEM_FREE)
            continue;
        frees++;
        const rec_event_t *m = NULL;
        for (uint64_t k = 0; k < mallocs; k++)
            if (REC.log[k].kind == SCALENE_MEM_MALLOC && REC.log[k].ptr == f->ptr && REC.log[k].tag)
                m = &REC.log[k];
        CHECK(m, "FREE of %p without a tracked MALLOC", f->ptr);
        CHECK(m->tag == f->tag && (f->tag & 1) && m->weight == f->weight && m->size == f->size,
              "FREE of %p: tag %llu weight %llu, MALLOC had tag %llu weight %llu", f->ptr,
              (unsigned long long)f->tag, (unsigned long long)f->weight, (unsigned long long)m->tag,
              (unsigned long long)m->weight);
    }
    scalene_memhooks_stats(&st);
    CHECK(frees == tracked, "%llu FREE events for %llu tracked blocks", (unsigned long long)frees,
          (unsigned long long)tracked);
    CHECK(st.tracked_blocks == 0, "%llu blocks still tracked", (unsigned long long)st.tracked_blocks);
    check_uninstall();
}

/* realloc growth is sampled as new allocations; failure keeps the record. */
TEST_CASE(realloc_growth)
{
    const ta_api_t *ta = load_ta("libta_lazy.so");
    rec_reset();
    rec_log(1);
    _scalene_mem_test_set_seed(4242);
    scalene_memhooks_config_t c = cfg_default(64 << 10, 0, 0);
    install_or_die(&c);
    uint64_t total = 0;
    char *p = ta->malloc(16);
    total += 16;
    for (size_t n = 4096; n <= ((size_t)8 << 20) / SCALE; n += 4096) {
        p = ta->realloc(p, n);
        CHECK(p, "realloc(%zu)", n);
        p[n - 1] = 1;
        total += n;
    }
    ta->free(p);
    scalene_memhooks_stats_t st;
    scalene_memhooks_stats(&st);
    CHECK(st.tracked_blocks == 0, "%llu blocks tracked after the final free", (unsigned long long)st.tracked_blocks);
    CHECK(REC.n[SCALENE_MEM_FREE] + 2 >= REC.n[SCALENE_MEM_MALLOC], "realloc frees not reported: %llu vs %llu",
          (unsigned long long)REC.n[SCALENE_MEM_FREE], (unsigned long long)REC.n[SCALENE_MEM_MALLOC]);
    check_uninstall();
    _scalene_mem_test_set_seed(0);
    CHECK_NEAR(REC.w[SCALENE_MEM_MALLOC], total, 0.05, "sampled bytes of a realloc-grown buffer");

    /* A failing realloc leaves the block tracked and reports nothing. */
    rec_reset();
    rec_log(1);
    c = cfg_default(1, 0, 0);
    install_or_die(&c);
    void *a = ta->malloc(5000);
    CHECK(rec_find(SCALENE_MEM_MALLOC, a), "malloc(5000) not sampled with a 1-byte window");
    scalene_memhooks_stats(&st);
    uint64_t before = st.tracked_blocks;
    errno = 0;
    void *b = ta->realloc(a, (size_t)1 << 62);
    CHECK(b == NULL && errno == ENOMEM, "realloc(2^62) should fail with ENOMEM (errno %d)", errno);
    CHECK(rec_find(SCALENE_MEM_FREE, a) == NULL, "failed realloc reported a FREE");
    scalene_memhooks_stats(&st);
    CHECK(st.tracked_blocks == before, "failed realloc changed the table");
    uintptr_t aa = addr_of(a);
    ta->free(a);
    CHECK(rec_find_addr(SCALENE_MEM_FREE, aa) != NULL, "block lost after a failed realloc");
    check_uninstall();
}

/* 8 threads, millions of operations, cross-thread frees. */
enum { NTHREADS = 8, BATCH = 1000, ROUNDS = 100 };
static const ta_api_t *g_ta;
static void **g_batches[NTHREADS];
static pthread_barrier_t g_bar;
static uint64_t g_thread_total[NTHREADS];

static void *thread_body(void *arg)
{
    int id = (int)(intptr_t)arg;
    uint64_t x = 0x9E3779B97F4A7C15ULL * (uint64_t)(id + 1), total = 0;
    total += g_ta->churn(250000 / SCALE, 1, 4096, x);
    for (int r = 0; r < ROUNDS / SCALE; r++) {
        for (int i = 0; i < BATCH; i++) {
            x ^= x << 13, x ^= x >> 7, x ^= x << 17;
            size_t n = 1 + x % 8192;
            g_batches[id][i] = (i & 1) ? g_ta->malloc(n) : malloc(n);
            total += n;
        }
        pthread_barrier_wait(&g_bar);
        void **theirs = g_batches[(id + 1) % NTHREADS]; /* free a neighbour's blocks */
        for (int i = 0; i < BATCH; i++)
            (i & 2) ? g_ta->free(theirs[i]) : free(theirs[i]);
        pthread_barrier_wait(&g_bar);
    }
    g_thread_total[id] = total;
    return NULL;
}

TEST_CASE(threads)
{
    g_ta = load_ta("libta_lazy.so");
    rec_reset();
    scalene_memhooks_config_t c = cfg_default(256 << 10, 0, 0);
    install_or_die(&c);
    pthread_t th[NTHREADS];
    pthread_barrier_init(&g_bar, NULL, NTHREADS);
    for (int i = 0; i < NTHREADS; i++) {
        g_batches[i] = calloc(BATCH, sizeof(void *));
        pthread_create(&th[i], NULL, thread_body, (void *)(intptr_t)i);
    }
    uint64_t total = 0;
    for (int i = 0; i < NTHREADS; i++) {
        pthread_join(th[i], NULL);
        total += g_thread_total[i];
    }
    scalene_memhooks_stats_t st;
    scalene_memhooks_stats(&st);
    check_uninstall();
    for (int i = 0; i < NTHREADS; i++)
        free(g_batches[i]);
    printf("  samples %llu, frees %llu, tracked %llu, dropped %llu\n", (unsigned long long)st.malloc_samples,
           (unsigned long long)st.free_samples, (unsigned long long)st.tracked_blocks,
           (unsigned long long)st.dropped);
    CHECK_NEAR(REC.w[SCALENE_MEM_MALLOC], total, 0.05, "sampled bytes from 8 threads");
    CHECK(st.tracked_blocks <= 4, "%llu blocks still tracked", (unsigned long long)st.tracked_blocks);
    CHECK(st.dropped == 0, "dropped %llu", (unsigned long long)st.dropped);
    uint64_t wm = REC.w[SCALENE_MEM_MALLOC], wf = REC.w[SCALENE_MEM_FREE];
    CHECK(wm - wf <= 4 * (256 << 10) + (1 << 20), "freed weight %llu vs allocated %llu", (unsigned long long)wf,
          (unsigned long long)wm);
}

/* fork: children keep working, including while other threads allocate. */
static volatile int g_stop;
static void *churner(void *arg)
{
    uint64_t s = (uint64_t)(intptr_t)arg;
    while (!__atomic_load_n(&g_stop, __ATOMIC_RELAXED))
        g_ta->churn(1000, 1, 100000, ++s);
    return NULL;
}

TEST_CASE(fork_child)
{
    g_ta = load_ta("libta_lazy.so");
    rec_reset();
    scalene_memhooks_config_t c = cfg_default(4096, 4096, 1);
    install_or_die(&c);
    /* Threads allocating while we fork.  Not under ASan: its allocator is
     * not fork-safe (a child can inherit one of its mutexes locked by a
     * thread that was inside ASan's malloc); glibc's malloc is. */
    enum { NCHURN = TEST_ASAN ? 0 : 2 };
    pthread_t th[2];
    g_stop = 0;
    for (int i = 0; i < NCHURN; i++)
        pthread_create(&th[i], NULL, churner, (void *)(intptr_t)(i * 1000));
    for (int k = 0; k < (TEST_ASAN ? 3 : 20); k++) {
        pid_t pid = fork();
        CHECK(pid >= 0, "fork: %s", strerror(errno));
        if (pid == 0) {
            uint64_t mine = REC.n[SCALENE_MEM_MALLOC];
            uint64_t t = g_ta->churn(20000, 1, 10000, 5 + (uint64_t)k);
            char *buf = malloc(1 << 20), *buf2 = malloc(1 << 20);
            memset(buf, 1, 1 << 20);
            g_ta->memcpy(buf2, buf, 1 << 20);
            free(buf);
            free(buf2);
            scalene_memhooks_stats_t st;
            scalene_memhooks_stats(&st);
            if (REC.n[SCALENE_MEM_MALLOC] <= mine || t == 0 || REC.n[SCALENE_MEM_COPY] == 0) {
                fprintf(stderr, "child %d: no samples\n", k);
                _exit(3);
            }
            void *late = dlopen(NULL, RTLD_NOW); /* the dlopen hook works in the child */
            if (!late)
                _exit(4);
            _exit(0);
        }
        int status = 0;
        CHECK(waitpid(pid, &status, 0) == pid, "waitpid");
        CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0, "child %d failed: status 0x%x", k, status);
    }
    __atomic_store_n(&g_stop, 1, __ATOMIC_RELAXED);
    for (int i = 0; i < NCHURN; i++)
        pthread_join(th[i], NULL);
    uint64_t n0 = REC.n[SCALENE_MEM_MALLOC];
    g_ta->churn(10000, 1, 10000, 99);
    CHECK(REC.n[SCALENE_MEM_MALLOC] > n0, "parent stopped sampling after fork");
    check_uninstall();
}

/* A library dlopen()ed after install is patched. */
TEST_CASE(dlopen_late)
{
    const ta_api_t *early = load_ta("libta_lazy.so");
    rec_reset();
    rec_log(1);
    scalene_memhooks_config_t c = cfg_default(1, 0, 0);
    install_or_die(&c);
    scalene_memhooks_stats_t st0, st1;
    scalene_memhooks_stats(&st0);
    CHECK(!_scalene_mem_got_object_hooked("libta_late.so"), "late library already loaded?");
    const ta_api_t *late = load_ta("libta_late.so"); /* dlopen from this executable */
    CHECK(_scalene_mem_got_object_hooked("libta_late.so"), "library loaded after install not patched");
    void *p = late->malloc(3000);
    CHECK(rec_find(SCALENE_MEM_MALLOC, p), "late library's malloc not hooked");
    uintptr_t pa = addr_of(p);
    late->free(p);
    CHECK(rec_find_addr(SCALENE_MEM_FREE, pa), "late library's free not hooked");
    /* dlopen called from a patched library */
    char path[PATH_MAX + 32];
    snprintf(path, sizeof(path), "%s/libta_late2.so", g_dir);
    void *h = early->dlopen(path, RTLD_NOW | RTLD_LOCAL);
    CHECK(h, "dlopen late2: %s", dlerror());
    const ta_api_t *late2 = ((ta_api_fn)dlsym(h, "ta_api"))();
    p = late2->calloc(1, 3333);
    CHECK(rec_find(SCALENE_MEM_MALLOC, p), "library dlopen()ed by a library not hooked");
    late2->free(p);
    scalene_memhooks_stats(&st1);
    CHECK(st1.patched_objects >= st0.patched_objects + 2, "patched objects %llu -> %llu",
          (unsigned long long)st0.patched_objects, (unsigned long long)st1.patched_objects);
    /* failures keep their error message */
    CHECK(early->dlopen("libscalene_no_such_library.so", RTLD_NOW) == NULL, "dlopen of a missing library");
    const char *err = dlerror();
    CHECK(err && strstr(err, "libscalene_no_such_library.so"), "dlerror lost: %s", err ? err : "(null)");
    check_uninstall();
}

/* dlopen("bare name") from a library whose RUNPATH finds it, and $ORIGIN. */
TEST_CASE(dlopen_runpath)
{
    if (TEST_ASAN)
        SKIP("ASan intercepts dlopen itself: the caller's RUNPATH is lost with or without this layer");
    const ta_api_t *rp = load_ta("sub/libta_rpath.so"); /* RUNPATH $ORIGIN/rp */
    CHECK(rp->load("libta_rptarget2.so"), "test setup: RUNPATH lookup fails even without the layer: %s", dlerror());
    rec_reset();
    rec_log(1);
    scalene_memhooks_config_t c = cfg_default(1, 0, 0);
    install_or_die(&c);
    void *h = rp->load("libta_rptarget.so");
    CHECK(h, "dlopen via the caller's RUNPATH failed under the hook: %s", dlerror());
    const ta_api_t *t = ((ta_api_fn)dlsym(h, "ta_api"))();
    void *p = t->malloc(2222);
    CHECK(rec_find(SCALENE_MEM_MALLOC, p), "library found through RUNPATH not hooked");
    t->free(p);
    void *h2 = rp->load("$ORIGIN/rp/libta_rptarget3.so");
    CHECK(h2, "dlopen of $ORIGIN/... failed under the hook: %s", dlerror());
    check_uninstall();
}

/* The callback may allocate, copy and free: nothing recurses or is reported. */
static const ta_api_t *g_cb_ta;
static void cb_allocates(const scalene_mem_event_t *ev)
{
    (void)ev;
    char *a = malloc(777);
    char *b = g_cb_ta->malloc(777);
    memcpy(a, "hello", 6);
    g_cb_ta->memcpy(b, a, 777);
    char *s = strdup("callback");
    a = realloc(a, 7777);
    free(s);
    free(a);
    g_cb_ta->free(b);
}

TEST_CASE(callback_mallocs)
{
    g_cb_ta = load_ta("libta_lazy.so");
    rec_reset();
    rec_log(1);
    REC.extra = cb_allocates;
    scalene_memhooks_config_t c = cfg_default(1, 1, 1);
    install_or_die(&c);
    for (int i = 0; i < 10000 / SCALE; i++) {
        void *p = g_cb_ta->malloc(100 + (size_t)i % 50);
        g_cb_ta->free(p);
    }
    REC.extra = NULL;
    check_uninstall();
    uint64_t n = REC.log_len;
    for (uint64_t i = 0; i < n; i++)
        CHECK(REC.log[i].size != 777 && REC.log[i].size != 7777, "an allocation made inside the callback was reported");
    CHECK(REC.n[SCALENE_MEM_MALLOC] >= 10000 / SCALE, "samples missing: %llu", (unsigned long long)REC.n[SCALENE_MEM_MALLOC]);
}

/* Uninstall restores every slot; install works again afterwards. */
static size_t count_perm(const char *lib, char perms[][8], size_t max)
{
    FILE *f = fopen("/proc/self/maps", "r");
    char line[1024];
    size_t n = 0;
    while (f && fgets(line, sizeof(line), f))
        if (strstr(line, lib) && n < max)
            sscanf(line, "%*s %7s", perms[n++]);
    if (f)
        fclose(f);
    return n;
}

TEST_CASE(uninstall_restores)
{
    const ta_api_t *lazy = load_ta("libta_lazy.so");
    const ta_api_t *noplt = load_ta("libta_noplt.so");
    void *m0 = lazy->addr_malloc(), *f0 = noplt->addr_free();
    char before[16][8], after[16][8];
    size_t nb = count_perm("libta_noplt.so", before, 16);
    CHECK(_scalene_mem_got_count_hooked(NULL) == 0, "slots hooked before install");
    rec_reset();
    rec_log(1);
    scalene_memhooks_config_t c = cfg_default(1, 1, 1);
    install_or_die(&c);
    size_t objs = 0, slots = _scalene_mem_got_count_hooked(&objs);
    printf("  hooked slots %zu in %zu objects\n", slots, objs);
    CHECK(slots > 20 && objs >= 3, "few hooked slots: %zu in %zu objects", slots, objs);
    CHECK(lazy->addr_malloc() != m0 && noplt->addr_free() != f0, "GLOB_DAT slots not patched");
    size_t na = count_perm("libta_noplt.so", after, 16);
    CHECK(na == nb, "mapping count changed: %zu -> %zu", nb, na);
    for (size_t i = 0; i < na; i++)
        CHECK(strcmp(before[i], after[i]) == 0, "RELRO protection not restored: %s -> %s", before[i], after[i]);
    char why[128];
    CHECK(scalene_memhooks_install(&c, why, sizeof(why)) == -EALREADY && why[0], "second install: %s", why);
    check_uninstall();
    CHECK(_scalene_mem_got_count_hooked(NULL) == 0, "slots still hooked after uninstall");
    CHECK(lazy->addr_malloc() == m0 && noplt->addr_free() == f0, "slots not restored to their old values");
    uint64_t n = REC.log_len;
    void *p = lazy->malloc(4096);
    noplt->free(noplt->malloc(4096));
    lazy->free(p);
    CHECK(REC.log_len == n, "events after uninstall");
    CHECK(scalene_memhooks_uninstall() == 0, "second uninstall");
    install_or_die(&c);
    p = lazy->malloc(4096);
    CHECK(rec_find(SCALENE_MEM_MALLOC, p), "reinstall does not sample");
    lazy->free(p);
    check_uninstall();
    CHECK(scalene_memhooks_install(NULL, why, sizeof(why)) == -EINVAL, "NULL config accepted");
}

/* A NULL callback: samples are counted, nothing breaks. */
TEST_CASE(null_callback)
{
    const ta_api_t *ta = load_ta("libta_lazy.so");
    scalene_memhooks_config_t c = cfg_default(4096, 4096, 1);
    c.callback = NULL;
    install_or_die(&c);
    ta->churn(100000, 1, 10000, 1);
    char *a = ta->malloc(1 << 20), *b = ta->malloc(1 << 20);
    ta->memcpy(a, b, 1 << 20);
    ta->free(a);
    ta->free(b);
    scalene_memhooks_stats_t st;
    scalene_memhooks_stats(&st);
    CHECK(st.malloc_samples > 100 && st.copy_samples > 0 && st.tracked_blocks == 0 && st.free_samples == 0,
          "stats %llu %llu %llu %llu", (unsigned long long)st.malloc_samples, (unsigned long long)st.copy_samples,
          (unsigned long long)st.tracked_blocks, (unsigned long long)st.free_samples);
    check_uninstall();
}

/* Disabled: no events; a tracked block freed meanwhile is retired silently. */
TEST_CASE(disabled_switch)
{
    const ta_api_t *ta = load_ta("libta_lazy.so");
    rec_reset();
    rec_log(1);
    scalene_memhooks_config_t c = cfg_default(1, 1, 1);
    install_or_die(&c);
    void *p = ta->malloc(5000);
    CHECK(rec_find(SCALENE_MEM_MALLOC, p), "not sampled");
    scalene_memhooks_stats_t st;
    scalene_memhooks_stats(&st);
    uint64_t tracked = st.tracked_blocks, n = REC.log_len;
    scalene_memhooks_set_enabled(0);
    ta->churn(1000, 100, 10000, 3);
    ta->free(p);
    char a[100], b[100] = "x";
    ta->memcpy(a, b, sizeof(a));
    CHECK(REC.log_len == n, "%llu events while disabled", (unsigned long long)(REC.log_len - n));
    scalene_memhooks_stats(&st);
    CHECK(st.tracked_blocks == tracked - 1, "free while disabled did not retire the record");
    scalene_memhooks_set_enabled(1);
    void *q = ta->malloc(5000);
    CHECK(rec_find(SCALENE_MEM_MALLOC, q), "re-enabled but not sampling");
    ta->free(q);
    check_uninstall();
    scalene_memhooks_set_enabled(1); /* no effect when not installed */
    n = REC.log_len;
    ta->free(ta->malloc(5000));
    CHECK(REC.log_len == n, "set_enabled(1) after uninstall produced events");
}

/* Copy volume: 256 MiB in large chunks, default window, within 20 %. */
TEST_CASE(memcpy_volume)
{
    const ta_api_t *ta = load_ta("libta_lazy.so");
    uint64_t chunk = 16 << 20, total = 256 << 20;
    char *src = malloc(chunk), *dst = malloc(chunk);
    memset(src, 7, chunk);
    memset(dst, 0, chunk);
    rec_reset();
    scalene_memhooks_config_t c = cfg_default(0, 0, 1);
    install_or_die(&c);
    /* Standard errors: 16 MiB chunks ~0%, 1 MiB chunks 4.8%, 256 KiB 6.4%. */
    ta->copy_volume(dst, src, chunk, total);
    CHECK_NEAR(REC.w[SCALENE_MEM_COPY], total, 0.20, "copied bytes, 16 MiB chunks, default window");
    REC.w[SCALENE_MEM_COPY] = 0;
    ta->copy_volume(dst, src, 1 << 20, total);
    CHECK_NEAR(REC.w[SCALENE_MEM_COPY], total, 0.20, "copied bytes, 1 MiB chunks, default window");
    REC.w[SCALENE_MEM_COPY] = 0;
    ta->copy_volume(dst, src, 256 << 10, total);
    CHECK_NEAR(REC.w[SCALENE_MEM_COPY], total, 0.30, "copied bytes, 256 KiB chunks, default window");
    check_uninstall();
    rec_reset();
    c = cfg_default(0, 64 << 10, 1);
    install_or_die(&c);
    ta->copy_volume(dst, src, 4096, 64 << 20); /* ~1000 samples: sd 3.2% */
    CHECK_NEAR(REC.w[SCALENE_MEM_COPY], 64 << 20, 0.15, "copied bytes, 4 KiB chunks, 64 KiB window");
    check_uninstall();
    free(src);
    free(dst);
}

/* Neither this extension nor the dynamic loader is patched; libc is. */
TEST_CASE(not_self_not_loader)
{
    load_ta("libta_lazy.so");
    scalene_memhooks_config_t c = cfg_default(0, 0, 1);
    install_or_die(&c);
    CHECK(!_scalene_mem_got_object_hooked("libscalene_mem"), "the layer patched itself");
    CHECK(!_scalene_mem_got_object_hooked("ld-linux"), "the dynamic loader was patched");
    CHECK(_scalene_mem_got_object_hooked("libta_lazy.so"), "helper library not patched");
    CHECK(_scalene_mem_got_object_hooked("libc.so"), "libc's own malloc/free slots not patched");
    check_uninstall();
}

/* Install/uninstall repeatedly while threads allocate and copy. */
TEST_CASE(concurrent_install)
{
    g_ta = load_ta("libta_now.so");
    rec_reset();
    g_stop = 0;
    pthread_t th[3];
    for (int i = 0; i < 3; i++)
        pthread_create(&th[i], NULL, churner, (void *)(intptr_t)(i * 77));
    scalene_memhooks_config_t c = cfg_default(8192, 8192, 1);
    for (int k = 0; k < 30; k++) {
        install_or_die(&c);
        usleep(2000);
        if (k & 1)
            scalene_memhooks_set_enabled(0);
        check_uninstall();
    }
    __atomic_store_n(&g_stop, 1, __ATOMIC_RELAXED);
    for (int i = 0; i < 3; i++)
        pthread_join(th[i], NULL);
    CHECK(_scalene_mem_got_count_hooked(NULL) == 0, "slots left hooked");
    CHECK(REC.n[SCALENE_MEM_MALLOC] > 0, "no samples at all");
}

static const test_case_t TESTS[] = {
    T(family_all_libs), T(unbiased_tiny), T(unbiased_huge), T(unbiased_mixed), T(free_credit),
    T(realloc_growth), T(threads), T(fork_child), T(dlopen_late), T(dlopen_runpath),
    T(callback_mallocs), T(uninstall_restores), T(null_callback), T(disabled_switch),
    T(memcpy_volume), T(not_self_not_loader), T(concurrent_install),
};

int main(int argc, char **argv)
{
    setvbuf(stdout, NULL, _IOLBF, 0);
    return test_main(argc, argv, TESTS, sizeof(TESTS) / sizeof(TESTS[0]));
}
