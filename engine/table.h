/* table.h: the two containers the aggregator needs.  Not thread-safe and not
 * signal-safe: they belong to whoever holds the aggregator's table lock, and
 * they grow with malloc. */
#ifndef SCALENE_TABLE_H
#define SCALENE_TABLE_H

#include <stddef.h>
#include <stdint.h>

/* uint64 key -> int32 value, open addressing, grows at 50 % load. */
typedef struct {
    uint64_t *keys;
    int32_t *values;
    uint8_t *used;
    size_t capacity, count;
} scalene_map_t;

void scalene_map_clear(scalene_map_t *map);
/* The value for key, or -1. */
int32_t scalene_map_get(const scalene_map_t *map, uint64_t key);
/* 0 ok, -1 ENOMEM. */
int scalene_map_put(scalene_map_t *map, uint64_t key, int32_t value);
/* Remove key if present (leaves a tombstone until the next growth). */
void scalene_map_del(scalene_map_t *map, uint64_t key);

/* Interned NUL-terminated strings: each distinct string gets a dense id. */
typedef struct {
    char **strings;
    size_t count, capacity;
    scalene_map_t index; /* hash -> first id with that hash; collisions chain through next */
    int32_t *next;
} scalene_strings_t;

void scalene_strings_clear(scalene_strings_t *s);
/* The id of s (interning a copy), or -1 on ENOMEM. */
int32_t scalene_strings_intern(scalene_strings_t *s, const char *text);
const char *scalene_strings_get(const scalene_strings_t *s, int32_t id);
/* The id of text if it was interned, else -1 (does not intern). */
int32_t scalene_strings_find(const scalene_strings_t *s, const char *text);

uint64_t scalene_hash_bytes(const void *data, size_t n, uint64_t seed);

#endif
