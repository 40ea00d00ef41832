/* A library whose function allocates from a thread that never runs Python. */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

static void *
run(void *arg)
{
    size_t mb = *(size_t *)arg;
    void **blocks = malloc(mb * sizeof(void *));
    for (size_t i = 0; i < mb; i++) {
        blocks[i] = malloc(1 << 20);
        memset(blocks[i], 1, 1 << 20);
    }
    for (size_t i = 0; i < mb; i++) {
        free(blocks[i]);
    }
    free(blocks);
    return NULL;
}

void
alloc_in_native_thread(size_t mb)
{
    pthread_t t;
    pthread_create(&t, NULL, run, &mb);
    pthread_join(t, NULL);
}
