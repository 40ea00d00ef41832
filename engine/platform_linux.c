/* platform_linux.c: the Linux implementation of platform.h. */
#ifdef __linux__

#include "platform.h"

#include <dlfcn.h>
#include <errno.h>
#include <execinfo.h>
#include <fcntl.h>
#include <link.h>
#include <sched.h>
#include <stdlib.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <ucontext.h>
#include <unistd.h>

static int64_t
clock_ns(clockid_t clock)
{
    struct timespec ts;
    if (clock_gettime(clock, &ts) != 0) {
        return -1;
    }
    return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

int64_t
scalene_now_ns(void)
{
    return clock_ns(CLOCK_MONOTONIC);
}

int64_t
scalene_thread_cpu_ns(void)
{
    return clock_ns(CLOCK_THREAD_CPUTIME_ID);
}

/* The kernel's clock id for "CPU time of thread tid" (the ABI behind
 * pthread_getcpuclockid): ~tid << 3 | CPUCLOCK_PERTHREAD | CPUCLOCK_SCHED.
 * Using the tid rather than a pthread_t means a thread that has exited
 * gives EINVAL instead of a use-after-free of glibc's thread descriptor. */
static clockid_t
thread_clock(int tid)
{
    return (clockid_t)((~(unsigned)tid) << 3) | 4 | 2;
}

int64_t
scalene_thread_cpu_ns_of(int tid)
{
    return clock_ns(thread_clock(tid));
}

int64_t
scalene_process_cpu_ns(void)
{
    return clock_ns(CLOCK_PROCESS_CPUTIME_ID);
}

int
scalene_gettid(void)
{
    return (int)syscall(SYS_gettid);
}

int
scalene_available_cpus(void)
{
    cpu_set_t set;
    if (sched_getaffinity(0, sizeof(set), &set) == 0) {
        int n = CPU_COUNT(&set);
        if (n > 0) {
            return n;
        }
    }
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    return n > 0 ? (int)n : 1;
}

int
scalene_cpu_timer_create(scalene_cpu_timer_t *t, int tid, int signo, int cookie)
{
    struct sigevent sev;
    memset(&sev, 0, sizeof(sev));
    sev.sigev_notify = SIGEV_THREAD_ID;
    sev.sigev_signo = signo;
    sev.sigev_value.sival_int = cookie;
    sev._sigev_un._tid = tid;
    timer_t id;
    if (timer_create(thread_clock(tid), &sev, &id) != 0) {
        return -errno;
    }
    t->handle = (uintptr_t)id;
    return 0;
}

int
scalene_cpu_timer_arm(scalene_cpu_timer_t *t, int64_t cpu_ns)
{
    struct itimerspec its;
    memset(&its, 0, sizeof(its));
    if (cpu_ns < 1000) {
        cpu_ns = 1000;
    }
    its.it_value.tv_sec = cpu_ns / 1000000000LL;
    its.it_value.tv_nsec = cpu_ns % 1000000000LL;
    if (timer_settime((timer_t)t->handle, 0, &its, NULL) != 0) {
        return -errno;
    }
    return 0;
}

void
scalene_cpu_timer_delete(scalene_cpu_timer_t *t)
{
    timer_delete((timer_t)t->handle);
    t->handle = 0;
}

int
scalene_signal_thread(int tid, int signo, int cookie)
{
    siginfo_t info;
    memset(&info, 0, sizeof(info));
    info.si_signo = signo;
    info.si_code = SI_QUEUE;
    info.si_pid = getpid();
    info.si_uid = getuid();
    info.si_value.sival_int = cookie;
    if (syscall(SYS_rt_tgsigqueueinfo, (pid_t)getpid(), (pid_t)tid, signo, &info) != 0) {
        return -errno;
    }
    return 0;
}

/* The state letter of /proc/self/task/TID/stat.  Opened and closed each
 * time rather than kept open: a program that closes every descriptor it did
 * not open itself (daemons do) would otherwise make us read, and later
 * close, whatever file it opened under the same number. */
int
scalene_thread_running(int tid)
{
    char path[64];
    snprintf(path, sizeof(path), "/proc/self/task/%d/stat", tid);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        return -1;
    }
    char buf[512];
    ssize_t n = read(fd, buf, sizeof(buf) - 1);
    close(fd);
    if (n <= 0) {
        return -1;
    }
    buf[n] = '\0';
    /* "tid (comm) S ...": comm may itself contain spaces and parentheses */
    char *close_paren = strrchr(buf, ')');
    if (close_paren == NULL || close_paren[1] != ' ' || close_paren[2] == '\0') {
        return -1;
    }
    return close_paren[2] == 'R';
}

