/* engine/tests/memory/test_units.c -- sampler, address table, bootstrap arena
 * and the hook functions called directly (install with GOT patching turned
 * off).  Nothing here depends on relocation patching, so this program is the
 * one that runs under AddressSanitizer + UBSan as well. */
#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <sys/wait.h>

#include "testlib.h"

typedef void *(*malloc_t)(size_t);
typedef void *(*calloc_t)(size_t, size_t);
typedef void *(*realloc_t)(void *, size_t);
typedef void (*free_t)(void *);
typedef void *(*memcpy_t)(void *, const void *, size_t);
typedef int (*posix_memalign_t)(void **, size_t, size_t);

static malloc_t H_malloc;
static calloc_t H_calloc;
static realloc_t H_realloc;
static free_t H_free;
static memcpy_t H_memcpy;
static posix_memalign_t H_posix_memalign;

static void get_hooks(void)
{
    H_malloc = (malloc_t)_scalene_mem_hook_address("malloc");
    H_calloc = (calloc_t)_scalene_mem_hook_address("calloc");
    H_realloc = (realloc_t)_scalene_mem_hook_address("realloc");
    H_free = (free_t)_scalene_mem_hook_address("free");
    H_memcpy = (memcpy_t)_scalene_mem_hook_address("memcpy");
    H_posix_memalign = (posix_memalign_t)_scalene_mem_hook_address("posix_memalign");
    CHECK(H_malloc && H_calloc && H_realloc && H_free && H_memcpy && H_posix_memalign, "hook lookup");
}

static void install_direct(uint64_t window, uint64_t copy_window)
{
    get_hooks();
    _scalene_mem_test_skip_got(1);
    scalene_memhooks_config_t c = cfg_default(window, copy_window, 1);
    install_or_die(&c);
}

static void uninstall_direct(void)
{
    CHECK(scalene_memhooks_uninstall() == 0, "uninstall");
    _scalene_mem_test_skip_got(0);
}

TEST_CASE(weight_function)
{
    uint64_t W = 1 << 20;
    CHECK(_scalene_mem_sampler_weight(0, W) == 0, "weight(0)");
    for (uint64_t n = 1; n < ((uint64_t)1 << 34); n = n * 3 + 1) {
        uint64_t w = _scalene_mem_sampler_weight(n, W);
        double p = -expm1(-(double)n / (double)W);
        CHECK(w >= n, "weight(%llu) = %llu < n", (unsigned long long)n, (unsigned long long)w);
        CHECK(fabs((double)w * p - (double)n) <= 1.0, "weight(%llu) * p != n", (unsigned long long)n);
    }
    CHECK(_scalene_mem_sampler_weight(1, W) - W <= 1, "weight(1) = %llu", (unsigned long long)_scalene_mem_sampler_weight(1, W));
    CHECK(_scalene_mem_sampler_weight(100 * W, W) == 100 * W, "large blocks: weight = size");
}

TEST_CASE(draw_distribution)
{
    _scalene_mem_tls_t t;
    memset(&t, 0, sizeof(t));
    t.rng = 42;
    uint64_t W = 65536, N = 1000000 / (TEST_ASAN ? 4 : 1);
    double sum = 0;
    uint64_t below = 0, n0 = W / 2;
    for (uint64_t i = 0; i < N; i++) {
        uint64_t d = _scalene_mem_sampler_draw(&t, W);
        CHECK(d >= 1, "draw < 1");
        sum += (double)d;
        below += d <= n0;
    }
    CHECK_NEAR(sum / (double)N, (double)W + 0.5, 0.01, "mean of the countdown");
    CHECK_NEAR((double)below / (double)N, -expm1(-0.5), 0.01, "P(countdown <= W/2)");
}

/* The hot-path arithmetic + slow path, driven directly: 1..64-byte and
 * mixed sizes sum to the truth. */
