/* tools/clockshift.c — an LD_PRELOAD shim that shifts the wall clock of a process (issue #12:
 * a box that boots with a wrong clock, NTP stepping it later). tools/crashtest --clock jump
 * builds it with `cc -shared -fPIC -O2 -o clockshift.so tools/clockshift.c -ldl`.
 *
 * CLOCK_REALTIME (and _COARSE), gettimeofday, time and timespec_get return the real time plus
 * an offset in seconds (a signed integer, optionally fractional) read from the file named by
 * $CLOCKSHIFT_FILE. The file is re-read at most every 10 ms of monotonic time, so a script
 * that replaces it (write + rename) makes the process see its clock jump within ~10 ms.
 * A missing or unreadable file keeps the last offset read (0 at first). The monotonic clocks
 * are left alone: a jump is what a process sees when the wall clock is set.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

typedef int (*clock_gettime_fn)(clockid_t, struct timespec *);

static clock_gettime_fn real_clock_gettime(void) {
    static clock_gettime_fn fn;
    clock_gettime_fn f = __atomic_load_n(&fn, __ATOMIC_ACQUIRE);
    if (!f) {
        f = (clock_gettime_fn)dlsym(RTLD_NEXT, "clock_gettime");
        __atomic_store_n(&fn, f, __ATOMIC_RELEASE);
    }
    return f;
}

static int64_t offset_ns;      /* current offset, ns */
static int64_t last_read_ns;   /* monotonic time of the last read, ns (0: never) */

static int64_t parse_offset_ns(const char *s) {
    /* "[-]SECONDS[.FRACTION]" */
    int neg = 0;
    while (*s == ' ' || *s == '\t') s++;
    if (*s == '-') { neg = 1; s++; } else if (*s == '+') s++;
    int64_t sec = 0, frac = 0, scale = 1000000000;
    while (*s >= '0' && *s <= '9') sec = sec * 10 + (*s++ - '0');
    if (*s == '.') {
        s++;
        while (*s >= '0' && *s <= '9' && scale > 1) { scale /= 10; frac += (*s++ - '0') * scale; }
    }
    int64_t v = sec * 1000000000 + frac;
    return neg ? -v : v;
}

static int64_t current_offset_ns(void) {
    struct timespec mono;
    if (real_clock_gettime()(CLOCK_MONOTONIC, &mono) != 0) return __atomic_load_n(&offset_ns, __ATOMIC_RELAXED);
    int64_t now = (int64_t)mono.tv_sec * 1000000000 + mono.tv_nsec;
    int64_t last = __atomic_load_n(&last_read_ns, __ATOMIC_RELAXED);
    if (last != 0 && now - last < 10000000) return __atomic_load_n(&offset_ns, __ATOMIC_RELAXED);
    __atomic_store_n(&last_read_ns, now, __ATOMIC_RELAXED);
    const char *path = getenv("CLOCKSHIFT_FILE");
    if (path && *path) {
        int fd = open(path, O_RDONLY | O_CLOEXEC);
        if (fd >= 0) {
            char buf[64];
            ssize_t n = read(fd, buf, sizeof buf - 1);
            close(fd);
            if (n > 0) {
                buf[n] = 0;
                __atomic_store_n(&offset_ns, parse_offset_ns(buf), __ATOMIC_RELAXED);
            }
        }
    }
    return __atomic_load_n(&offset_ns, __ATOMIC_RELAXED);
}

static void shift(struct timespec *ts) {
    int64_t t = (int64_t)ts->tv_sec * 1000000000 + ts->tv_nsec + current_offset_ns();
    int64_t s = t / 1000000000, ns = t % 1000000000;
    if (ns < 0) { ns += 1000000000; s -= 1; }
    ts->tv_sec = (time_t)s;
    ts->tv_nsec = (long)ns;
}

int clock_gettime(clockid_t id, struct timespec *ts) {
    int r = real_clock_gettime()(id, ts);
    if (r == 0 && (id == CLOCK_REALTIME || id == CLOCK_REALTIME_COARSE)) shift(ts);
    return r;
}

int gettimeofday(struct timeval *restrict tv, void *restrict tz) {
    (void)tz;
    struct timespec ts;
    int r = clock_gettime(CLOCK_REALTIME, &ts);
    if (r == 0 && tv) {
        tv->tv_sec = ts.tv_sec;
        tv->tv_usec = ts.tv_nsec / 1000;
    }
    return r;
}

time_t time(time_t *out) {
    struct timespec ts;
    if (clock_gettime(CLOCK_REALTIME, &ts) != 0) return (time_t)-1;
    if (out) *out = ts.tv_sec;
    return ts.tv_sec;
}

int timespec_get(struct timespec *ts, int base) {
    if (base != TIME_UTC || clock_gettime(CLOCK_REALTIME, ts) != 0) return 0;
    return base;
}