uintptr_t
scalene_interrupted_pc(void *ucontext)
{
    if (ucontext == NULL) {
        return 0;
    }
    ucontext_t *uc = (ucontext_t *)ucontext;
#if defined(__x86_64__)
    return (uintptr_t)uc->uc_mcontext.gregs[REG_RIP];
#elif defined(__aarch64__)
    return (uintptr_t)uc->uc_mcontext.pc;
#else
    (void)uc;
    return 0;
#endif
}

/* Executable segments of the interpreter, libpython, libc and libm.  Written
 * once before any timer is armed; read-only afterwards (so the signal
 * handler reads it without synchronisation). */
#define MAX_RANGES 32
static struct { uintptr_t lo, hi; } ranges[MAX_RANGES];
static int nranges;

/* The profiler's own object: time in its allocation hooks is spent on behalf
 * of the bytecode that allocated, not in native code the program called. */
static const char *own_object;

static int
is_interpreter_object(const char *name, int index)
{
    if (index == 0 || name == NULL || name[0] == '\0') {
        return 1; /* the main program: python itself */
    }
    if (own_object != NULL && strcmp(name, own_object) == 0) {
        return 1;
    }
    const char *base = strrchr(name, '/');
    base = base ? base + 1 : name;
    /* the interpreter, the C library, and allocators that replace malloc */
    static const char *const prefixes[] = {"libpython", "libc.so", "libc-", "libm.so", "libjemalloc",
                                           "libtcmalloc", "libmimalloc", "libasan", "libubsan"};
    for (size_t i = 0; i < sizeof(prefixes) / sizeof(prefixes[0]); i++) {
        if (strncmp(base, prefixes[i], strlen(prefixes[i])) == 0) {
            return 1;
        }
    }
    return 0;
}

static int
collect_ranges(struct dl_phdr_info *info, size_t size, void *data)
{
    (void)size;
    int *index = (int *)data;
    if (is_interpreter_object(info->dlpi_name, (*index)++)) {
        for (int i = 0; i < info->dlpi_phnum && nranges < MAX_RANGES; i++) {
            const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
            if (ph->p_type == PT_LOAD && (ph->p_flags & PF_X)) {
                ranges[nranges].lo = info->dlpi_addr + ph->p_vaddr;
                ranges[nranges].hi = info->dlpi_addr + ph->p_vaddr + ph->p_memsz;
                nranges++;
            }
        }
    }
    return 0;
}

void
scalene_interpreter_ranges_init(void)
{
    if (nranges > 0) {
        return;
    }
    Dl_info self;
    if (dladdr((void *)scalene_interpreter_ranges_init, &self) != 0) {
        own_object = self.dli_fname;
    }
    int index = 0;
    dl_iterate_phdr(collect_ranges, &index);
}

int
scalene_pc_in_interpreter(uintptr_t pc)
{
    if (pc == 0 || nranges == 0) {
        return 1; /* unknown: do not claim native */
    }
    for (int i = 0; i < nranges; i++) {
        if (pc >= ranges[i].lo && pc < ranges[i].hi) {
            return 1;
        }
    }
    return 0;
}

void
scalene_sleep_until_ns(int64_t deadline_ns)
{
    struct timespec ts;
    ts.tv_sec = deadline_ns / 1000000000LL;
    ts.tv_nsec = deadline_ns % 1000000000LL;
    while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL) == EINTR) {
    }
}

#endif /* __linux__ */

/* ------------------------------------------------------- fatal signals */

