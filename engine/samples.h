/* samples.h: what the sampler hands to the aggregator.
 *
 * Data path (design brief, section 3):
 *   signal handler / sampler thread
 *     -> scalene_sample_t records in a lock-free ring (no Python objects, no malloc)
 *     -> the drain (aggregate.c), which owns the hash tables
 *     -> the profile writer (writer.c).
 *
 * Code objects are never dereferenced after the sample is taken: the handler
 * resolves the line number while the frame is alive, and the first time it
 * meets a code object it also copies the code's file and function names into
 * a scalene_codeinfo_t record.  The aggregator identifies code by (pointer,
 * stamp), where the stamp hashes fields that differ between two code objects
 * that happen to reuse the same address.  So a code object that dies before
 * the drain (module bodies, exec'd code) cannot crash or mislead it.
 */
#ifndef SCALENE_SAMPLES_H
#define SCALENE_SAMPLES_H

#include <stdint.h>

#include "ring.h"

#define SCALENE_MAX_FRAMES 48

typedef struct {
    uintptr_t code;  /* identity only: never dereferenced by the aggregator */
    uint32_t stamp;  /* see scalene_code_stamp() */
    int32_t lineno;
} scalene_frame_t;

enum {
    SCALENE_SAMPLE_CPU = 1,  /* the thread was running: Python or native */
    SCALENE_SAMPLE_IDLE = 2, /* the thread was off-CPU for weight_ns: system */
};

typedef struct {
    scalene_ring_seq_t seq;
    uint8_t kind;
    uint8_t native;          /* CPU samples: running native code, not bytecode */
    uint16_t nframes;        /* innermost first */
    int32_t slot;            /* thread registry slot */
    int64_t weight_ns;       /* CPU ns since the thread's previous sample, or off-CPU ns */
    int64_t t_ns;            /* monotonic time of the sample */
    int64_t thread_cpu_ns;   /* IDLE: the thread's CPU clock when it was seen idle */
    float core_util;         /* process CPU use / cores over the last tick */
    float gpu_util;          /* GPU utilisation 0..1 at the last poll (0 without GPU) */
    float gpu_mem_mb;        /* this process's GPU memory at the last poll */
    uintptr_t pc;            /* native CPU samples: the interrupted instruction, else 0 */
    scalene_frame_t frames[SCALENE_MAX_FRAMES];
} scalene_sample_t;

#define SCALENE_CODEINFO_FILENAME 400
#define SCALENE_CODEINFO_NAME 104

typedef struct {
    scalene_ring_seq_t seq;
    uintptr_t code;
    uint32_t stamp;
    int32_t firstlineno;
    char filename[SCALENE_CODEINFO_FILENAME]; /* UTF-8, NUL-terminated; "" if unreadable */
    char name[SCALENE_CODEINFO_NAME];         /* co_qualname (3.11+) or co_name */
} scalene_codeinfo_t;

#endif
