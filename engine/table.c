/* table.c: see table.h. */
#include "table.h"

#include <stdlib.h>
#include <string.h>

uint64_t
scalene_hash_bytes(const void *data, size_t n, uint64_t seed)
{
    /* FNV-1a, then a final avalanche */
    const unsigned char *p = data;
    uint64_t h = 0xcbf29ce484222325ULL ^ seed;
    for (size_t i = 0; i < n; i++) {
        h ^= p[i];
        h *= 0x100000001b3ULL;
    }
    h ^= h >> 33;
    h *= 0xff51afd7ed558ccdULL;
    h ^= h >> 33;
    return h;
}

static inline size_t
slot_for(uint64_t key, size_t capacity)
{
    uint64_t h = key * 0x9E3779B97F4A7C15ULL;
    return (size_t)(h ^ (h >> 29)) & (capacity - 1);
}

void
scalene_map_clear(scalene_map_t *map)
{
    free(map->keys);
    free(map->values);
    free(map->used);
    memset(map, 0, sizeof(*map));
}

/* used[]: 0 empty, 1 occupied, 2 deleted (a tombstone: probing goes on). */
int32_t
scalene_map_get(const scalene_map_t *map, uint64_t key)
{
    if (map->capacity == 0) {
        return -1;
    }
    for (size_t i = slot_for(key, map->capacity);; i = (i + 1) & (map->capacity - 1)) {
        if (!map->used[i]) {
            return -1;
        }
        if (map->used[i] == 1 && map->keys[i] == key) {
            return map->values[i];
        }
    }
}

void
scalene_map_del(scalene_map_t *map, uint64_t key)
{
    if (map->capacity == 0) {
        return;
    }
    for (size_t i = slot_for(key, map->capacity);; i = (i + 1) & (map->capacity - 1)) {
        if (!map->used[i]) {
            return;
        }
        if (map->used[i] == 1 && map->keys[i] == key) {
            map->used[i] = 2;
            return;
        }
    }
}

static int
grow(scalene_map_t *map)
{
    size_t capacity = map->capacity ? map->capacity * 2 : 64;
    scalene_map_t bigger = {
        .keys = malloc(capacity * sizeof(uint64_t)),
        .values = malloc(capacity * sizeof(int32_t)),
        .used = calloc(capacity, 1),
        .capacity = capacity,
    };
    if (!bigger.keys || !bigger.values || !bigger.used) {
        scalene_map_clear(&bigger);
        return -1;
    }
    for (size_t i = 0; i < map->capacity; i++) {
        if (map->used[i] == 1) {
            size_t j = slot_for(map->keys[i], capacity);
            while (bigger.used[j]) {
                j = (j + 1) & (capacity - 1);
            }
            bigger.used[j] = 1;
            bigger.keys[j] = map->keys[i];
            bigger.values[j] = map->values[i];
            bigger.count++;
        }
    }
    scalene_map_clear(map);
    *map = bigger;
    return 0;
}

int
scalene_map_put(scalene_map_t *map, uint64_t key, int32_t value)
{
    if ((map->count + 1) * 2 > map->capacity && grow(map) != 0) {
        return -1;
    }
    size_t i = slot_for(key, map->capacity);
    while (map->used[i] && !(map->used[i] == 1 && map->keys[i] == key)) {
        i = (i + 1) & (map->capacity - 1);
    }
    if (!map->used[i]) {
        map->used[i] = 1;
        map->keys[i] = key;
        map->count++; /* tombstones count too: they lengthen probes until the next growth */
    }
    map->values[i] = value;
    return 0;
}

void
scalene_strings_clear(scalene_strings_t *s)
{
    for (size_t i = 0; i < s->count; i++) {
        free(s->strings[i]);
    }
    free(s->strings);
    free(s->next);
    scalene_map_clear(&s->index);
    memset(s, 0, sizeof(*s));
}

int32_t
scalene_strings_intern(scalene_strings_t *s, const char *text)
{
    size_t len = strlen(text);
    uint64_t h = scalene_hash_bytes(text, len, 0);
    int32_t id = scalene_map_get(&s->index, h);
    for (int32_t i = id; i >= 0; i = s->next[i]) {
        if (strcmp(s->strings[i], text) == 0) {
            return i;
        }
    }
    if (s->count == s->capacity) {
        size_t capacity = s->capacity ? s->capacity * 2 : 64;
        char **strings = realloc(s->strings, capacity * sizeof(char *));
        if (strings == NULL) {
            return -1;
        }
        s->strings = strings;
        int32_t *next = realloc(s->next, capacity * sizeof(int32_t));
        if (next == NULL) {
            return -1;
        }
        s->next = next;
        s->capacity = capacity;
    }
    char *copy = malloc(len + 1);
    if (copy == NULL) {
        return -1;
    }
    memcpy(copy, text, len + 1);
    int32_t new_id = (int32_t)s->count;
    if (scalene_map_put(&s->index, h, new_id) != 0) {
        free(copy);
        return -1;
    }
    s->strings[new_id] = copy;
    s->next[new_id] = id; /* chain to the older string with the same hash */
    s->count++;
    return new_id;
}

const char *
scalene_strings_get(const scalene_strings_t *s, int32_t id)
{
    return (id >= 0 && (size_t)id < s->count) ? s->strings[id] : "";
}

int32_t
scalene_strings_find(const scalene_strings_t *s, const char *text)
{
    uint64_t h = scalene_hash_bytes(text, strlen(text), 0);
    for (int32_t i = scalene_map_get(&s->index, h); i >= 0; i = s->next[i]) {
        if (strcmp(s->strings[i], text) == 0) {
            return i;
        }
    }
    return -1;
}
