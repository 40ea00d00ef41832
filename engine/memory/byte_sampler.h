/* engine/memory/byte_sampler.h -- per-thread Poisson byte sampling.
 *
 * Sample points form a Poisson process of rate 1/window over the stream of
 * bytes a thread requests (or copies): the distance to the next point is
 * exponential with mean `window`, kept as an integer countdown.  An operation
 * of n bytes is sampled when the next point falls inside it (n >= remaining),
 * which happens with probability p(n) = 1 - exp(-n/window); by
 * memorylessness the countdown is then redrawn from the end of the operation.
 * The sample's weight is the Horvitz-Thompson estimate n / p(n), so the sum
 * of weights is an unbiased estimate of the bytes, for 1-byte objects and
 * 500 MB buffers alike (the latter are always sampled, with weight n).
 *
 * Hot path (inlined into every hook):
 *     if (likely(n < t->remaining)) t->remaining -= n; else slow path;
 * Countdowns are unsigned: a huge n can never wrap them, and setting one to
 * UINT64_MAX suppresses sampling for a nested region (pymalloc -> malloc,
 * the callback) without a second branch in the hot path.
 */
#ifndef SCALENE_MEM_BYTE_SAMPLER_H
#define SCALENE_MEM_BYTE_SAMPLER_H

#include <stdint.h>

/* Per-thread state.  Zero-initialised for every new thread, which makes the
 * first allocation and the first copy take the slow path, where the thread is
 * initialised (gen != params.gen).  Kept to 32 bytes: the extension is
 * dlopen()ed and initial-exec TLS comes from glibc's small static-TLS surplus. */
typedef struct {
    uint64_t remaining;      /* bytes until the next allocation sample point */
    uint64_t copy_remaining; /* bytes until the next copy sample point */
    uint64_t rng;            /* xorshift64* state; 0 = not seeded */
    uint32_t gen;            /* params generation the countdowns were drawn for */
    uint32_t guard;          /* nonzero while this thread runs layer code
                                (slow path, callback): nested hooks forward */
} _scalene_mem_tls_t;

/* initial-exec: the hooks must never go through __tls_get_addr, which may
 * call malloc. */
extern __thread _scalene_mem_tls_t _scalene_mem_tls
    __attribute__((tls_model("initial-exec")));

/* Sampler parameters: written by install (under the install lock); `gen` is
 * stored last with release order and read with acquire order by slow paths. */
typedef struct {
    uint64_t window;       /* mean bytes between allocation samples */
    uint64_t copy_window;  /* mean bytes between copy samples */
    uint64_t seed;         /* base seed mixed into every thread's RNG */
    uint32_t gen;          /* bumped by each configure; starts at 1 */
} _scalene_mem_params_t;
extern _scalene_mem_params_t _scalene_mem_params;

/* Sets the windows (0 = defaults) and a new generation, so that every thread
 * redraws its countdowns at its next slow path (the calling thread at its
 * next operation: its countdowns are reset).  seed == 0: derive one from
 * the clock and pid; otherwise threads are seeded deterministically from it
 * (in the order they first reach a slow path). */
void _scalene_mem_sampler_configure(uint64_t window, uint64_t copy_window, uint64_t seed);

/* Seeds (if needed) and draws both countdowns of the calling thread for the
 * current generation. */
void _scalene_mem_sampler_thread_init(_scalene_mem_tls_t *t);

/* Exponential draw with the given mean, as an integer >= 1 (ceil). */
uint64_t _scalene_mem_sampler_draw(_scalene_mem_tls_t *t, uint64_t window);

/* Horvitz-Thompson weight of a sampled operation of n bytes: n / (1 - exp(-n/window)). */
uint64_t _scalene_mem_sampler_weight(uint64_t n, uint64_t window);

/* In a forked child: gives the surviving thread a fresh RNG stream. */
void _scalene_mem_sampler_after_fork_child(void);

#endif /* SCALENE_MEM_BYTE_SAMPLER_H */
