/* Unit tests of the engine's plain-C pieces (no Python): the lock-free ring
 * under concurrent producers, the hash map and string interner, the JSON
 * writer's escaping, and the names of native addresses.  Built twice by tests/engine_c (plain and with
 * ASan+UBSan); each test is a separate invocation so a crash names it. */
#include <dlfcn.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "jsonw.h"
#include "ring.h"
#include "symbols.h"
#include "table.h"

#define CHECK(cond)                                                                            \
    do {                                                                                       \
        if (!(cond)) {                                                                         \
            fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__, __LINE__, #cond);           \
            exit(1);                                                                           \
        }                                                                                      \
    } while (0)

typedef struct {
    scalene_ring_seq_t seq;
    uint32_t producer;
    uint32_t value;
} rec_t;

#define PRODUCERS 4
#define PER_PRODUCER 50000

static scalene_ring_t ring;
static _Atomic int producers_done;

static void *
produce(void *arg)
{
    uint32_t id = (uint32_t)(uintptr_t)arg;
    for (uint32_t i = 0; i < PER_PRODUCER;) {
        uint64_t pos;
        rec_t *r = scalene_ring_reserve(&ring, &pos);
        if (r == NULL) {
            continue; /* full: the consumer will catch up */
        }
        r->producer = id;
        r->value = i;
        scalene_ring_publish(&ring, r, pos);
        i++;
    }
    atomic_fetch_add(&producers_done, 1);
    return NULL;
}

static int
test_ring_mpsc(void)
{
    CHECK(scalene_ring_init(&ring, 1024, sizeof(rec_t)) == 0);
    pthread_t threads[PRODUCERS];
    for (uintptr_t i = 0; i < PRODUCERS; i++) {
        pthread_create(&threads[i], NULL, produce, (void *)i);
    }
    uint32_t next[PRODUCERS] = {0};
    uint64_t got = 0;
    while (got < (uint64_t)PRODUCERS * PER_PRODUCER) {
        rec_t *r = scalene_ring_peek(&ring);
        if (r == NULL) {
            continue;
        }
        CHECK(r->producer < PRODUCERS);
        /* per producer, records arrive in order, none lost, none duplicated */
        CHECK(r->value == next[r->producer]);
        next[r->producer]++;
        scalene_ring_release(&ring);
        got++;
    }
    for (int i = 0; i < PRODUCERS; i++) {
        pthread_join(threads[i], NULL);
    }
    CHECK(scalene_ring_peek(&ring) == NULL);
    CHECK(scalene_ring_used(&ring) == 0);
    scalene_ring_free(&ring);
    return 0;
}

static int
test_ring_full_drops(void)
{
    CHECK(scalene_ring_init(&ring, 4, sizeof(rec_t)) == 0);
    uint64_t pos;
    for (int i = 0; i < 4; i++) {
        rec_t *r = scalene_ring_reserve(&ring, &pos);
        CHECK(r != NULL);
        scalene_ring_publish(&ring, r, pos);
    }
    CHECK(scalene_ring_reserve(&ring, &pos) == NULL);
    CHECK(atomic_load(&ring.dropped) == 1);
    scalene_ring_free(&ring);
    return 0;
}

static int
test_map_and_strings(void)
{
    scalene_map_t map = {0};
    for (uint64_t k = 0; k < 100000; k++) {
        CHECK(scalene_map_put(&map, k * 2654435761u, (int32_t)k) == 0);
    }
    for (uint64_t k = 0; k < 100000; k++) {
        CHECK(scalene_map_get(&map, k * 2654435761u) == (int32_t)k);
    }
    CHECK(scalene_map_get(&map, 12345678901ULL) == -1);
    scalene_map_clear(&map);

    scalene_strings_t s = {0};
    char buf[32];
    for (int i = 0; i < 5000; i++) {
        snprintf(buf, sizeof(buf), "file-%d.py", i);
        CHECK(scalene_strings_intern(&s, buf) == i);
    }
    CHECK(scalene_strings_intern(&s, "file-42.py") == 42);
    CHECK(scalene_strings_find(&s, "file-4999.py") == 4999);
    CHECK(scalene_strings_find(&s, "nope") == -1);
    CHECK(strcmp(scalene_strings_get(&s, 7), "file-7.py") == 0);
    scalene_strings_clear(&s);
    return 0;
}

