/* engine/memory/memhooks_internal.h -- cross-file internals of the memory layer.
 *
 * Naming: _scalene_mem_* for cross-file internals (hidden by -fvisibility=hidden
 * in the extension build); file-static helpers carry no prefix.
 *
 * Global state and what protects it:
 *   _scalene_mem_tls        per thread (initial-exec TLS, never touched by
 *                           other threads)
 *   _scalene_mem_params     written by install under the install lock, read by
 *                           slow paths with atomics (generation published last)
 *   _scalene_mem_enabled    atomic int, relaxed
 *   _scalene_mem_stats_*    atomic counters, relaxed
 *   block table + filter    lock-free (block_table.c)
 *   GOT patch state         got_lock (got_patch.c)
 */
#ifndef SCALENE_MEMHOOKS_INTERNAL_H
#define SCALENE_MEMHOOKS_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include "memhooks.h"
#include "byte_sampler.h"
#include "block_table.h"

#define SCALENE_MEM_LIKELY(x)   __builtin_expect(!!(x), 1)
#define SCALENE_MEM_UNLIKELY(x) __builtin_expect(!!(x), 0)
#define SCALENE_MEM_COLD        __attribute__((noinline, cold))

/* ---- switches and counters (memhooks.c) ---------------------------------- */
extern int _scalene_mem_enabled;       /* atomic: events on/off */
extern int _scalene_mem_py_active;     /* atomic: Python wrappers account */

typedef struct {
    uint64_t malloc_samples, free_samples, copy_samples, dropped;
} _scalene_mem_counters_t;
extern _scalene_mem_counters_t _scalene_mem_counters; /* atomic fields */

/* ---- slow paths shared by the native and the Python hooks (memhooks.c) --- */

/* Reached when an allocation of n bytes did not fit in the countdown
 * (n >= tls.remaining; remaining was not decremented).  Re-draws the
 * countdown, and if this thread is not inside the layer and the layer is
 * enabled and p != NULL, reports a MALLOC sample and records the block.
 * Returns p.  Preserves errno. */
void *_scalene_mem_alloc_slow(void *p, uint64_t n, int domain);

/* Free of a pointer whose filter byte is nonzero: retires its record (if any)
 * and reports FREE when enabled and not nested.  Returns 1 if p belongs to the
 * bootstrap arena (the caller must then NOT pass it to the real free).
 * Preserves errno. */
int _scalene_mem_free_slow(void *p);

/* Reports FREE for a record already removed from the table (realloc paths). */
void _scalene_mem_emit_free(void *p, const _scalene_mem_block_t *b);

/* Reached when a copy of n bytes did not fit in tls.copy_remaining. */
void _scalene_mem_copy_slow(void *dst, uint64_t n);

/* ---- GOT patching (got_patch.c) ------------------------------------------ */
typedef struct {
    const char *name;   /* symbol name as it appears in relocations */
    void *hook;         /* our replacement */
    void *real;         /* what the slot is expected to hold (dlsym result) */
} _scalene_mem_hookdef_t;

/* Patches every loaded object (except ours, ld.so and the vDSO).  Copies defs.
 * Returns 0 or -errno with a reason in why. Caller holds the install lock. */
int  _scalene_mem_got_install(const _scalene_mem_hookdef_t *defs, size_t ndefs,
                              char *why, size_t why_len);
/* Patches objects loaded since the last scan; no-op when not installed. */
void _scalene_mem_got_refresh(void);
/* Restores every rewritten slot of objects still loaded. */
int  _scalene_mem_got_uninstall(void);
uint64_t _scalene_mem_got_patched_objects(void);
/* If cand is a canonical PLT stub of the main executable (non-PIE program that
 * takes the address of name), returns the function the stub jumps to, else
 * cand.  Returns NULL if cand is such a stub but the target cannot be found. */
void *_scalene_mem_got_unstub(const char *name, void *cand);
/* Testing: number of slots in loaded objects that currently hold one of our
 * hooks; *objects gets the number of distinct objects holding any. */
size_t _scalene_mem_got_count_hooked(size_t *objects);
/* Testing: 1 if an object whose path contains substr has a hooked slot. */
int  _scalene_mem_got_object_hooked(const char *substr);
/* In a forked child: fresh lock, no pending refresh. */
void _scalene_mem_got_atfork_child(void);

/* ---- Python allocators (pymem_hooks.c) ------------------------------------ */
/* Wraps MEM and OBJ. Pre: GIL held. Returns 0 or -errno with reason. */
int  _scalene_mem_pymem_install(char *why, size_t why_len);
/* Restores them if ours are still on top, else leaves ours forwarding and
 * returns -EBUSY. Pre: GIL held. No-op (0) when not installed. */
int  _scalene_mem_pymem_uninstall(void);

/* ---- testing hooks (memhooks.c) ------------------------------------------- */
/* Address of the hook for a symbol name (e.g. "malloc"), or NULL. */
void *_scalene_mem_hook_address(const char *name);
/* Forces the bootstrap path: while set, the malloc family is served from the
 * static bootstrap arena, as during the resolution of the real functions. */
void _scalene_mem_test_force_bootstrap(int on);
/* Nonzero if p lies in the bootstrap arena. */
int  _scalene_mem_in_bootstrap_arena(const void *p);
/* Nonzero seed: the next install seeds threads deterministically from it. */
void _scalene_mem_test_set_seed(uint64_t seed);
/* Install without rewriting any relocation (hooks are then only reached by
 * calling them through _scalene_mem_hook_address); used by the ASan tests. */
void _scalene_mem_test_skip_got(int on);

/* ---- hot-path accounting shared by the native hooks ---------------------- */
static inline void *_scalene_mem_account(void *p, uint64_t n, int domain)
{
    _scalene_mem_tls_t *t = &_scalene_mem_tls;
    if (SCALENE_MEM_LIKELY(n < t->remaining)) {
        t->remaining -= n;
        return p;
    }
    return _scalene_mem_alloc_slow(p, n, domain);
}

static inline void _scalene_mem_account_copy(void *dst, uint64_t n)
{
    _scalene_mem_tls_t *t = &_scalene_mem_tls;
    if (SCALENE_MEM_LIKELY(n < t->copy_remaining))
        t->copy_remaining -= n;
    else
        _scalene_mem_copy_slow(dst, n);
}

/* ---- small formatting helper (memhooks.c) --------------------------------- */
/* Writes a one-line reason into why (if why_len > 0) and returns code. */
int _scalene_mem_fail(char *why, size_t why_len, int code, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

#endif /* SCALENE_MEMHOOKS_INTERNAL_H */