static const int fatal_signals[] = {SIGSEGV, SIGBUS, SIGILL, SIGFPE, SIGABRT};
#define N_FATAL_SIGNALS (sizeof(fatal_signals) / sizeof(fatal_signals[0]))
/* Written once by scalene_fatal_signals_install, before any of them can be
 * delivered to our handler; read-only afterwards. */
static struct sigaction previous_fatal_action[N_FATAL_SIGNALS];
static void (*fatal_recover)(int signo);
static int crash_report; /* SCALENE_CRASH_REPORT was set (and no ASan) */

static void
write_str(const char *s)
{
    ssize_t unused = write(2, s, strlen(s));
    (void)unused;
}

static void
write_num(const char *label, unsigned long v, int hex)
{
    char buf[32], *p = buf + sizeof(buf);
    *--p = '\0';
    do {
        *--p = "0123456789abcdef"[v % (hex ? 16 : 10)];
        v /= hex ? 16 : 10;
    } while (v != 0 && p > buf + 2);
    if (hex) {
        *--p = 'x';
        *--p = '0';
    }
    write_str(label);
    write_str(p);
}

static void
write_crash_report(int signo, siginfo_t *si, void *ucontext)
{
    write_num("\nscalene: fatal signal ", (unsigned long)signo, 0);
    write_num(" in pid ", (unsigned long)getpid(), 0);
    write_num(" tid ", (unsigned long)syscall(SYS_gettid), 0);
    write_num(" at pc ", (unsigned long)scalene_interrupted_pc(ucontext), 1);
    write_num(" address ", (unsigned long)(uintptr_t)si->si_addr, 1);
    write_str("; C stack:\n");
    void *frames[64];
    int n = backtrace(frames, 64); /* libgcc was loaded at install: no dlopen here */
    backtrace_symbols_fd(frames, n, 2);
}

static void
on_fatal_signal(int signo, siginfo_t *si, void *ucontext)
{
    size_t k = 0;
    while (k < N_FATAL_SIGNALS && fatal_signals[k] != signo) {
        k++;
    }
    if (fatal_recover != NULL) {
        fatal_recover(signo); /* may not return: a guarded read jumps back */
    }
    if (crash_report) {
        write_crash_report(signo, si, ucontext);
    }
    /* Hand it on, as faulthandler does: to the previous handler if there was
     * one, else the default action (restored, then the signal again). */
    const struct sigaction *prev = k < N_FATAL_SIGNALS ? &previous_fatal_action[k] : NULL;
    if (prev != NULL && (prev->sa_flags & SA_SIGINFO) && prev->sa_sigaction != NULL) {
        prev->sa_sigaction(signo, si, ucontext);
        return;
    }
    if (prev != NULL && !(prev->sa_flags & SA_SIGINFO) && prev->sa_handler != SIG_DFL &&
        prev->sa_handler != SIG_IGN) {
        prev->sa_handler(signo);
        return;
    }
    signal(signo, SIG_DFL);
    if (si->si_code <= 0 || signo == SIGABRT) { /* sent, not a fault: returning would not repeat it */
        raise(signo);
    }
}

void
scalene_fatal_signals_install(void (*recover)(int signo))
{
    static int installed;
    if (installed) {
        return;
    }
    installed = 1;
    fatal_recover = recover;
    const char *on = getenv("SCALENE_CRASH_REPORT");
    crash_report = on != NULL && on[0] != '\0' && on[0] != '0' &&
                   dlsym(RTLD_DEFAULT, "__asan_init") == NULL; /* ASan reports crashes itself, better */
    if (crash_report) {
        void *warm[1];
        backtrace(warm, 1); /* loads libgcc_s now, not inside the handler */
    }
    for (size_t k = 0; k < N_FATAL_SIGNALS; k++) {
        struct sigaction sa;
        memset(&sa, 0, sizeof(sa));
        sa.sa_sigaction = on_fatal_signal;
        /* NODEFER: a guarded read that jumps back leaves the mask as it was */
        sa.sa_flags = SA_SIGINFO | SA_ONSTACK | SA_NODEFER;
        sigemptyset(&sa.sa_mask);
        sigaction(fatal_signals[k], &sa, &previous_fatal_action[k]);
    }
}
