/* platform.h: the operating-system contract of the engine.
 *
 * Everything the sampler needs from the OS goes through these functions so
 * that a second platform (macOS) is one new platform_<os>.c, not edits
 * scattered through the engine.  Linux is platform_linux.c.
 *
 * Unless stated otherwise a function is async-signal-safe: it neither
 * allocates nor takes locks, and may be called from a signal handler.
 */
#ifndef SCALENE_PLATFORM_H
#define SCALENE_PLATFORM_H

#include <signal.h>
#include <stddef.h>
#include <stdint.h>

/* Monotonic wall clock in ns (the clock behind time.perf_counter()). */
int64_t scalene_now_ns(void);

/* CPU time consumed by the calling thread, in ns. */
int64_t scalene_thread_cpu_ns(void);

/* CPU time consumed by thread `tid` of this process, in ns, or -1 if the
 * thread no longer exists. */
int64_t scalene_thread_cpu_ns_of(int tid);

/* CPU time consumed by the whole process, in ns. */
int64_t scalene_process_cpu_ns(void);

/* Kernel id of the calling thread. */
int scalene_gettid(void);

/* Number of CPUs this process may run on (not async-signal-safe). */
int scalene_available_cpus(void);

/* Per-thread CPU-time timer: fires `signo` in thread `tid` each time that
 * thread has consumed the CPU time given to scalene_cpu_timer_arm().  The
 * signal's si_value carries `cookie`.  Create/delete are not
 * async-signal-safe; arm is.  Return 0 on success, -errno on failure. */
typedef struct { uintptr_t handle; } scalene_cpu_timer_t;
int scalene_cpu_timer_create(scalene_cpu_timer_t *t, int tid, int signo, int cookie);
int scalene_cpu_timer_arm(scalene_cpu_timer_t *t, int64_t cpu_ns);
void scalene_cpu_timer_delete(scalene_cpu_timer_t *t);

/* Send `signo` to thread `tid` of this process now, with `cookie` in the
 * signal's si_value and si_code SI_QUEUE (from the sampler thread, so that
 * running threads are sampled at wall-clock times finer than the kernel's
 * tick, which is what CPU-clock timers are rounded to).  0 or -errno. */
int scalene_signal_thread(int tid, int signo, int cookie);

/* Is thread `tid` of this process running or runnable right now (1), or
 * waiting (0)?  -1 if it cannot be told.  Not async-signal-safe: for the
 * sampler thread. */
int scalene_thread_running(int tid);

/* The program counter at which the signal interrupted the thread, from the
 * handler's ucontext, or 0 if it cannot be known on this platform. */
uintptr_t scalene_interrupted_pc(void *ucontext);

/* Address ranges of the interpreter itself (the python executable and
 * libpython, plus the C library): code running there on behalf of a
 * bytecode is Python work; anywhere else is native.  Computed once by
 * scalene_interpreter_ranges_init() (not signal-safe), then read-only. */
void scalene_interpreter_ranges_init(void);
int scalene_pc_in_interpreter(uintptr_t pc);

/* Fatal signals (SIGSEGV, SIGBUS, SIGILL, SIGFPE, SIGABRT).  `recover` runs
 * first, in the handler: it may siglongjmp out (a fault inside a guarded
 * read) and otherwise returns.  Then, with SCALENE_CRASH_REPORT=1 (the test
 * suite sets it), the crashing thread's C stack is written to stderr, and the
 * signal goes on to the handler that was there before (faulthandler's
 * Python traceback), or to the default action.  Call once, after
 * faulthandler is enabled; not signal-safe. */
void scalene_fatal_signals_install(void (*recover)(int signo));

/* Sleep until the monotonic clock reaches `deadline_ns` (not signal-safe). */
void scalene_sleep_until_ns(int64_t deadline_ns);

#endif /* SCALENE_PLATFORM_H */
