/* engine/tests/memory/ta.c -- helper library; see ta.h.  Built with
 * -fno-builtin so that every call below stays a call through the GOT. */
#include <dlfcn.h>
#include <malloc.h>
#include <stdlib.h>
#include <string.h>

#include "ta.h"

#ifndef TA_NAME
#define TA_NAME "ta"
#endif

static void *w_malloc(size_t n) { return malloc(n); }
static void *w_calloc(size_t a, size_t b) { return calloc(a, b); }
static void *w_realloc(void *p, size_t n) { return realloc(p, n); }
static void w_free(void *p) { free(p); }
static int w_posix_memalign(void **pp, size_t a, size_t n) { return posix_memalign(pp, a, n); }
static void *w_aligned_alloc(size_t a, size_t n) { return aligned_alloc(a, n); }
static void *w_memalign(size_t a, size_t n) { return memalign(a, n); }
static void *w_valloc(size_t n) { return valloc(n); }
static void *w_pvalloc(size_t n) { return pvalloc(n); }
static void *w_reallocarray(void *p, size_t a, size_t b) { return reallocarray(p, a, b); }
static void *w_memcpy(void *d, const void *s, size_t n) { return memcpy(d, s, n); }
static void *w_memmove(void *d, const void *s, size_t n) { return memmove(d, s, n); }
static void *w_mempcpy(void *d, const void *s, size_t n) { return mempcpy(d, s, n); }
static char *w_strcpy(char *d, const char *s) { return strcpy(d, s); }
static char *w_stpcpy(char *d, const char *s) { return stpcpy(d, s); }
static void *w_dlopen(const char *f, int m) { return dlopen(f, m); }
static void *w_addr_malloc(void) { return (void *)malloc; }
static void *w_addr_free(void) { return (void *)free; }

static uint64_t w_churn(uint64_t iters, uint64_t lo, uint64_t hi, uint64_t seed)
{
    uint64_t x = seed ? seed : 88172645463325252ULL, total = 0, span = hi - lo + 1;
    for (uint64_t i = 0; i < iters; i++) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        size_t n = (size_t)(lo + x % span);
        void *p = malloc(n);
        if (p)
            *(volatile char *)p = 1;
        free(p);
        total += n;
    }
    return total;
}

static void w_copy_volume(void *dst, const void *src, uint64_t chunk, uint64_t total)
{
    for (uint64_t done = 0; done < total; done += chunk)
        memcpy(dst, src, chunk);
}

/* Not a tail call: dlopen must see this library as its caller. */
static void *w_load(const char *name)
{
    void *h = dlopen(name, RTLD_NOW | RTLD_LOCAL);
    __asm__ volatile("" : "+r"(h));
    return h;
}

static void w_pairs(uint64_t iters, size_t n)
{
    for (uint64_t i = 0; i < iters; i++) {
        void *p = malloc(n);
        __asm__ volatile("" : : "r"(p) : "memory");
        free(p);
    }
}

static void w_batch(void **v, uint64_t count, size_t n)
{
    for (uint64_t i = 0; i < count; i++)
        v[i] = malloc(n);
    __asm__ volatile("" : : : "memory");
    for (uint64_t i = 0; i < count; i++)
        free(v[i]);
}

static void w_copies(void *d, const void *s, size_t n, uint64_t iters)
{
    for (uint64_t i = 0; i < iters; i++) {
        memcpy(d, s, n);
        __asm__ volatile("" : : : "memory");
    }
}

static const ta_api_t api = {
    TA_NAME, w_malloc, w_calloc, w_realloc, w_free, w_posix_memalign, w_aligned_alloc,
    w_memalign, w_valloc, w_pvalloc, w_reallocarray, w_memcpy, w_memmove, w_mempcpy,
    w_strcpy, w_stpcpy, w_dlopen, w_addr_malloc, w_addr_free, w_churn, w_copy_volume, w_load,
    w_pairs, w_batch, w_copies,
};

__attribute__((visibility("default"))) const ta_api_t *ta_api(void) { return &api; }
