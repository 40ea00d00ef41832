/* engine/memory/memhooks.c -- the hooks, their slow paths, install/uninstall.
 *
 * Hot paths (inlined helpers in memhooks_internal.h):
 *   allocation: forward, then  if (n < tls.remaining) tls.remaining -= n;  else slow
 *   free:       if (filter byte of p != 0) slow;  forward
 *   copy:       if (n < tls.copy_remaining) tls.copy_remaining -= n;  else slow;  forward
 * Everything else lives in cold, non-inlined functions.
 *
 * Forward targets live in reals[]: they start as bootstrap functions that
 * resolve the real ones with dlsym on first use (serving allocations made
 * while dlsym runs from a static arena), and install resolves them
 * explicitly before any slot is patched.
 */
#include <dlfcn.h>
#include <errno.h>
#include <limits.h>
#include <malloc.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "memhooks_internal.h"

/* ---- shared state ---------------------------------------------------------- */

int _scalene_mem_enabled;             /* atomic */
int _scalene_mem_py_active;           /* atomic */
_scalene_mem_counters_t _scalene_mem_counters;

static pthread_mutex_t install_lock = PTHREAD_MUTEX_INITIALIZER;
static int installed;                 /* atomic; written under install_lock */
static int py_installed;              /* under install_lock */
static int atfork_registered;         /* under install_lock */
static int test_skip_got;
static uint64_t test_seed;

typedef struct {
    scalene_mem_callback_t cb;
    void *arg;
} cbpair_t;
static cbpair_t cb_slots[2];
static cbpair_t *cb_cur;              /* atomic; the slot in use */

int _scalene_mem_fail(char *why, size_t why_len, int code, const char *fmt, ...)
{
    if (why && why_len) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(why, why_len, fmt, ap);
        va_end(ap);
    }
    return code;
}

/* ---- forward targets --------------------------------------------------------- */

typedef void *(*malloc_t)(size_t);
typedef void *(*calloc_t)(size_t, size_t);
typedef void *(*realloc_t)(void *, size_t);
typedef void (*free_t)(void *);
typedef int (*posix_memalign_t)(void **, size_t, size_t);
typedef void *(*memalign_t)(size_t, size_t);
typedef void *(*reallocarray_t)(void *, size_t, size_t);
typedef void *(*memcpy_t)(void *, const void *, size_t);
typedef char *(*strcpy_t)(char *, const char *);
typedef void *(*memcpy_chk_t)(void *, const void *, size_t, size_t);
typedef void *(*dlopen_t)(const char *, int);

enum {
    F_MALLOC, F_CALLOC, F_REALLOC, F_FREE, F_POSIX_MEMALIGN, F_ALIGNED_ALLOC,
    F_MEMALIGN, F_VALLOC, F_PVALLOC, F_REALLOCARRAY,
    F_MEMCPY, F_MEMMOVE, F_MEMPCPY, F_STRCPY, F_STPCPY, F_MEMCPY_CHK, F_MEMMOVE_CHK,
    F_DLOPEN, F_COUNT
};
enum { G_ALLOC, G_COPY, G_DL };

/* The functions we forward to, indexed by F_*; defined after the bootstrap
 * functions they start as. */
static void *reals[F_COUNT];
#define REAL(type, f) ((type)__atomic_load_n(&reals[f], __ATOMIC_RELAXED))

/* ---- bootstrap -----------------------------------------------------------------
 * Until the real functions are known, allocations are served from a static
 * arena: blocks are never reused (so they read as zero, as calloc needs),
 * carry their size in a 16-byte header (for realloc), and their filter byte
 * is pinned so that free() reaches the slow path, which ignores them. */

#define BOOT_ARENA_SIZE (64 * 1024)
static unsigned char boot_arena[BOOT_ARENA_SIZE] __attribute__((aligned(4096)));
static size_t boot_used;              /* atomic */
static int resolving;                 /* atomic: a resolution is running */
static int force_boot;                /* testing */

int _scalene_mem_in_bootstrap_arena(const void *p)
{
    uintptr_t a = (uintptr_t)p;
    return a >= (uintptr_t)boot_arena && a < (uintptr_t)boot_arena + BOOT_ARENA_SIZE;
}

