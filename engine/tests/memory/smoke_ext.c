/* engine/tests/memory/smoke_ext.c -- the layer in a running interpreter.
 *
 * Compiled together with the layer (engine/memory/ *.c) into one shared object per
 * CPython version and loaded with ctypes.PyDLL (GIL held during calls) by
 * smoke_workload.py: install in a live interpreter, as scalene_profiler.start()
 * or a Jupyter cell would, run a workload, check the counts, uninstall. */
#include <stdint.h>
#include <string.h>

#include "memory/memhooks.h"

#define API __attribute__((visibility("default")))

static uint64_t counts[8]; /* malloc native, malloc python, free, copy, weights... */

static uint64_t cb(const scalene_mem_event_t *ev, void *arg)
{
    (void)arg;
    switch (ev->kind) {
    case SCALENE_MEM_MALLOC:
        __atomic_fetch_add(&counts[ev->domain == SCALENE_DOMAIN_PYTHON ? 1 : 0], 1, __ATOMIC_RELAXED);
        __atomic_fetch_add(&counts[4 + (ev->domain == SCALENE_DOMAIN_PYTHON)], ev->weight, __ATOMIC_RELAXED);
        return 1;
    case SCALENE_MEM_FREE:
        __atomic_fetch_add(&counts[2], 1, __ATOMIC_RELAXED);
        __atomic_fetch_add(&counts[6], ev->weight, __ATOMIC_RELAXED);
        return 0;
    default:
        __atomic_fetch_add(&counts[3], 1, __ATOMIC_RELAXED);
        __atomic_fetch_add(&counts[7], ev->weight, __ATOMIC_RELAXED);
        return 0;
    }
}

API int smoke_install(uint64_t window, int python, char *why, size_t why_len)
{
    scalene_memhooks_config_t c;
    memset(&c, 0, sizeof(c));
    c.sampling_window = window;
    c.copy_window = window;
    c.hook_python_allocators = python;
    c.hook_copies = 1;
    c.callback = cb;
    return scalene_memhooks_install(&c, why, why_len);
}

API int smoke_uninstall(void) { return scalene_memhooks_uninstall(); }

/* out[0..7]: counts above; out[8..13]: the layer's stats. */
API void smoke_counts(uint64_t *out)
{
    for (int i = 0; i < 8; i++)
        out[i] = __atomic_load_n(&counts[i], __ATOMIC_RELAXED);
    scalene_memhooks_stats_t st;
    scalene_memhooks_stats(&st);
    out[8] = st.malloc_samples;
    out[9] = st.free_samples;
    out[10] = st.copy_samples;
    out[11] = st.dropped;
    out[12] = st.tracked_blocks;
    out[13] = st.patched_objects;
}