static int
test_json_escaping(void)
{
    char *data = NULL;
    size_t size = 0;
    FILE *f = open_memstream(&data, &size);
    scalene_jw_t w;
    scalene_jw_init(&w, f);
    scalene_jw_begin_object(&w);
    scalene_jw_key(&w, "line");
    scalene_jw_string(&w, "if a < b && c > \"d\":\\\n\t\x01", 1);
    scalene_jw_key(&w, "n");
    scalene_jw_double(&w, 1.0 / 0.0);
    scalene_jw_key(&w, "list");
    scalene_jw_begin_inline_array(&w);
    scalene_jw_int(&w, 1);
    scalene_jw_double(&w, 0.25);
    scalene_jw_end_array(&w);
    scalene_jw_end_object(&w);
    fclose(f);
    CHECK(!scalene_jw_failed(&w));
    CHECK(strstr(data, "\"if a \\u003c b \\u0026\\u0026 c \\u003e \\\"d\\\":\\\\\\n\\t\\u0001\"") != NULL);
    CHECK(strstr(data, "\"n\": 0.0") != NULL); /* non-finite numbers become 0 */
    CHECK(strstr(data, "[1, 0.25]") != NULL);
    free(data);
    return 0;
}

/* A static function: only the binary's .symtab names it (dladdr cannot). */
__attribute__((noinline)) static int
symbols_static_target(int x)
{
    return x * 3 + 1;
}

static int
test_symbols(void)
{
    scalene_symbol_t sym;
    uintptr_t pc = (uintptr_t)&symbols_static_target + 2;
    CHECK(symbols_static_target(1) == 4);
    CHECK(scalene_symbolize(pc, &sym));
    CHECK(strcmp(sym.symbol, "symbols_static_target") == 0);
    CHECK(sym.offset == 2);
    CHECK(strcmp(sym.module, "test_units") == 0);
    /* the cached answer is the same */
    scalene_symbol_t again;
    CHECK(scalene_symbolize(pc, &again));
    CHECK(again.symbol == sym.symbol && again.offset == 2);
    /* a shared library's exported function (one that ASan does not wrap) */
    CHECK(scalene_symbolize((uintptr_t)&getpid, &sym));
    CHECK(strncmp(sym.module, "libc", 4) == 0);
    CHECK(strstr(sym.symbol, "getpid") != NULL);
    /* no object there */
    CHECK(!scalene_symbolize(16, &sym));
    CHECK(!scalene_symbolize(0, &sym));
    scalene_symbols_reset();
    CHECK(scalene_symbolize(pc, &sym) && strcmp(sym.symbol, "symbols_static_target") == 0);
    /* a C++ function: demangled by the __cxa_demangle of the C++ runtime
     * the process has loaded (this C program loads one for the purpose) */
    void *cxx = dlopen("libstdc++.so.6", RTLD_NOW | RTLD_GLOBAL);
    if (cxx != NULL) {
        void *f = dlsym(cxx, "_ZNSt6thread20hardware_concurrencyEv");
        CHECK(f != NULL);
        CHECK(scalene_symbolize((uintptr_t)f + 1, &sym));
        CHECK(strcmp(sym.symbol, "std::thread::hardware_concurrency()") == 0);
        CHECK(strncmp(sym.module, "libstdc++", 9) == 0);
        CHECK(scalene_symbolize((uintptr_t)f + 1, &again) && again.symbol == sym.symbol);
    } else {
        printf("no libstdc++.so.6: demangling not checked\n");
    }
    scalene_symbols_reset(); /* nothing leaks (ASan's leak check) */
    return 0;
}

int
main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: %s TEST\n", argv[0]);
        return 2;
    }
    if (!strcmp(argv[1], "ring_mpsc")) return test_ring_mpsc();
    if (!strcmp(argv[1], "ring_full_drops")) return test_ring_full_drops();
    if (!strcmp(argv[1], "map_and_strings")) return test_map_and_strings();
    if (!strcmp(argv[1], "json_escaping")) return test_json_escaping();
    if (!strcmp(argv[1], "symbols")) return test_symbols();
    fprintf(stderr, "unknown test %s\n", argv[1]);
    return 2;
}