static void *arena_alloc(size_t n, size_t align)
{
    if (align < 16)
        align = 16;
    if ((align & (align - 1)) != 0 || n > BOOT_ARENA_SIZE) {
        errno = ENOMEM;
        return NULL;
    }
    size_t off = __atomic_load_n(&boot_used, __ATOMIC_RELAXED);
    for (;;) {
        size_t start = (off + 16 + align - 1) & ~(align - 1);
        size_t end = (start + n + 15) & ~(size_t)15;
        if (end > BOOT_ARENA_SIZE) {
            errno = ENOMEM;
            return NULL;
        }
        if (__atomic_compare_exchange_n(&boot_used, &off, end, 0, __ATOMIC_ACQ_REL, __ATOMIC_RELAXED)) {
            unsigned char *p = boot_arena + start;
            ((uint64_t *)p)[-1] = n;
            _scalene_mem_filter_pin(p);
            return p;
        }
    }
}

static size_t arena_size(const void *p)
{
    return (size_t)((const uint64_t *)p)[-1];
}

static int resolve_reals(void);

/* 0 when the real functions are available. */
static int boot_ready(void)
{
    if (__atomic_load_n(&force_boot, __ATOMIC_RELAXED))
        return -1;
    return resolve_reals();
}

static void *boot_malloc(size_t n)
{
    if (boot_ready() == 0)
        return REAL(malloc_t, F_MALLOC)(n);
    return arena_alloc(n, 16);
}

static void *boot_calloc(size_t a, size_t b)
{
    if (boot_ready() == 0)
        return REAL(calloc_t, F_CALLOC)(a, b);
    size_t n;
    if (__builtin_mul_overflow(a, b, &n)) {
        errno = ENOMEM;
        return NULL;
    }
    return arena_alloc(n, 16);
}

static void boot_free(void *p)
{
    if (_scalene_mem_in_bootstrap_arena(p))
        return;
    if (boot_ready() == 0)
        REAL(free_t, F_FREE)(p);
    /* else: a block from before we knew free(); leaking it is the safe choice */
}

static void *boot_realloc(void *p, size_t n)
{
    if (boot_ready() == 0 && !_scalene_mem_in_bootstrap_arena(p))
        return REAL(realloc_t, F_REALLOC)(p, n);
    void *q = boot_ready() == 0 ? REAL(malloc_t, F_MALLOC)(n) : arena_alloc(n, 16);
    if (q && p) {
        size_t old = _scalene_mem_in_bootstrap_arena(p) ? arena_size(p) : malloc_usable_size(p);
        memcpy(q, p, old < n ? old : n);
        /* a non-arena p is leaked: free() may not be known yet */
    }
    return q;
}

static int boot_posix_memalign(void **pp, size_t al, size_t n)
{
    if (boot_ready() == 0)
        return REAL(posix_memalign_t, F_POSIX_MEMALIGN)(pp, al, n);
    void *p = arena_alloc(n, al);
    if (!p)
        return ENOMEM;
    *pp = p;
    return 0;
}

static void *boot_aligned_alloc(size_t al, size_t n)
{
    if (boot_ready() == 0)
        return REAL(memalign_t, F_ALIGNED_ALLOC)(al, n);
    return arena_alloc(n, al);
}

static void *boot_memalign(size_t al, size_t n)
{
    if (boot_ready() == 0)
        return REAL(memalign_t, F_MEMALIGN)(al, n);
    return arena_alloc(n, al);
}

static void *boot_valloc(size_t n)
{
    if (boot_ready() == 0)
        return REAL(malloc_t, F_VALLOC)(n);
    return arena_alloc(n, 4096);
}

static void *boot_pvalloc(size_t n)
{
    if (boot_ready() == 0)
        return REAL(malloc_t, F_PVALLOC)(n);
    return arena_alloc((n + 4095) & ~(size_t)4095, 4096);
}

static void *boot_reallocarray(void *p, size_t a, size_t b)
{
    size_t n;
    if (__builtin_mul_overflow(a, b, &n)) {
        errno = ENOMEM;
        return NULL;
    }
    return boot_realloc(p, n);
}

/* Copies and dlopen never need an arena: this object's own calls are never
 * patched, so calling the libc functions directly reaches the real ones. */