TEST_CASE(sampler_unbiased_direct)
{
    rec_reset();
    _scalene_mem_test_set_seed(31337);
    install_direct(8192, 0);
    uint64_t x = 5, total = 0;
    static char dummy[64];
    for (int i = 0; i < 4000000 / (TEST_ASAN ? 4 : 1); i++) {
        x ^= x << 13, x ^= x >> 7, x ^= x << 17;
        uint64_t n = 1 + x % 64;
        _scalene_mem_account(dummy, n, SCALENE_DOMAIN_NATIVE);
        total += n;
    }
    uninstall_direct();
    CHECK_NEAR(REC.w[SCALENE_MEM_MALLOC], total, 0.04, "sampled bytes (direct, tiny)");
    _scalene_mem_table_clear();

    rec_reset();
    REC.tag_mode = 1; /* nothing tracked: the same dummy address repeats */
    install_direct(1 << 20, 0);
    total = 0;
    for (int i = 0; i < 200000; i++) {
        x ^= x << 13, x ^= x >> 7, x ^= x << 17;
        uint64_t n = (uint64_t)exp2((double)(x % 26000) / 1000.0); /* 1 B .. 64 MiB */
        _scalene_mem_account(dummy, n, SCALENE_DOMAIN_PYTHON);
        total += n;
    }
    uninstall_direct();
    _scalene_mem_test_set_seed(0);
    CHECK_NEAR(REC.w_dom[SCALENE_DOMAIN_PYTHON], total, 0.03, "sampled bytes (direct, log-uniform)");
}

TEST_CASE(table_basic)
{
    CHECK(_scalene_mem_table_init() == 0, "table init");
    _scalene_mem_table_clear();
    _scalene_mem_block_t b = {7, 100, 50, 1, 0}, o;
    char *base = (char *)(uintptr_t)0x7f0000000000ULL;
    CHECK(!_scalene_mem_filter_maybe(base), "filter set on an empty table");
    CHECK(_scalene_mem_table_insert(base, &b), "insert");
    CHECK(_scalene_mem_filter_maybe(base), "filter not set after insert");
    CHECK(_scalene_mem_table_count() == 1, "count");
    b.tag = 8; /* stale record of the same address is replaced, not duplicated */
    CHECK(_scalene_mem_table_insert(base, &b), "re-insert");
    CHECK(_scalene_mem_table_count() == 1, "count after re-insert");
    CHECK(_scalene_mem_table_remove(base, &o) && o.tag == 8 && o.weight == 100 && o.size == 50 && o.domain == 1,
          "remove returns the record");
    CHECK(!_scalene_mem_table_remove(base, &o), "double remove");
    CHECK(!_scalene_mem_filter_maybe(base), "filter not cleared");
    CHECK(!_scalene_mem_table_remove(NULL, &o), "remove(NULL)");
    /* Fill the table: inserts fail once a bucket is full, never crash. */
    uint64_t ok = 0, fail = 0;
    for (uint64_t i = 0; i < SCALENE_MEM_TABLE_SLOTS + 1000; i++) {
        b.tag = i + 1;
        if (_scalene_mem_table_insert(base + 16 * i, &b))
            ok++;
        else
            fail++;
    }
    printf("  filled: %llu recorded, %llu refused (capacity %llu)\n", (unsigned long long)ok,
           (unsigned long long)fail, (unsigned long long)SCALENE_MEM_TABLE_SLOTS);
    CHECK(ok > SCALENE_MEM_TABLE_SLOTS * 9 / 10 && fail > 0, "fill behaviour");
    for (uint64_t i = 0; i < SCALENE_MEM_TABLE_SLOTS + 1000; i++)
        if (_scalene_mem_table_remove(base + 16 * i, &o))
            CHECK(o.tag == i + 1, "wrong record for key %llu", (unsigned long long)i);
    CHECK(_scalene_mem_table_count() == 0, "count after emptying: %llu", (unsigned long long)_scalene_mem_table_count());
    _scalene_mem_table_clear();
}

