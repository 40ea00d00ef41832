/* sampler.h: where every thread is, at the moment of the sample.
 *
 * Two sources of samples, both writing scalene_sample_t records to
 * scalene_sample_ring:
 *
 *  - CPU samples, taken by a real-time signal handler in the sampled
 *    thread itself, which reads the thread's frames at the interrupted
 *    instruction (frames.h): no safepoint bias.  Two things raise that
 *    signal.  Each registered thread has its own CPU-time timer (platform.h)
 *    that fires after an exponentially distributed amount of *its own* CPU
 *    time; the kernel checks those timers only on its scheduler tick, which
 *    caps their rate.  So the sampler thread (below) also signals, at
 *    exponentially distributed wall-clock moments, every thread that used
 *    CPU since its last tick and is running at that moment.  Neither
 *    interrupts a blocked thread (short of one blocking in the microseconds
 *    between the check and the signal), so its system calls are left
 *    alone, and the CPU a thread used before it blocked is not credited to
 *    the line where it waits.  The
 *    sample's weight is the CPU time the thread actually used since its
 *    previous sample, whichever source triggered it.  It is native when the
 *    innermost frame is executing a call instruction or the interrupted
 *    program counter lies outside the interpreter.
 *
 *  - Idle samples (wall-clock mode only).  A sampler thread ticks at
 *    exponentially distributed wall-clock intervals, reads every registered
 *    thread's CPU clock, and records the time each one spent off-CPU.  Such a
 *    thread is not running, so its stack is read later by the drain, with the
 *    GIL held, when nothing can change it.
 */
#ifndef SCALENE_SAMPLER_H
#define SCALENE_SAMPLER_H

#include <stdint.h>

#include "ring.h"
#include "samples.h"

#define SCALENE_MAX_THREADS 1024

typedef struct {
    int virtual_time;    /* count CPU time only (no idle samples) */
    int64_t interval_ns; /* mean sampling interval */
    int signo;           /* signal delivered by the per-thread timers */
    int gpu;             /* poll NVML from the sampler thread */
} scalene_sampler_config_t;

/* Records from all threads, consumed by the drain (aggregate.c). */
extern scalene_ring_t scalene_sample_ring;
extern scalene_ring_t scalene_codeinfo_ring;

/* One-time set-up: rings, code cache, interpreter address ranges.  Not
 * signal-safe; call with the GIL held.  0 ok; <0 with a reason in why. */
int scalene_sampler_init(char *why, size_t why_len);

/* Install the signal handler, arm a timer for every registered thread and
 * start the wall-clock sampler thread, which calls wake_drain() whenever the
 * rings deserve draining.  0 ok; <0 with a reason. */
int scalene_sampler_start(const scalene_sampler_config_t *cfg, void (*wake_drain)(void), char *why,
                          size_t why_len);

/* Stop sampling: timers deleted, sampler thread joined.  Samples already in
 * the rings stay there for the drain. */
void scalene_sampler_stop(void);

int scalene_sampler_running(void);

/* In a forked child (pthread_atfork): no sampler thread, no timers, no
 * registered threads but the one that forked; sampling is off. */
void scalene_sampler_after_fork_child(void);

/* Thread registry.  register: a thread of this process, by kernel tid and
 * Python thread ident (threading.get_ident()); creates its timer when
 * sampling runs.  Returns the slot, or -1 if the registry is full or the
 * thread is gone.  Idempotent.  Not signal-safe. */
int scalene_sampler_register_thread(int tid, unsigned long ident);
void scalene_sampler_unregister_thread(int tid);
/* The ident registered for a slot (0 if free). */
unsigned long scalene_sampler_slot_ident(int slot);
/* Registered threads seen so far (monotonic count). */
uint64_t scalene_sampler_threads_seen(void);

/* 256 flags, one per opcode value: 1 where the instruction calls into a
 * callable (CALL*, PRECALL*, CALL_FUNCTION*, ...).  Computed in Python from
 * the running interpreter's opcode tables. */
void scalene_sampler_set_call_opcodes(const unsigned char *flags, int n);

/* Identity stamp of a code object (see samples.h).  Reads the object;
 * signal-safe on a live code object. */
uint32_t scalene_code_stamp(void *code);

/* Copy a live code object's names into a codeinfo record (signal-safe). */
void scalene_code_describe(void *code, scalene_codeinfo_t *out);

/* Fill frames[] for thread state `tstate` (innermost first), resolving
 * line numbers and publishing codeinfo records for code objects the code
 * cache does not know.  Signal-safe on the thread's own stack; also used
 * by the drain with the GIL held.  Returns the number of frames; sets
 * *top_opcode. */
int scalene_capture_frames(void *tstate, scalene_frame_t *frames, int max, int *top_opcode);

/* Catch faults of the signal handler's frame walk (and, with
 * SCALENE_CRASH_REPORT=1, report crashes): once, at module load. */
void scalene_sampler_install_fault_guard(void);

/* What the GPU layer said when sampling started (available, why...). */
#include "gpu/gpu.h"
void scalene_sampler_gpu_info(scalene_gpu_info_t *out);

/* Counters for the profile's "profiler" section. */
typedef struct {
    uint64_t cpu_samples, idle_samples, dropped_samples, timer_failures;
    uint64_t walk_faults; /* frame walks abandoned on a fault (see sampler.c) */
    uint64_t dropped_code_names;     /* code names lost to a full ring: their frames go unreported */
    uint64_t dropped_memory_samples; /* allocation/free/copy samples lost to a full ring */
} scalene_sampler_counters_t;
void scalene_sampler_counters(scalene_sampler_counters_t *out);
void scalene_sampler_reset_counters(void);

#endif