static void *boot_memcpy(void *d, const void *s, size_t n) { return memcpy(d, s, n); }
static void *boot_memmove(void *d, const void *s, size_t n) { return memmove(d, s, n); }
static void *boot_mempcpy(void *d, const void *s, size_t n) { return mempcpy(d, s, n); }
static char *boot_strcpy(char *d, const char *s) { return strcpy(d, s); }
static char *boot_stpcpy(char *d, const char *s) { return stpcpy(d, s); }
static void *boot_memcpy_chk(void *d, const void *s, size_t n, size_t dl)
{
    if (n > dl)
        abort(); /* what __chk_fail does, minus the message */
    return memcpy(d, s, n);
}
static void *boot_memmove_chk(void *d, const void *s, size_t n, size_t dl)
{
    if (n > dl)
        abort();
    return memmove(d, s, n);
}
static void *boot_dlopen(const char *f, int m) { return dlopen(f, m); }

static void *reals[F_COUNT] = {
    [F_MALLOC] = (void *)boot_malloc,
    [F_CALLOC] = (void *)boot_calloc,
    [F_REALLOC] = (void *)boot_realloc,
    [F_FREE] = (void *)boot_free,
    [F_POSIX_MEMALIGN] = (void *)boot_posix_memalign,
    [F_ALIGNED_ALLOC] = (void *)boot_aligned_alloc,
    [F_MEMALIGN] = (void *)boot_memalign,
    [F_VALLOC] = (void *)boot_valloc,
    [F_PVALLOC] = (void *)boot_pvalloc,
    [F_REALLOCARRAY] = (void *)boot_reallocarray,
    [F_MEMCPY] = (void *)boot_memcpy,
    [F_MEMMOVE] = (void *)boot_memmove,
    [F_MEMPCPY] = (void *)boot_mempcpy,
    [F_STRCPY] = (void *)boot_strcpy,
    [F_STPCPY] = (void *)boot_stpcpy,
    [F_MEMCPY_CHK] = (void *)boot_memcpy_chk,
    [F_MEMMOVE_CHK] = (void *)boot_memmove_chk,
    [F_DLOPEN] = (void *)boot_dlopen,
};
static void *boot_fns[F_COUNT]; /* copy of the initial reals[], for tests */
static int resolved[F_COUNT];   /* reals[f] is the real function */

/* ---- slow paths ------------------------------------------------------------------ */

/* Calls the engine with this thread's hooks suppressed; returns its tag. */
static uint64_t deliver(_scalene_mem_tls_t *t, const scalene_mem_event_t *ev)
{
    cbpair_t *c = __atomic_load_n(&cb_cur, __ATOMIC_ACQUIRE);
    if (!c || !c->cb)
        return 0;
    uint64_t r = t->remaining, cr = t->copy_remaining;
    uint32_t g = t->guard;
    t->guard = 1;
    t->remaining = UINT64_MAX;      /* nested allocations: never sampled */
    t->copy_remaining = UINT64_MAX; /* nested copies: never sampled */
    uint64_t tag = c->cb(ev, c->arg);
    t->remaining = r;
    t->copy_remaining = cr;
    t->guard = g;
    return tag;
}

static inline int enabled_now(void)
{
    return __atomic_load_n(&_scalene_mem_enabled, __ATOMIC_RELAXED);
}

SCALENE_MEM_COLD void *_scalene_mem_alloc_slow(void *p, uint64_t n, int domain)
{
    _scalene_mem_tls_t *t = &_scalene_mem_tls;
    if (t->gen != __atomic_load_n(&_scalene_mem_params.gen, __ATOMIC_ACQUIRE)) {
        _scalene_mem_sampler_thread_init(t);
        if (n < t->remaining) {
            t->remaining -= n;
            return p;
        }
    }
    int saved_errno = errno;
    uint64_t w = __atomic_load_n(&_scalene_mem_params.window, __ATOMIC_RELAXED);
    t->remaining = _scalene_mem_sampler_draw(t, w); /* memoryless: from the block's end */
    if (p && !t->guard && enabled_now()) {
        uint64_t weight = _scalene_mem_sampler_weight(n, w);
        __atomic_fetch_add(&_scalene_mem_counters.malloc_samples, 1, __ATOMIC_RELAXED);
        scalene_mem_event_t ev = {SCALENE_MEM_MALLOC, domain, p, n, weight, 0};
        uint64_t tag = deliver(t, &ev);
        if (tag) {
            _scalene_mem_block_t b = {tag, weight, n, (uint32_t)domain, 0};
            if (!_scalene_mem_table_insert(p, &b))
                __atomic_fetch_add(&_scalene_mem_counters.dropped, 1, __ATOMIC_RELAXED);
        }
    }
    errno = saved_errno;
    return p;
}