enum { TT = 8 };
static void *table_thread(void *arg)
{
    uint64_t id = (uint64_t)(intptr_t)arg;
    char *base = (char *)(uintptr_t)(0x100000000000ULL + (id << 36));
    _scalene_mem_block_t b, o;
    for (int round = 0; round < 50; round++) {
        for (uint64_t i = 0; i < 2000; i++) {
            b.tag = id * 1000000 + i + 1;
            b.weight = i;
            b.size = round;
            b.domain = 0;
            if (!_scalene_mem_table_insert(base + 48 * i, &b))
                return (void *)1;
        }
        for (uint64_t i = 0; i < 2000; i++) {
            if (!_scalene_mem_table_remove(base + 48 * i, &o))
                return (void *)2;
            if (o.tag != id * 1000000 + i + 1 || o.weight != i || o.size != (uint64_t)round)
                return (void *)3;
        }
    }
    return NULL;
}

TEST_CASE(table_concurrent)
{
    CHECK(_scalene_mem_table_init() == 0, "table init");
    _scalene_mem_table_clear();
    pthread_t th[TT];
    for (int i = 0; i < TT; i++)
        pthread_create(&th[i], NULL, table_thread, (void *)(intptr_t)i);
    for (int i = 0; i < TT; i++) {
        void *r;
        pthread_join(th[i], &r);
        CHECK(r == NULL, "thread %d failed: %p", i, r);
    }
    CHECK(_scalene_mem_table_count() == 0, "count %llu", (unsigned long long)_scalene_mem_table_count());
}

/* The hooks called as functions: the whole slow path, table and events. */
TEST_CASE(hooks_direct)
{
    rec_reset();
    rec_log(1);
    install_direct(1, 1);
    void *p = H_malloc(1000);
    const rec_event_t *m = rec_find(SCALENE_MEM_MALLOC, p);
    CHECK(m && m->size == 1000 && m->weight == 1000 && m->tag, "malloc event");
    uint64_t tag = m->tag;
    uintptr_t pa = addr_of(p);
    void *q = H_realloc(p, 100000);
    const rec_event_t *f = rec_find_addr(SCALENE_MEM_FREE, pa);
    CHECK(f && f->tag == tag && f->size == 1000, "realloc: free of the old block");
    CHECK(rec_find(SCALENE_MEM_MALLOC, q), "realloc: new block");
    char *c = H_calloc(10, 10);
    CHECK(c && c[99] == 0 && rec_find(SCALENE_MEM_MALLOC, c), "calloc");
    H_memcpy(c, "0123456789", 10);
    CHECK(rec_find(SCALENE_MEM_COPY, c) && memcmp(c, "0123456789", 10) == 0, "memcpy");
    void *al = NULL;
    CHECK(H_posix_memalign(&al, 4096, 5000) == 0 && ((uintptr_t)al & 4095) == 0 && rec_find(SCALENE_MEM_MALLOC, al),
          "posix_memalign");
    uintptr_t qa = addr_of(q), ca = addr_of(c);
    H_free(al);
    H_free(c);
    H_free(q);
    CHECK(rec_find_addr(SCALENE_MEM_FREE, qa) && rec_find_addr(SCALENE_MEM_FREE, ca), "frees");
    errno = 0;
    CHECK(H_malloc((size_t)1 << 62) == NULL && errno == ENOMEM, "errno of a failed malloc is kept: %d", errno);
    H_free(NULL);
    scalene_memhooks_stats_t st;
    scalene_memhooks_stats(&st);
    CHECK(st.tracked_blocks == 0, "tracked %llu", (unsigned long long)st.tracked_blocks);
    uninstall_direct();
}

static void *direct_thread(void *arg)
{
    uint64_t x = (uint64_t)(intptr_t)arg * 0x9E3779B97F4A7C15ULL + 1, total = 0;
    void *keep[64] = {0};
    for (int i = 0; i < 200000 / (TEST_ASAN ? 8 : 1); i++) {
        x ^= x << 13, x ^= x >> 7, x ^= x << 17;
        size_t n = 1 + x % 5000;
        int k = (int)(x >> 40) & 63;
        H_free(keep[k]);
        keep[k] = (i & 1) ? H_malloc(n) : H_realloc(NULL, n);
        total += n;
    }
    for (int k = 0; k < 64; k++)
        H_free(keep[k]);
    return (void *)(uintptr_t)total;
}

