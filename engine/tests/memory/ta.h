/* engine/tests/memory/ta.h -- "test allocator" helper libraries.
 *
 * ta.c is built several times as a shared library (lazy binding, BIND_NOW +
 * full RELRO, -fno-plt, loaded late with dlopen...).  Each wrapper calls the
 * libc function through the library's own PLT/GOT, which is what the layer
 * patches.  Tests reach a library through dlopen + dlsym("ta_api"). */
#ifndef TA_H
#define TA_H
#include <stddef.h>
#include <stdint.h>

typedef struct {
    const char *name;
    void *(*malloc)(size_t);
    void *(*calloc)(size_t, size_t);
    void *(*realloc)(void *, size_t);
    void (*free)(void *);
    int (*posix_memalign)(void **, size_t, size_t);
    void *(*aligned_alloc)(size_t, size_t);
    void *(*memalign)(size_t, size_t);
    void *(*valloc)(size_t);
    void *(*pvalloc)(size_t);
    void *(*reallocarray)(void *, size_t, size_t);
    void *(*memcpy)(void *, const void *, size_t);
    void *(*memmove)(void *, const void *, size_t);
    void *(*mempcpy)(void *, const void *, size_t);
    char *(*strcpy)(char *, const char *);
    char *(*stpcpy)(char *, const char *);
    void *(*dlopen)(const char *, int);
    /* &malloc / &free as this library sees them (loaded from its GOT). */
    void *(*addr_malloc)(void);
    void *(*addr_free)(void);
    /* malloc+free pairs of sizes in [lo, hi] (xorshift from seed) inside the
     * library; returns the total of the sizes requested. */
    uint64_t (*churn)(uint64_t iters, uint64_t lo, uint64_t hi, uint64_t seed);
    /* Copies total bytes in chunks of chunk bytes with memcpy. */
    void (*copy_volume)(void *dst, const void *src, uint64_t chunk, uint64_t total);
    /* dlopen(name) from inside this library (for RUNPATH tests). */
    void *(*load)(const char *name);
    /* Benchmarks: iters x free(malloc(n)); n mallocs into v then n frees;
     * iters x memcpy(d, s, n). */
    void (*pairs)(uint64_t iters, size_t n);
    void (*batch)(void **v, uint64_t count, size_t n);
    void (*copies)(void *d, const void *s, size_t n, uint64_t iters);
} ta_api_t;

typedef const ta_api_t *(*ta_api_fn)(void);
#endif
