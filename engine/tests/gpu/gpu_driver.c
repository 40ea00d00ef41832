/* engine/tests/gpu/gpu_driver.c -- drives the GPU layer contract (gpu.h) from
 * the command line and prints one JSON object per line on stdout.
 *
 * Usage: gpu_driver OP...   where OP is one of
 *   open              scalene_gpu_open
 *   open-null         scalene_gpu_open(NULL)
 *   sample[:N]        N samples (default 1) of the current pid
 *   pid:P             later samples are for pid P (0 = self)
 *   sample-null       scalene_gpu_sample with NULL outputs
 *   close             scalene_gpu_close
 *   sleep:MS          sleep MS milliseconds
 *   threads:T:N       T threads (not the main one) take N samples each;
 *                     one summary line
 *   churn:T:N         T threads sample in a loop while the main thread
 *                     closes and reopens the layer N times; one summary line
 *   bench:N           N samples, prints ns per sample
 *   fork              fork; the child closes, reopens and samples once
 *                     (lines tagged "child":1); the parent waits
 */
#include "gpu/gpu.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static int g_pid = 0;
static int g_child = 0;

static void json_str(const char *s)
{
    putchar('"');
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '"' || c == '\\')
            printf("\\%c", c);
        else if (c < 0x20)
            printf("\\u%04x", c);
        else
            putchar(c);
    }
    putchar('"');
}

static void print_info(const char *op, int rc, const scalene_gpu_info_t *info)
{
    printf("{\"op\":\"%s\",\"rc\":%d,\"available\":%d,\"ndevices\":%d,"
           "\"per_process\":%d,\"child\":%d,\"why\":",
           op, rc, info->available, info->ndevices, info->per_process, g_child);
    json_str(info->why);
}

static void do_sample(void)
{
    scalene_gpu_info_t info;
    memset(&info, 0x5a, sizeof info);
    info.why[sizeof info.why - 1] = 0;
    double u = -1.0, m = -1.0;
    int rc = scalene_gpu_sample(g_pid, &u, &m, &info);
    print_info("sample", rc, &info);
    printf(",\"utilization\":%.6f,\"memory_mb\":%.6f}\n", u, m);
}

struct thr {
    int n, ok, fail;
    double umin, umax, mmin, mmax;
};

static void *thr_main(void *arg)
{
    struct thr *t = arg;
    t->umin = t->mmin = 1e300;
    t->umax = t->mmax = -1e300;
    for (int i = 0; i < t->n; i++) {
        double u, m;
        scalene_gpu_info_t info;
        if (scalene_gpu_sample(g_pid, &u, &m, &info) == 0) {
            t->ok++;
            if (u < t->umin) t->umin = u;
            if (u > t->umax) t->umax = u;
            if (m < t->mmin) t->mmin = m;
            if (m > t->mmax) t->mmax = m;
        } else {
            t->fail++;
        }
    }
    return NULL;
}

static void do_threads(int nt, int n)
{
    pthread_t th[64];
    struct thr st[64];
    if (nt > 64)
        nt = 64;
    memset(st, 0, sizeof st);
    for (int i = 0; i < nt; i++) {
        st[i].n = n;
        pthread_create(&th[i], NULL, thr_main, &st[i]);
    }
    int ok = 0, fail = 0;
    double umin = 1e300, umax = -1e300, mmin = 1e300, mmax = -1e300;
    for (int i = 0; i < nt; i++) {
        pthread_join(th[i], NULL);
        ok += st[i].ok;
        fail += st[i].fail;
        if (st[i].ok) {
            if (st[i].umin < umin) umin = st[i].umin;
            if (st[i].umax > umax) umax = st[i].umax;
            if (st[i].mmin < mmin) mmin = st[i].mmin;
            if (st[i].mmax > mmax) mmax = st[i].mmax;
        }
    }
    if (!ok)
        umin = umax = mmin = mmax = -1;
    printf("{\"op\":\"threads\",\"ok\":%d,\"fail\":%d,\"umin\":%.6f,"
           "\"umax\":%.6f,\"mmin\":%.6f,\"mmax\":%.6f}\n",
           ok, fail, umin, umax, mmin, mmax);
}

static volatile int g_stop;
struct churn { long ok, unavail, other; };

static void *churn_main(void *arg)
{
    struct churn *c = arg;
    while (!__atomic_load_n(&g_stop, __ATOMIC_ACQUIRE)) {
        double u, m;
        scalene_gpu_info_t info;
        int rc = scalene_gpu_sample(g_pid, &u, &m, &info);
        if (rc == 0)
            c->ok++;
        else if (rc == SCALENE_GPU_EUNAVAIL)
            c->unavail++;
        else
            c->other++;
    }
    return NULL;
}

