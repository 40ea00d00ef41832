/* engine/memory/byte_sampler.c -- per-thread Poisson byte sampling (see byte_sampler.h). */
#include <math.h>
#include <stdint.h>
#include <time.h>
#include <unistd.h>

#include "memhooks_internal.h"

__thread _scalene_mem_tls_t _scalene_mem_tls __attribute__((tls_model("initial-exec")));

_scalene_mem_params_t _scalene_mem_params = {
    SCALENE_MEM_DEFAULT_SAMPLING_WINDOW, SCALENE_MEM_DEFAULT_COPY_WINDOW, 0x5ca1e5ca1e5ca1e5ULL, 1
};

/* Threads seeded so far (mixed into each new thread's seed). */
static uint64_t seed_counter;

static uint64_t splitmix64(uint64_t x)
{
    x += 0x9E3779B97F4A7C15ULL;
    x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ULL;
    x = (x ^ (x >> 27)) * 0x94D049BB133111EBULL;
    return x ^ (x >> 31);
}

static uint64_t rng_next(uint64_t *s)
{
    uint64_t x = *s;
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    *s = x;
    return x * 0x2545F4914F6CDD1DULL;
}

static void seed_thread(_scalene_mem_tls_t *t)
{
    uint64_t k = __atomic_fetch_add(&seed_counter, 1, __ATOMIC_RELAXED);
    uint64_t s = splitmix64(__atomic_load_n(&_scalene_mem_params.seed, __ATOMIC_RELAXED) ^ splitmix64(k));
    t->rng = s ? s : 0x9E3779B97F4A7C15ULL;
}

uint64_t _scalene_mem_sampler_draw(_scalene_mem_tls_t *t, uint64_t window)
{
    if (SCALENE_MEM_UNLIKELY(t->rng == 0))
        seed_thread(t);
    /* u uniform in (0,1): 53 random bits, centred so that log(u) is finite. */
    double u = ((double)(rng_next(&t->rng) >> 11) + 0.5) * 0x1.0p-53;
    double d = -log(u) * (double)window;
    if (d <= 1.0)
        return 1;
    if (d >= 0x1.0p62)
        return (uint64_t)1 << 62;
    /* ceil: for integer n, P(ceil(X) <= n) = P(X <= n) = 1 - exp(-n/window). */
    return (uint64_t)ceil(d);
}

uint64_t _scalene_mem_sampler_weight(uint64_t n, uint64_t window)
{
    if (n == 0)
        return 0;
    double x = (double)n / (double)window;
    if (x > 40.0) /* p(n) == 1 to double precision */
        return n;
    double w = (double)n / -expm1(-x);
    return (uint64_t)(w + 0.5);
}

void _scalene_mem_sampler_thread_init(_scalene_mem_tls_t *t)
{
    uint32_t gen = __atomic_load_n(&_scalene_mem_params.gen, __ATOMIC_ACQUIRE);
    uint64_t w = __atomic_load_n(&_scalene_mem_params.window, __ATOMIC_RELAXED);
    uint64_t cw = __atomic_load_n(&_scalene_mem_params.copy_window, __ATOMIC_RELAXED);
    if (t->rng == 0)
        seed_thread(t);
    t->remaining = _scalene_mem_sampler_draw(t, w);
    t->copy_remaining = _scalene_mem_sampler_draw(t, cw);
    t->gen = gen;
}

void _scalene_mem_sampler_configure(uint64_t window, uint64_t copy_window, uint64_t seed)
{
    if (window == 0)
        window = SCALENE_MEM_DEFAULT_SAMPLING_WINDOW;
    if (copy_window == 0)
        copy_window = SCALENE_MEM_DEFAULT_COPY_WINDOW;
    if (seed == 0) {
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        seed = splitmix64(((uint64_t)ts.tv_sec << 32) ^ (uint64_t)ts.tv_nsec ^ ((uint64_t)getpid() << 16));
    } else {
        /* Deterministic: restart the per-thread seed sequence. */
        __atomic_store_n(&seed_counter, 0, __ATOMIC_RELAXED);
        _scalene_mem_tls.rng = 0;
    }
    __atomic_store_n(&_scalene_mem_params.window, window, __ATOMIC_RELAXED);
    __atomic_store_n(&_scalene_mem_params.copy_window, copy_window, __ATOMIC_RELAXED);
    __atomic_store_n(&_scalene_mem_params.seed, seed, __ATOMIC_RELAXED);
    /* The calling thread adopts the new windows at once; other threads at
     * their next slow path (their current countdown was drawn for the old
     * window: one interval of bias, then exact). */
    _scalene_mem_tls.gen = 0;
    _scalene_mem_tls.remaining = 0;
    _scalene_mem_tls.copy_remaining = 0;
    uint32_t g = __atomic_load_n(&_scalene_mem_params.gen, __ATOMIC_RELAXED) + 1;
    if (g == 0)
        g = 1; /* 0 marks an uninitialised thread */
    __atomic_store_n(&_scalene_mem_params.gen, g, __ATOMIC_RELEASE);
}

void _scalene_mem_sampler_after_fork_child(void)
{
    _scalene_mem_tls_t *t = &_scalene_mem_tls;
    /* Without this the child would replay the parent's sample points. */
    t->rng = splitmix64(t->rng ^ ((uint64_t)getpid() << 32) ^ 0xF0F0F0F0ULL);
    if (t->rng == 0)
        t->rng = 1;
    t->gen = 0; /* redraw both countdowns at the next slow path */
    t->remaining = 0;
    t->copy_remaining = 0;
}
