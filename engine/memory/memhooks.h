/* engine/memory/memhooks.h -- contract of scalene's memory interposition layer.
 *
 * What it does: redirects the malloc family, the memcpy family and dlopen of
 * every loaded ELF object (by rewriting its GOT/PLT relocation slots at run
 * time, so it works when profiling starts inside a running interpreter), and
 * optionally wraps CPython's PYMEM_DOMAIN_MEM and PYMEM_DOMAIN_OBJ allocators.
 * Allocated bytes and copied bytes are sampled with a per-thread Poisson
 * (geometric) byte countdown; every sample is reported synchronously to one
 * engine callback, and sampled blocks are remembered so that their free is
 * reported with the tag the engine gave them.  docs/memory-layer.md has the
 * design, the measured costs and what is not covered.
 *
 * Conventions (all functions below):
 *   - ints: 0 = success, negative errno-style code on failure;
 *   - no function raises, longjmps or aborts;
 *   - install/uninstall/stats may be called from any thread and are
 *     serialised internally; set_enabled is a lock-free store;
 *   - nothing else is exported: every other symbol of the layer is hidden and
 *     prefixed _scalene_mem_.
 */
#ifndef SCALENE_MEMHOOKS_H
#define SCALENE_MEMHOOKS_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Defaults used when a window in the configuration is 0. */
#define SCALENE_MEM_DEFAULT_SAMPLING_WINDOW ((uint64_t)1 << 20) /* 1 MiB  */
#define SCALENE_MEM_DEFAULT_COPY_WINDOW     ((uint64_t)1 << 20) /* 1 MiB  */

enum { SCALENE_MEM_MALLOC = 1, SCALENE_MEM_FREE = 2, SCALENE_MEM_COPY = 3 };
enum { SCALENE_DOMAIN_NATIVE = 0, SCALENE_DOMAIN_PYTHON = 1 };

/* One sample, passed by pointer to the callback; valid only during the call.
 *
 *   kind    SCALENE_MEM_MALLOC, _FREE or _COPY.
 *   domain  MALLOC: which allocator the OUTERMOST hook saw: PYTHON when the
 *           request came through PyMem_Malloc/PyObject_Malloc (even if pymalloc
 *           then called malloc for it: such a byte is counted once), NATIVE for
 *           the C malloc family.  FREE: the domain recorded at MALLOC time.
 *           COPY: always NATIVE.
 *   ptr     MALLOC/FREE: the block (the address the program sees).
 *           COPY: the destination of the copy.
 *   size    MALLOC: requested size of this allocation (for realloc: the new
 *           size; for calloc: nmemb*size).  FREE: the size recorded at MALLOC
 *           time.  COPY: bytes of this copy.
 *   weight  bytes this sample stands for: an unbiased estimate, so summing the
 *           weights of a line's samples estimates its true byte total whatever
 *           the sizes involved (weight >= size; = size for blocks much larger
 *           than the window, ~window for tiny ones).  FREE: the weight recorded
 *           at MALLOC time, so "sum of MALLOC weights - sum of FREE weights"
 *           estimates retained bytes.
 *   tag     FREE: the tag the callback returned when this block was sampled.
 *           0 for MALLOC and COPY.
 */
typedef struct {
    int kind;            /* SCALENE_MEM_* */
    int domain;          /* MALLOC: which allocator the outermost hook saw */
    void *ptr;           /* MALLOC/FREE: the block */
    uint64_t size;       /* MALLOC: requested size of this allocation; COPY: size of this copy */
    uint64_t weight;     /* bytes this sample stands for (unbiased estimate, see below) */
    uint64_t tag;        /* FREE: the tag the engine returned when this block was sampled */
} scalene_mem_event_t;

/* Engine callback. Called synchronously in the thread that allocated/freed/copied, with this
   layer's hooks disabled for that thread for the duration of the call (so it may call malloc).
   May be called from ANY thread, including threads that never ran Python. Must not raise.
   For MALLOC it returns a tag (nonzero) to remember with the block, or 0 not to track it.
 *
 * Further contract:
 *   - Reentrancy: while the callback runs, allocations, frees and copies made
 *     by the same thread (directly or by anything it calls, including Python)
 *     are forwarded without sampling and never produce events; the callback
 *     is therefore never re-entered by its own thread.  Other threads may be
 *     inside the callback at the same time: it must be thread-safe.
 *   - Context: it runs wherever the program allocated, frees or copies: with
 *     or without the GIL, inside C libraries holding their own locks, in a
 *     forked child, and (if the program copies memory in a signal handler) in
 *     signal context.  It must not block on a lock that the allocating thread
 *     may hold, and must not assume the GIL is held.
 *   - MALLOC: called after the block was allocated, before the allocation
 *     returns to the program.  The block is only recorded (and its FREE
 *     reported later) when the return value is nonzero and the address table
 *     has room (otherwise stats.dropped is incremented).
 *   - FREE: called before the block is released (ptr is still valid but its
 *     contents must not be relied on).  The return value is ignored.
 *   - COPY: called before the copy is performed (strcpy/stpcpy: right after,
 *     since their length is known only then).  The return value is ignored.
 *   - errno is preserved across the callback for the program's benefit.
 *   - It may call scalene_memhooks_set_enabled and scalene_memhooks_stats, not
 *     install/uninstall.
 */
typedef uint64_t (*scalene_mem_callback_t)(const scalene_mem_event_t *ev, void *arg);

