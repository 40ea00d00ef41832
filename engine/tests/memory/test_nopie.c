/* engine/tests/memory/test_nopie.c -- a non-PIE executable.
 *
 * g_code_malloc/g_code_free are assigned in non-PIC code, so the linker makes
 * this executable's PLT stubs the canonical addresses of malloc and free, and
 * dlsym(RTLD_DEFAULT, "malloc") returns the stub: the layer must forward to
 * the function behind it, not to the stub (which jumps through the patched
 * slot back into the hook).  g_data_calloc is a function pointer initialised
 * in data (an absolute data relocation, or the canonical address). */
#include <dlfcn.h>

#include "testlib.h"

void *(*volatile g_code_malloc)(size_t);
void (*volatile g_code_free)(void *);
void *(*volatile g_data_calloc)(size_t, size_t) = calloc;

static void common(void)
{
    void *stub = dlsym(RTLD_DEFAULT, "malloc");
    printf("  dlsym(malloc) %p, &malloc here %p\n", stub, (void *)g_code_malloc);
    CHECK(stub == (void *)g_code_malloc, "expected the canonical PLT stub");
    rec_reset();
    rec_log(1);
    scalene_memhooks_config_t c = cfg_default(1, 0, 0);
    install_or_die(&c);
    void *p = g_code_malloc(5000);
    CHECK(rec_find(SCALENE_MEM_MALLOC, p), "malloc through the canonical address not sampled");
    uintptr_t pa = addr_of(p);
    g_code_free(p);
    CHECK(rec_find_addr(SCALENE_MEM_FREE, pa), "free through the canonical address not reported");
    p = g_data_calloc(10, 500);
    CHECK(rec_find(SCALENE_MEM_MALLOC, p), "calloc through a function pointer in data not sampled");
    g_code_free(p);
    char *s = strdup("libc's own malloc slot");
    /* (under ASan, strdup is ASan's own and allocates internally) */
    CHECK(TEST_ASAN || rec_find(SCALENE_MEM_MALLOC, s), "strdup (libc calling malloc) not sampled");
    free(s);
    CHECK(scalene_memhooks_uninstall() == 0, "uninstall");
    p = g_code_malloc(100);
    g_code_free(p);
}

/* The executable's malloc slot is still unbound (lazy) at install time. */
TEST_CASE(canonical_plt_unbound) { common(); }

/* ... or already bound. */
TEST_CASE(canonical_plt_bound)
{
    g_code_free(g_code_malloc(10));
    common();
}

static const test_case_t TESTS[] = {T(canonical_plt_unbound), T(canonical_plt_bound)};

int main(int argc, char **argv)
{
    g_code_malloc = malloc;
    g_code_free = free;
    return test_main(argc, argv, TESTS, sizeof(TESTS) / sizeof(TESTS[0]));
}