void _scalene_mem_emit_free(void *p, const _scalene_mem_block_t *b)
{
    _scalene_mem_tls_t *t = &_scalene_mem_tls;
    if (t->guard || !enabled_now())
        return; /* retired silently */
    int saved_errno = errno;
    __atomic_fetch_add(&_scalene_mem_counters.free_samples, 1, __ATOMIC_RELAXED);
    scalene_mem_event_t ev = {SCALENE_MEM_FREE, (int)b->domain, p, b->size, b->weight, b->tag};
    deliver(t, &ev);
    errno = saved_errno;
}

SCALENE_MEM_COLD int _scalene_mem_free_slow(void *p)
{
    if (_scalene_mem_in_bootstrap_arena(p))
        return 1;
    _scalene_mem_block_t b;
    if (_scalene_mem_table_remove(p, &b))
        _scalene_mem_emit_free(p, &b);
    return 0;
}

SCALENE_MEM_COLD void _scalene_mem_copy_slow(void *dst, uint64_t n)
{
    _scalene_mem_tls_t *t = &_scalene_mem_tls;
    if (t->gen != __atomic_load_n(&_scalene_mem_params.gen, __ATOMIC_ACQUIRE)) {
        _scalene_mem_sampler_thread_init(t);
        if (n < t->copy_remaining) {
            t->copy_remaining -= n;
            return;
        }
    }
    int saved_errno = errno;
    uint64_t w = __atomic_load_n(&_scalene_mem_params.copy_window, __ATOMIC_RELAXED);
    t->copy_remaining = _scalene_mem_sampler_draw(t, w);
    if (!t->guard && enabled_now()) {
        __atomic_fetch_add(&_scalene_mem_counters.copy_samples, 1, __ATOMIC_RELAXED);
        scalene_mem_event_t ev = {SCALENE_MEM_COPY, SCALENE_DOMAIN_NATIVE, dst, n,
                                  _scalene_mem_sampler_weight(n, w), 0};
        deliver(t, &ev);
    }
    errno = saved_errno;
}

/* realloc of a block whose filter byte is set: maybe recorded, maybe in the
 * bootstrap arena.  Free of the old block + allocation of the new one. */
static SCALENE_MEM_COLD void *realloc_slow(void *p, size_t n)
{
    if (_scalene_mem_in_bootstrap_arena(p)) {
        void *q = REAL(malloc_t, F_MALLOC)(n);
        if (q) {
            size_t old = arena_size(p);
            memcpy(q, p, old < n ? old : n);
            _scalene_mem_account(q, n, SCALENE_DOMAIN_NATIVE);
        }
        return q;
    }
    _scalene_mem_block_t b;
    int found = _scalene_mem_table_remove(p, &b); /* before p can be reused */
    void *q = REAL(realloc_t, F_REALLOC)(p, n);
    if (!q && n != 0) {
        if (found) /* failed: p is still live and still ours */
            _scalene_mem_table_insert(p, &b);
        return NULL;
    }
    if (found)
        _scalene_mem_emit_free(p, &b);
    return _scalene_mem_account(q, n, SCALENE_DOMAIN_NATIVE);
}

/* ---- the hooks ------------------------------------------------------------------------ */

static void *h_malloc(size_t n)
{
    void *p = REAL(malloc_t, F_MALLOC)(n);
    return _scalene_mem_account(p, n, SCALENE_DOMAIN_NATIVE);
}

static void *h_calloc(size_t a, size_t b)
{
    void *p = REAL(calloc_t, F_CALLOC)(a, b);
    size_t n;
    if (__builtin_mul_overflow(a, b, &n))
        return p; /* NULL: calloc refused */
    return _scalene_mem_account(p, n, SCALENE_DOMAIN_NATIVE);
}

static void h_free(void *p)
{
    if (SCALENE_MEM_UNLIKELY(_scalene_mem_filter_maybe(p)) && _scalene_mem_free_slow(p))
        return;
    REAL(free_t, F_FREE)(p);
}