static void do_churn(int nt, int n)
{
    pthread_t th[64];
    struct churn st[64];
    if (nt > 64)
        nt = 64;
    memset(st, 0, sizeof st);
    g_stop = 0;
    for (int i = 0; i < nt; i++)
        pthread_create(&th[i], NULL, churn_main, &st[i]);
    int open_fail = 0;
    for (int i = 0; i < n; i++) {
        scalene_gpu_close();
        open_fail += scalene_gpu_open(NULL) != 0;
    }
    __atomic_store_n(&g_stop, 1, __ATOMIC_RELEASE);
    long ok = 0, unavail = 0, other = 0;
    for (int i = 0; i < nt; i++) {
        pthread_join(th[i], NULL);
        ok += st[i].ok;
        unavail += st[i].unavail;
        other += st[i].other;
    }
    printf("{\"op\":\"churn\",\"ok\":%ld,\"unavail\":%ld,\"other\":%ld,"
           "\"open_fail\":%d}\n", ok, unavail, other, open_fail);
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec * 1e-9;
}

int main(int argc, char **argv)
{
    setvbuf(stdout, NULL, _IOLBF, 0);
    for (int a = 1; a < argc; a++) {
        const char *op = argv[a];
        if (strcmp(op, "open") == 0) {
            scalene_gpu_info_t info;
            memset(&info, 0x5a, sizeof info); /* must all be overwritten */
            info.why[sizeof info.why - 1] = 0;
            int rc = scalene_gpu_open(&info);
            print_info("open", rc, &info);
            printf("}\n");
        } else if (strcmp(op, "open-null") == 0) {
            int rc = scalene_gpu_open(NULL);
            printf("{\"op\":\"open-null\",\"rc\":%d}\n", rc);
        } else if (strncmp(op, "sample", 6) == 0 && (op[6] == 0 || op[6] == ':')) {
            int n = op[6] ? atoi(op + 7) : 1;
            for (int i = 0; i < n; i++)
                do_sample();
        } else if (strcmp(op, "sample-null") == 0) {
            scalene_gpu_info_t info;
            double u;
            int rc1 = scalene_gpu_sample(g_pid, NULL, NULL, &info);
            int rc2 = scalene_gpu_sample(g_pid, &u, NULL, NULL);
            printf("{\"op\":\"sample-null\",\"rc1\":%d,\"rc2\":%d}\n", rc1, rc2);
        } else if (strncmp(op, "pid:", 4) == 0) {
            g_pid = atoi(op + 4);
        } else if (strcmp(op, "close") == 0) {
            scalene_gpu_close();
            printf("{\"op\":\"close\",\"child\":%d}\n", g_child);
        } else if (strncmp(op, "sleep:", 6) == 0) {
            usleep((useconds_t)atoi(op + 6) * 1000u);
        } else if (strncmp(op, "threads:", 8) == 0) {
            int nt = atoi(op + 8);
            const char *c = strchr(op + 8, ':');
            do_threads(nt, c ? atoi(c + 1) : 100);
        } else if (strncmp(op, "churn:", 6) == 0) {
            int nt = atoi(op + 6);
            const char *c = strchr(op + 6, ':');
            do_churn(nt, c ? atoi(c + 1) : 100);
        } else if (strncmp(op, "bench:", 6) == 0) {
            int n = atoi(op + 6);
            double u, m;
            int fails = 0;
            double t0 = now_s();
            for (int i = 0; i < n; i++)
                fails += scalene_gpu_sample(g_pid, &u, &m, NULL) != 0;
            double dt = now_s() - t0;
            printf("{\"op\":\"bench\",\"n\":%d,\"fail\":%d,\"ns_per_sample\":%.1f}\n",
                   n, fails, n ? dt * 1e9 / n : 0.0);
        } else if (strcmp(op, "fork") == 0) {
            fflush(stdout);
            pid_t p = fork();
            if (p == 0) {
                g_child = 1;
                scalene_gpu_close();
                scalene_gpu_info_t info;
                int rc = scalene_gpu_open(&info);
                print_info("open", rc, &info);
                printf("}\n");
                do_sample();
                scalene_gpu_close();
                fflush(stdout);
                _exit(0);
            }
            int status = 0;
            waitpid(p, &status, 0);
            printf("{\"op\":\"fork\",\"child_status\":%d}\n", status);
        } else {
            fprintf(stderr, "gpu_driver: unknown op %s\n", op);
            return 2;
        }
    }
    return 0;
}
