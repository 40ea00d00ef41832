/* engine/memory/pymem_hooks.c -- wrappers for CPython's MEM and OBJ allocator domains.
 *
 * Installed with PyMem_GetAllocator/PyMem_SetAllocator and forwarding to the
 * previous allocators (like tracemalloc), so they can be installed in a
 * running interpreter.  No header is added to blocks: a block allocated
 * before install (or after uninstall) can be freed through the wrapper and
 * vice versa.
 *
 * Counting once, as Python: while the wrapped allocator runs, this thread's
 * allocation countdown is parked at UINT64_MAX, so when pymalloc hands a
 * large request to malloc the native hook forwards it unsampled; the bytes
 * are then charged to the countdown here, with domain PYTHON.  A realloc's
 * internal copy is not a program copy: the copy countdown is parked too.
 *
 * RAW is not wrapped: PyMem_RawMalloc is malloc, which the native hooks see
 * (as NATIVE, as in the existing Scalene); wrapping it would only relabel
 * those bytes, at the cost of one more indirection on a GIL-free path.
 *
 * Build with -DSCALENE_MEMHOOKS_NO_PYTHON to get stubs (C tests without
 * libpython).
 */
#ifndef SCALENE_MEMHOOKS_NO_PYTHON
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#endif

#include <errno.h>

#include "memhooks_internal.h"

#ifdef SCALENE_MEMHOOKS_NO_PYTHON

int _scalene_mem_pymem_install(char *why, size_t why_len)
{
    return _scalene_mem_fail(why, why_len, -ENOTSUP, "built without Python allocator support");
}

int _scalene_mem_pymem_uninstall(void)
{
    return 0;
}

#else

typedef struct {
    PyMemAllocatorEx orig;      /* the allocator we forward to */
    PyMemAllocatorDomain domain;
    int state;                  /* ST_* ; under the caller's install lock + GIL */
} pydomain_t;

enum { ST_NONE, ST_ACTIVE, ST_STALE };

static pydomain_t dom_mem = {{NULL, NULL, NULL, NULL, NULL}, PYMEM_DOMAIN_MEM, ST_NONE};
static pydomain_t dom_obj = {{NULL, NULL, NULL, NULL, NULL}, PYMEM_DOMAIN_OBJ, ST_NONE};

static inline int py_active(void)
{
    return __atomic_load_n(&_scalene_mem_py_active, __ATOMIC_RELAXED);
}

/* Charges n bytes to this thread's countdown (r = its value before the call). */
static inline void *py_account(_scalene_mem_tls_t *t, uint64_t r, void *p, uint64_t n)
{
    if (SCALENE_MEM_LIKELY(n < r)) {
        t->remaining = r - n;
        return p;
    }
    t->remaining = r;
    return _scalene_mem_alloc_slow(p, n, SCALENE_DOMAIN_PYTHON);
}

static void *py_malloc(void *ctx, size_t n)
{
    pydomain_t *d = ctx;
    if (SCALENE_MEM_UNLIKELY(!py_active()))
        return d->orig.malloc(d->orig.ctx, n);
    _scalene_mem_tls_t *t = &_scalene_mem_tls;
    uint64_t r = t->remaining;
    t->remaining = UINT64_MAX;
    void *p = d->orig.malloc(d->orig.ctx, n);
    return py_account(t, r, p, n);
}

static void *py_calloc(void *ctx, size_t nelem, size_t elsize)
{
    pydomain_t *d = ctx;
    size_t n;
    if (SCALENE_MEM_UNLIKELY(!py_active()) || __builtin_mul_overflow(nelem, elsize, &n))
        return d->orig.calloc(d->orig.ctx, nelem, elsize);
    _scalene_mem_tls_t *t = &_scalene_mem_tls;
    uint64_t r = t->remaining;
    t->remaining = UINT64_MAX;
    void *p = d->orig.calloc(d->orig.ctx, nelem, elsize);
    return py_account(t, r, p, n);
}

static void py_free(void *ctx, void *p)
{
    pydomain_t *d = ctx;
    if (SCALENE_MEM_UNLIKELY(_scalene_mem_filter_maybe(p)) && _scalene_mem_free_slow(p))
        return;
    d->orig.free(d->orig.ctx, p);
}

static void *py_realloc(void *ctx, void *p, size_t n)
{
    pydomain_t *d = ctx;
    if (SCALENE_MEM_UNLIKELY(!py_active()))
        return d->orig.realloc(d->orig.ctx, p, n);
    _scalene_mem_block_t b;
    int found = 0;
    if (SCALENE_MEM_UNLIKELY(_scalene_mem_filter_maybe(p)) && p)
        found = _scalene_mem_table_remove(p, &b); /* before p can be reused */
    _scalene_mem_tls_t *t = &_scalene_mem_tls;
    uint64_t r = t->remaining, cr = t->copy_remaining;
    t->remaining = UINT64_MAX;
    t->copy_remaining = UINT64_MAX;
    void *q = d->orig.realloc(d->orig.ctx, p, n);
    t->copy_remaining = cr;
    if (SCALENE_MEM_UNLIKELY(q == NULL)) {
        /* PyMem_Realloc(p, 0) returns a block, so NULL means failure: p lives on. */
        t->remaining = r;
        if (found)
            _scalene_mem_table_insert(p, &b);
        return NULL;
    }
    if (SCALENE_MEM_UNLIKELY(found))
        _scalene_mem_emit_free(p, &b);
    return py_account(t, r, q, n);
}

static int is_ours(const PyMemAllocatorEx *a, const pydomain_t *d)
{
    return a->malloc == py_malloc && a->ctx == (void *)d;
}

static void wrap(pydomain_t *d)
{
    if (d->state == ST_STALE) {
        /* Our wrapper is still in the chain (someone wrapped on top of it). */
        d->state = ST_ACTIVE;
        return;
    }
    PyMem_GetAllocator(d->domain, &d->orig);
    PyMemAllocatorEx a = {d, py_malloc, py_calloc, py_realloc, py_free};
    PyMem_SetAllocator(d->domain, &a);
    d->state = ST_ACTIVE;
}

static int unwrap(pydomain_t *d)
{
    if (d->state != ST_ACTIVE)
        return 0;
    PyMemAllocatorEx cur;
    PyMem_GetAllocator(d->domain, &cur);
    if (!is_ours(&cur, d)) {
        d->state = ST_STALE; /* keep forwarding; reused by the next install */
        return -EBUSY;
    }
    PyMem_SetAllocator(d->domain, &d->orig);
    d->state = ST_NONE;
    return 0;
}

int _scalene_mem_pymem_install(char *why, size_t why_len)
{
    if (!Py_IsInitialized())
        return _scalene_mem_fail(why, why_len, -ENOTSUP, "Python allocators: the interpreter is not initialised");
    if (!PyGILState_Check())
        return _scalene_mem_fail(why, why_len, -EPERM, "Python allocators: the calling thread must hold the GIL");
    __atomic_store_n(&_scalene_mem_py_active, 1, __ATOMIC_RELEASE);
    wrap(&dom_mem);
    wrap(&dom_obj);
    return 0;
}

int _scalene_mem_pymem_uninstall(void)
{
    __atomic_store_n(&_scalene_mem_py_active, 0, __ATOMIC_RELEASE);
    int a = unwrap(&dom_mem);
    int b = unwrap(&dom_obj);
    return a ? a : b;
}

#endif /* SCALENE_MEMHOOKS_NO_PYTHON */