static void *h_realloc(void *p, size_t n)
{
    if (SCALENE_MEM_UNLIKELY(_scalene_mem_filter_maybe(p)) && p)
        return realloc_slow(p, n);
    void *q = REAL(realloc_t, F_REALLOC)(p, n);
    return _scalene_mem_account(q, n, SCALENE_DOMAIN_NATIVE);
}

static void *h_reallocarray(void *p, size_t a, size_t b)
{
    size_t n;
    if (__builtin_mul_overflow(a, b, &n))
        return REAL(reallocarray_t, F_REALLOCARRAY)(p, a, b); /* fails with ENOMEM */
    if (SCALENE_MEM_UNLIKELY(_scalene_mem_filter_maybe(p)) && p)
        return realloc_slow(p, n);
    void *q = REAL(reallocarray_t, F_REALLOCARRAY)(p, a, b);
    return _scalene_mem_account(q, n, SCALENE_DOMAIN_NATIVE);
}

static int h_posix_memalign(void **pp, size_t al, size_t n)
{
    int r = REAL(posix_memalign_t, F_POSIX_MEMALIGN)(pp, al, n);
    if (r == 0)
        _scalene_mem_account(*pp, n, SCALENE_DOMAIN_NATIVE);
    return r;
}

static void *h_aligned_alloc(size_t al, size_t n)
{
    void *p = REAL(memalign_t, F_ALIGNED_ALLOC)(al, n);
    return _scalene_mem_account(p, n, SCALENE_DOMAIN_NATIVE);
}

static void *h_memalign(size_t al, size_t n)
{
    void *p = REAL(memalign_t, F_MEMALIGN)(al, n);
    return _scalene_mem_account(p, n, SCALENE_DOMAIN_NATIVE);
}

static void *h_valloc(size_t n)
{
    void *p = REAL(malloc_t, F_VALLOC)(n);
    return _scalene_mem_account(p, n, SCALENE_DOMAIN_NATIVE);
}

static void *h_pvalloc(size_t n)
{
    void *p = REAL(malloc_t, F_PVALLOC)(n);
    return _scalene_mem_account(p, n, SCALENE_DOMAIN_NATIVE);
}

static void *h_memcpy(void *d, const void *s, size_t n)
{
    _scalene_mem_account_copy(d, n);
    return REAL(memcpy_t, F_MEMCPY)(d, s, n);
}

static void *h_memmove(void *d, const void *s, size_t n)
{
    _scalene_mem_account_copy(d, n);
    return REAL(memcpy_t, F_MEMMOVE)(d, s, n);
}

static void *h_mempcpy(void *d, const void *s, size_t n)
{
    _scalene_mem_account_copy(d, n);
    return REAL(memcpy_t, F_MEMPCPY)(d, s, n);
}

static void *h_memcpy_chk(void *d, const void *s, size_t n, size_t dl)
{
    _scalene_mem_account_copy(d, n);
    return REAL(memcpy_chk_t, F_MEMCPY_CHK)(d, s, n, dl);
}

static void *h_memmove_chk(void *d, const void *s, size_t n, size_t dl)
{
    _scalene_mem_account_copy(d, n);
    return REAL(memcpy_chk_t, F_MEMMOVE_CHK)(d, s, n, dl);
}

/* strcpy goes through stpcpy: one pass, and the end gives the length. */
static char *h_strcpy(char *d, const char *s)
{
    char *e = REAL(strcpy_t, F_STPCPY)(d, s);
    _scalene_mem_account_copy(d, (uint64_t)(e - d) + 1);
    return d;
}

static char *h_stpcpy(char *d, const char *s)
{
    char *e = REAL(strcpy_t, F_STPCPY)(d, s);
    _scalene_mem_account_copy(d, (uint64_t)(e - d) + 1);
    return e;
}

/* dlopen() searches the CALLER's DT_RPATH/DT_RUNPATH and expands $ORIGIN
 * relative to the caller; through this hook the caller is this extension.
 * When the plain call fails, retry the caller's search path. */