TEST_CASE(threads_direct)
{
    rec_reset();
    install_direct(32768, 0);
    pthread_t th[8];
    for (int i = 0; i < 8; i++)
        pthread_create(&th[i], NULL, direct_thread, (void *)(intptr_t)i);
    uint64_t total = 0;
    for (int i = 0; i < 8; i++) {
        void *r;
        pthread_join(th[i], &r);
        total += (uint64_t)(uintptr_t)r;
    }
    scalene_memhooks_stats_t st;
    scalene_memhooks_stats(&st);
    uninstall_direct();
    CHECK_NEAR(REC.w[SCALENE_MEM_MALLOC], total, 0.05, "sampled bytes from 8 threads (direct)");
    CHECK(st.tracked_blocks == 0 && st.dropped == 0, "tracked %llu dropped %llu", (unsigned long long)st.tracked_blocks,
          (unsigned long long)st.dropped);
    CHECK(REC.w[SCALENE_MEM_FREE] == REC.w[SCALENE_MEM_MALLOC], "freed weight %llu != allocated %llu",
          (unsigned long long)REC.w[SCALENE_MEM_FREE], (unsigned long long)REC.w[SCALENE_MEM_MALLOC]);
}

/* Allocations while the real functions are being resolved come from the
 * static arena; free ignores them, realloc moves them out. */
TEST_CASE(bootstrap_arena)
{
    rec_reset();
    install_direct(1 << 20, 0);
    _scalene_mem_test_force_bootstrap(1);
    char *a = H_calloc(100, 10);
    CHECK(a && _scalene_mem_in_bootstrap_arena(a), "calloc during bootstrap not served by the arena");
    for (int i = 0; i < 1000; i++)
        CHECK(a[i] == 0, "arena calloc not zeroed");
    char *b = H_malloc(50);
    CHECK(b && _scalene_mem_in_bootstrap_arena(b) && ((uintptr_t)b & 15) == 0, "arena malloc");
    memcpy(b, "bootstrap", 10);
    void *al = NULL;
    CHECK(H_posix_memalign(&al, 256, 100) == 0 && ((uintptr_t)al & 255) == 0, "arena posix_memalign");
    H_free(a); /* ignored */
    char *b2 = H_realloc(b, 20);
    CHECK(b2 && _scalene_mem_in_bootstrap_arena(b2) && memcmp(b2, "bootstrap", 10) == 0, "arena realloc");
    CHECK(H_malloc(1 << 20) == NULL, "the arena is small and must refuse 1 MiB");
    _scalene_mem_test_force_bootstrap(0);
    char *c = H_realloc(b2, 100000);
    CHECK(c && !_scalene_mem_in_bootstrap_arena(c) && memcmp(c, "bootstrap", 10) == 0,
          "realloc out of the arena lost the contents");
    H_free(c);
    H_free(b);  /* arena blocks: ignored */
    H_free(al);
    uninstall_direct();
}

TEST_CASE(fork_direct)
{
    rec_reset();
    install_direct(4096, 4096);
    for (int k = 0; k < 5; k++) {
        pid_t pid = fork();
        CHECK(pid >= 0, "fork");
        if (pid == 0) {
            uint64_t n0 = REC.n[SCALENE_MEM_MALLOC];
            for (int i = 0; i < 10000; i++)
                H_free(H_malloc(1000));
            _exit(REC.n[SCALENE_MEM_MALLOC] > n0 ? 0 : 3);
        }
        int st = 0;
        waitpid(pid, &st, 0);
        CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0, "child status 0x%x", st);
    }
    uninstall_direct();
}

static const test_case_t TESTS[] = {
    T(weight_function), T(draw_distribution), T(sampler_unbiased_direct), T(table_basic),
    T(table_concurrent), T(hooks_direct), T(threads_direct), T(bootstrap_arena), T(fork_direct),
};

int main(int argc, char **argv)
{
    setvbuf(stdout, NULL, _IOLBF, 0);
    return test_main(argc, argv, TESTS, sizeof(TESTS) / sizeof(TESTS[0]));
}