/* Configuration, copied by scalene_memhooks_install (the caller may free it).
 *
 *   sampling_window  mean bytes between allocation samples (Poisson process
 *                    over the stream of requested bytes, per thread); 0 =
 *                    SCALENE_MEM_DEFAULT_SAMPLING_WINDOW.  Must be < 2^40.
 *   copy_window      mean bytes between copy samples; 0 =
 *                    SCALENE_MEM_DEFAULT_COPY_WINDOW.  Must be < 2^40.
 *   hook_python_allocators
 *                    nonzero: also wrap PYMEM_DOMAIN_MEM and PYMEM_DOMAIN_OBJ
 *                    (PyMem_GetAllocator/PyMem_SetAllocator, forwarding to the
 *                    previous allocators).  RAW is not wrapped: it is malloc
 *                    called directly, which the native hooks already see.
 *                    Requires an initialised interpreter and the GIL held by
 *                    the calling thread.
 *   hook_copies      nonzero: also interpose memcpy, memmove, mempcpy, strcpy,
 *                    stpcpy, __memcpy_chk and __memmove_chk.
 *   callback         may be NULL: samples are then counted in the statistics
 *                    but nothing is reported or tracked.
 *   callback_arg     passed back verbatim as the callback's second argument.
 */
typedef struct {
    uint64_t sampling_window;   /* mean bytes between allocation samples (default: choose and document, e.g. 1 MiB or a prime near it) */
    uint64_t copy_window;       /* mean bytes between copy samples */
    int hook_python_allocators; /* wrap PyMem_SetAllocator domains MEM and OBJ (and RAW if you can justify) */
    int hook_copies;            /* memcpy/memmove (+ strcpy family if cheap) */
    scalene_mem_callback_t callback; void *callback_arg;
} scalene_memhooks_config_t;

/* Installs the layer and leaves it ENABLED.
 * Pre: cfg != NULL; the layer is not installed (call uninstall first to
 *      reconfigure); with cfg->hook_python_allocators the caller holds the GIL.
 * Effects: resolves the functions to forward to with dlsym(RTLD_DEFAULT) (so a
 *      user's LD_PRELOAD allocator keeps being used), clears the address table,
 *      then rewrites the matching JUMP_SLOT, GLOB_DAT and pointer-sized
 *      absolute (function pointer in data) relocation slots that hold those
 *      functions, in every loaded ELF object except this extension, the
 *      dynamic loader and the vDSO (temporarily unprotecting RELRO pages);
 *      objects dlopen()ed later by a patched object are patched when dlopen
 *      returns.
 * Threads: safe while other threads allocate (slot writes are atomic).
 * Returns 0, or <0 with a one-line NUL-terminated reason in why[0..why_len)
 *      (why may be NULL when why_len is 0).  On failure nothing stays patched.
 *      -EINVAL bad config, -EALREADY already installed, -ENOSYS unsupported
 *      platform, -ENOMEM no memory for the table, -ENOTSUP Python hooks
 *      requested but unavailable, other negative codes from mprotect/dlsym. */
int  scalene_memhooks_install(const scalene_memhooks_config_t *cfg, char *why, size_t why_len); /* 0 ok; <0 and a one-line reason */

/* Cheap global switch (one relaxed atomic store), callable from any thread,
 * including signal handlers.  on != 0 enables sampling and events.  Disabled,
 * every hook forwards to the real function; the only extra work left is a
 * byte countdown on allocations and, on frees, a one-byte filter lookup that
 * silently retires recorded blocks (no FREE event), so that a block freed
 * while disabled is never credited later to a reused address.  Has no effect
 * while the layer is not installed (install always enables). */
void scalene_memhooks_set_enabled(int on);    /* cheap global switch; disabled = pure forwarding */

/* Restores every relocation slot this layer rewrote (in objects still loaded)
 * to its value before patching, and the Python allocators if they were
 * wrapped.  Idempotent: returns 0 when not installed.
 * Pre: if Python allocators were wrapped, the caller holds the GIL.
 * After it returns no new events are produced; a thread that was already
 * inside a hook finishes forwarding normally.  The hook functions stay valid
 * forever (code that saved a pointer to a hook keeps working: it forwards).
 * Recorded blocks are forgotten at the next install.
 * Returns 0, or -EBUSY if another tool wrapped the Python allocators after us:
 * our wrappers then stay in the chain as pure forwarders (everything else is
 * restored) and are reused by the next install. */
int  scalene_memhooks_uninstall(void);        /* restore everything it patched */

/* Counters since the last install (not reset by uninstall).
 *   malloc_samples   allocation samples taken while enabled (callback or not)
 *   free_samples     FREE events for recorded blocks while enabled
 *   copy_samples     copy samples taken while enabled
 *   dropped          MALLOC samples the callback tagged but the address table
 *                    had no room for (their FREE will not be reported)
 *   tracked_blocks   blocks currently recorded in the address table
 *   patched_objects  ELF objects with at least one slot rewritten (cumulative
 *                    since install, including objects loaded later)
 * Pre: out != NULL.  Any thread; values are read with relaxed atomics. */
typedef struct { uint64_t malloc_samples, free_samples, copy_samples, dropped, tracked_blocks, patched_objects; } scalene_memhooks_stats_t;
void scalene_memhooks_stats(scalene_memhooks_stats_t *out);

#ifdef __cplusplus
}
#endif
#endif /* SCALENE_MEMHOOKS_H */