static void *dlopen_as_caller(const char *file, int mode, const void *caller)
{
    Dl_info info;
    if (!dladdr(caller, &info) || !info.dli_fname)
        return NULL;
    dlopen_t real = REAL(dlopen_t, F_DLOPEN);
    char path[PATH_MAX];
    const char *o = strstr(file, "$ORIGIN");
    size_t olen = 7;
    if (!o && (o = strstr(file, "${ORIGIN}")) != NULL)
        olen = 9;
    if (o) {
        const char *slash = strrchr(info.dli_fname, '/');
        size_t dlen = slash ? (size_t)(slash - info.dli_fname) : 1;
        const char *dir = slash ? info.dli_fname : ".";
        int k = snprintf(path, sizeof(path), "%.*s%.*s%s", (int)(o - file), file, (int)dlen, dir, o + olen);
        return (k > 0 && (size_t)k < sizeof(path)) ? real(path, mode) : NULL;
    }
    void *ch = real(info.dli_fname, RTLD_NOLOAD | RTLD_LAZY);
    if (!ch)
        ch = real(NULL, RTLD_LAZY);
    if (!ch)
        return NULL;
    void *h = NULL;
    Dl_serinfo sz;
    if (dlinfo(ch, RTLD_DI_SERINFOSIZE, &sz) == 0 && sz.dls_size > 0 && sz.dls_size < (1u << 20)) {
        Dl_serinfo *si = mmap(NULL, sz.dls_size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        if (si != MAP_FAILED) {
            si->dls_size = sz.dls_size;
            si->dls_cnt = sz.dls_cnt;
            if (dlinfo(ch, RTLD_DI_SERINFO, si) == 0) {
                for (unsigned i = 0; i < si->dls_cnt && !h; i++) {
                    const char *dir = si->dls_serpath[i].dls_name;
                    int k = snprintf(path, sizeof(path), "%s/%s", dir, file);
                    if (k > 0 && (size_t)k < sizeof(path))
                        h = real(path, mode);
                }
            }
            munmap(si, sz.dls_size);
        }
    }
    dlclose(ch);
    return h;
}

static void *h_dlopen(const char *file, int mode)
{
    const void *caller = __builtin_extract_return_addr(__builtin_return_address(0));
    dlopen_t real = REAL(dlopen_t, F_DLOPEN);
    void *h = real(file, mode);
    if (SCALENE_MEM_UNLIKELY(!h) && file && file[0] &&
        (!strchr(file, '/') || strstr(file, "ORIGIN"))) {
        h = dlopen_as_caller(file, mode, caller);
        if (h)
            dlerror(); /* clear the first attempt's error */
        else
            h = real(file, mode); /* leave the original error for dlerror() */
    }
    if (h)
        _scalene_mem_got_refresh();
    return h;
}

static const struct {
    const char *name;
    void *hook;
    int group;
} hook_tab[F_COUNT] = {
    [F_MALLOC] = {"malloc", (void *)h_malloc, G_ALLOC},
    [F_CALLOC] = {"calloc", (void *)h_calloc, G_ALLOC},
    [F_REALLOC] = {"realloc", (void *)h_realloc, G_ALLOC},
    [F_FREE] = {"free", (void *)h_free, G_ALLOC},
    [F_POSIX_MEMALIGN] = {"posix_memalign", (void *)h_posix_memalign, G_ALLOC},
    [F_ALIGNED_ALLOC] = {"aligned_alloc", (void *)h_aligned_alloc, G_ALLOC},
    [F_MEMALIGN] = {"memalign", (void *)h_memalign, G_ALLOC},
    [F_VALLOC] = {"valloc", (void *)h_valloc, G_ALLOC},
    [F_PVALLOC] = {"pvalloc", (void *)h_pvalloc, G_ALLOC},
    [F_REALLOCARRAY] = {"reallocarray", (void *)h_reallocarray, G_ALLOC},
    [F_MEMCPY] = {"memcpy", (void *)h_memcpy, G_COPY},
    [F_MEMMOVE] = {"memmove", (void *)h_memmove, G_COPY},
    [F_MEMPCPY] = {"mempcpy", (void *)h_mempcpy, G_COPY},
    [F_STRCPY] = {"strcpy", (void *)h_strcpy, G_COPY},
    [F_STPCPY] = {"stpcpy", (void *)h_stpcpy, G_COPY},
    [F_MEMCPY_CHK] = {"__memcpy_chk", (void *)h_memcpy_chk, G_COPY},
    [F_MEMMOVE_CHK] = {"__memmove_chk", (void *)h_memmove_chk, G_COPY},
    [F_DLOPEN] = {"dlopen", (void *)h_dlopen, G_DL},
};

void *_scalene_mem_hook_address(const char *name)
{
    for (int i = 0; i < F_COUNT; i++)
        if (strcmp(hook_tab[i].name, name) == 0)
            return hook_tab[i].hook;
    return NULL;
}

/* ---- resolution ---------------------------------------------------------------------- */

/* 0 when at least the core allocation functions are resolved. */
static int resolve_reals(void)
{
    if (__atomic_load_n(&resolved[F_FREE], __ATOMIC_ACQUIRE))
        return 0;
    if (__atomic_exchange_n(&resolving, 1, __ATOMIC_ACQUIRE))
        return -1; /* dlsym is allocating: serve it from the arena */
    if (!boot_fns[F_MALLOC])
        memcpy(boot_fns, reals, sizeof(reals));
    void *found[F_COUNT];
    for (int i = 0; i < F_COUNT; i++) {
        void *f = dlsym(RTLD_DEFAULT, hook_tab[i].name);
        if (f == hook_tab[i].hook)
            f = NULL; /* never forward to ourselves */
        if (f)
            f = _scalene_mem_got_unstub(hook_tab[i].name, f);
        found[i] = f;
    }
    int ok = found[F_MALLOC] && found[F_FREE] && found[F_CALLOC] && found[F_REALLOC];
    if (ok) {
        for (int i = 0; i < F_COUNT; i++) {
            if (!found[i])
                continue;
            __atomic_store_n(&reals[i], found[i], __ATOMIC_RELEASE);
            __atomic_store_n(&resolved[i], 1, __ATOMIC_RELEASE);
        }
    }
    __atomic_store_n(&resolving, 0, __ATOMIC_RELEASE);
    return ok ? 0 : -1;
}

void _scalene_mem_test_force_bootstrap(int on)
{
    static void *saved[F_COUNT];
    static int saved_resolved[F_COUNT];
    if (on) {
        resolve_reals();
        memcpy(saved, reals, sizeof(reals));
        memcpy(saved_resolved, resolved, sizeof(resolved));
        __atomic_store_n(&force_boot, 1, __ATOMIC_RELEASE);
        for (int i = 0; i < F_COUNT; i++) {
            __atomic_store_n(&resolved[i], 0, __ATOMIC_RELEASE);
            __atomic_store_n(&reals[i], boot_fns[i], __ATOMIC_RELEASE);
        }
    } else {
        for (int i = 0; i < F_COUNT; i++) {
            __atomic_store_n(&reals[i], saved[i], __ATOMIC_RELEASE);
            __atomic_store_n(&resolved[i], saved_resolved[i], __ATOMIC_RELEASE);
        }
        __atomic_store_n(&force_boot, 0, __ATOMIC_RELEASE);
    }
}

void _scalene_mem_test_skip_got(int on) { test_skip_got = on; }
void _scalene_mem_test_set_seed(uint64_t seed) { test_seed = seed; }

/* ---- fork -------------------------------------------------------------------------------- */

static void atfork_child(void)
{
    pthread_mutex_init(&install_lock, NULL);
    __atomic_store_n(&resolving, 0, __ATOMIC_RELAXED);
    _scalene_mem_got_atfork_child();
    _scalene_mem_table_after_fork_child();
    _scalene_mem_sampler_after_fork_child();
}

/* ---- public API --------------------------------------------------------------------------- */

int scalene_memhooks_install(const scalene_memhooks_config_t *cfg, char *why, size_t why_len)
{
    if (why && why_len)
        why[0] = '\0';
    if (!cfg)
        return _scalene_mem_fail(why, why_len, -EINVAL, "configuration is NULL");
    if (cfg->sampling_window >= ((uint64_t)1 << 40) || cfg->copy_window >= ((uint64_t)1 << 40))
        return _scalene_mem_fail(why, why_len, -EINVAL, "sampling window must be below 2^40 bytes");

    pthread_mutex_lock(&install_lock);
    int r = 0;
    if (__atomic_load_n(&installed, __ATOMIC_RELAXED)) {
        r = _scalene_mem_fail(why, why_len, -EALREADY, "memory hooks already installed; uninstall first");
        goto out;
    }
    if (resolve_reals() != 0) {
        r = _scalene_mem_fail(why, why_len, -ENOENT, "cannot resolve malloc/calloc/realloc/free with dlsym");
        goto out;
    }
    if (_scalene_mem_table_init() != 0) {
        r = _scalene_mem_fail(why, why_len, -ENOMEM, "cannot map the sampled-block table");
        goto out;
    }
    _scalene_mem_table_clear();
    if (!atfork_registered) {
        if (pthread_atfork(NULL, NULL, atfork_child) != 0) {
            r = _scalene_mem_fail(why, why_len, -ENOMEM, "pthread_atfork failed");
            goto out;
        }
        atfork_registered = 1;
    }
    _scalene_mem_sampler_configure(cfg->sampling_window, cfg->copy_window, test_seed);

    /* Publish the callback in the slot not in use. */
    cbpair_t *cur = __atomic_load_n(&cb_cur, __ATOMIC_RELAXED);
    cbpair_t *next = (cur == &cb_slots[0]) ? &cb_slots[1] : &cb_slots[0];
    next->cb = cfg->callback;
    next->arg = cfg->callback_arg;
    __atomic_store_n(&cb_cur, next, __ATOMIC_RELEASE);
    memset(&_scalene_mem_counters, 0, sizeof(_scalene_mem_counters));
    __atomic_store_n(&_scalene_mem_enabled, 1, __ATOMIC_RELEASE);

    if (cfg->hook_python_allocators) {
        r = _scalene_mem_pymem_install(why, why_len);
        if (r < 0)
            goto fail;
        py_installed = 1;
    }

    if (!test_skip_got) {
        _scalene_mem_hookdef_t defs[F_COUNT];
        size_t n = 0;
        for (int i = 0; i < F_COUNT; i++) {
            if (!resolved[i] || (hook_tab[i].group == G_COPY && !cfg->hook_copies))
                continue;
            if (i == F_STRCPY && !resolved[F_STPCPY])
                continue;
            defs[n].name = hook_tab[i].name;
            defs[n].hook = hook_tab[i].hook;
            defs[n].real = reals[i];
            n++;
        }
        r = _scalene_mem_got_install(defs, n, why, why_len);
        if (r < 0)
            goto fail;
    }
    __atomic_store_n(&installed, 1, __ATOMIC_RELEASE);
    goto out;

fail:
    __atomic_store_n(&_scalene_mem_enabled, 0, __ATOMIC_RELEASE);
    if (py_installed) {
        _scalene_mem_pymem_uninstall();
        py_installed = 0;
    }
out:
    pthread_mutex_unlock(&install_lock);
    return r;
}

void scalene_memhooks_set_enabled(int on)
{
    int v = on && __atomic_load_n(&installed, __ATOMIC_RELAXED);
    __atomic_store_n(&_scalene_mem_enabled, v, __ATOMIC_RELEASE);
}

int scalene_memhooks_uninstall(void)
{
    pthread_mutex_lock(&install_lock);
    int r = 0;
    if (__atomic_load_n(&installed, __ATOMIC_RELAXED)) {
        __atomic_store_n(&_scalene_mem_enabled, 0, __ATOMIC_RELEASE);
        if (!test_skip_got)
            r = _scalene_mem_got_uninstall();
        if (py_installed) {
            int pr = _scalene_mem_pymem_uninstall();
            if (pr < 0 && r == 0)
                r = pr;
            py_installed = 0;
        }
        __atomic_store_n(&installed, 0, __ATOMIC_RELEASE);
    }
    pthread_mutex_unlock(&install_lock);
    return r;
}

void scalene_memhooks_stats(scalene_memhooks_stats_t *out)
{
    if (!out)
        return;
    out->malloc_samples = __atomic_load_n(&_scalene_mem_counters.malloc_samples, __ATOMIC_RELAXED);
    out->free_samples = __atomic_load_n(&_scalene_mem_counters.free_samples, __ATOMIC_RELAXED);
    out->copy_samples = __atomic_load_n(&_scalene_mem_counters.copy_samples, __ATOMIC_RELAXED);
    out->dropped = __atomic_load_n(&_scalene_mem_counters.dropped, __ATOMIC_RELAXED);
    out->tracked_blocks = _scalene_mem_table_count();
    out->patched_objects = _scalene_mem_got_patched_objects();
}
