/* watch.c: CPU in cores and memory of processes (from /proc/PID/stat) and cgroups, per interval. */
#include "sweep/watch.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

enum { WATCH_PID, WATCH_CGROUP };

typedef struct {
    int kind;
    int pid;
    int tree;
    unsigned long long start_ticks; /* the process's start time, to notice a reused PID */
    char *cpu_dir;
    char *memory_dir;
    int gone;
    uint64_t base_us; /* cumulative CPU when the entry was added */
    uint64_t last_us; /* cumulative CPU at the previous sample */
    uint64_t last_ns; /* monotonic time of the previous sample */
} watch_entry;

struct watch {
    watch_entry entries[WATCH_MAX];
    size_t count;
};

/* What one /proc/PID/stat says. */
typedef struct {
    int pid;
    int ppid;
    char state;
    unsigned long long self_ticks; /* utime + stime, every thread */
    unsigned long long children_ticks; /* cutime + cstime, children waited for */
    unsigned long long start_ticks;
    uint64_t rss_bytes;
} watch_stat;

static uint64_t watch_now_ns(void) {
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

static uint64_t watch_ticks_us(unsigned long long ticks) {
    static long hz;

    if (hz <= 0) {
        hz = sysconf(_SC_CLK_TCK);
        if (hz <= 0) {
            hz = 100;
        }
    }
    return (uint64_t)(ticks * 1000000ULL / (unsigned long long)hz);
}

/* Reads a small file into buf (NUL-terminated). Bytes read, or a negative errno. */
static ssize_t watch_read_file(const char *path, char *buf, size_t len) {
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    ssize_t n;

    if (fd < 0) {
        return -errno;
    }
    n = read(fd, buf, len - 1);
    if (n < 0) {
        n = -errno;
    } else {
        buf[n] = '\0';
    }
    close(fd);
    return n;
}

/* Parses /proc/PID/stat; the command name may hold spaces and parentheses, so fields are
 * counted from the last ')'. 0 or a negative errno (-ESRCH when the process is gone). */
static int watch_read_stat(int pid, watch_stat *st) {
    char path[64], buf[1024];
    unsigned long long ut, stm, cut, cst, start;
    long rss_pages;
    char *p;
    ssize_t n;

    snprintf(path, sizeof(path), "/proc/%d/stat", pid);
    n = watch_read_file(path, buf, sizeof(buf));
    if (n < 0) {
        return n == -ENOENT ? -ESRCH : (int)n;
    }
    p = strrchr(buf, ')');
    if (!p) {
        return -EINVAL;
    }
    /* Fields 3..24: state ppid pgrp session tty tpgid flags minflt cminflt majflt cmajflt utime
     * stime cutime cstime priority nice threads itrealvalue starttime vsize rss. */
    if (sscanf(p + 1,
               " %c %d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu %llu %llu %*d %*d %*d %*d "
               "%llu %*u %ld",
               &st->state, &st->ppid, &ut, &stm, &cut, &cst, &start, &rss_pages) != 8) {
        return -EINVAL;
    }
    st->pid = pid;
    st->self_ticks = ut + stm;
    st->children_ticks = cut + cst;
    st->start_ticks = start;
    st->rss_bytes = rss_pages > 0 ? (uint64_t)rss_pages * (uint64_t)sysconf(_SC_PAGESIZE) : 0;
    return 0;
}

static int watch_cmp_pid(const void *a, const void *b) {
    const watch_stat *x = a, *y = b;

    return (x->pid > y->pid) - (x->pid < y->pid);
}

/* Reads every process of /proc into *out (sorted by PID; the caller frees it). Count or -errno. */
static int watch_scan_proc(watch_stat **out) {
    DIR *d = opendir("/proc");
    watch_stat *all = NULL, *grown;
    size_t n = 0, cap = 0;
    struct dirent *de;

    if (!d) {
        return -errno;
    }
    while ((de = readdir(d)) != NULL && n < WATCH_PROCS_MAX) {
        int pid = atoi(de->d_name);

        if (pid <= 0) {
            continue;
        }
        if (n == cap) {
            cap = cap ? cap * 2 : 256;
            grown = realloc(all, cap * sizeof(*all));
            if (!grown) {
                free(all);
                closedir(d);
                return -ENOMEM;
            }
            all = grown;
        }
        if (watch_read_stat(pid, &all[n]) == 0) {
            n++;
        }
    }
    closedir(d);
    if (n > 0) {
        qsort(all, n, sizeof(*all), watch_cmp_pid);
    }
    *out = all;
    return (int)n;
}

static const watch_stat *watch_find_stat(const watch_stat *all, size_t n, int pid) {
    watch_stat key = {.pid = pid};

    return bsearch(&key, all, n, sizeof(*all), watch_cmp_pid);
}

/* Sums the tree rooted at root over a /proc scan: CPU (own and waited-for children) and RSS.
 * in_tree is scratch of n bytes. Returns the number of processes in the tree. */
static int watch_sum_tree(const watch_stat *all, size_t n, int root, unsigned char *in_tree,
                          unsigned long long *ticks, uint64_t *rss) {
    int members = 0, grew = 1;
    size_t i;

    memset(in_tree, 0, n);
    /* Each pass adds the children of what is already in; a tree of depth k needs k passes. */
    while (grew) {
        grew = 0;
        for (i = 0; i < n; i++) {
            const watch_stat *parent;

            if (in_tree[i]) {
                continue;
            }
            parent = all[i].pid == root ? NULL : watch_find_stat(all, n, all[i].ppid);
            if (all[i].pid == root || (parent && in_tree[parent - all])) {
                in_tree[i] = 1;
                grew = 1;
            }
        }
    }
    *ticks = 0;
    *rss = 0;
    for (i = 0; i < n; i++) {
        if (in_tree[i]) {
            *ticks += all[i].self_ticks + all[i].children_ticks;
            *rss += all[i].rss_bytes;
            members++;
        }
    }
    return members;
}

int watch_read_counter(const char *dir, const char *file, const char *key, uint64_t *out) {
    char path[4096], buf[8192];
    const char *p = buf;
    size_t klen = key ? strlen(key) : 0;
    ssize_t n;

    snprintf(path, sizeof(path), "%s/%s", dir, file);
    n = watch_read_file(path, buf, sizeof(buf));
    if (n < 0) {
        return (int)n;
    }
    while (key) {
        if (strncmp(p, key, klen) == 0 && p[klen] == ' ') {
            p += klen + 1;
            break;
        }
        p = strchr(p, '\n');
        if (!p) {
            return -ENOENT;
        }
        p++;
    }
    *out = strtoull(p, NULL, 10);
    return 0;
}

/* Counts the PIDs listed in dir/cgroup.procs; a negative errno when the file cannot be read. */
static int watch_count_procs(const char *dir) {
    char path[4096], buf[4096];
    int fd, count = 0;
    ssize_t n, i;

    snprintf(path, sizeof(path), "%s/cgroup.procs", dir);
    fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        return -errno;
    }
    while ((n = read(fd, buf, sizeof(buf))) > 0) {
        for (i = 0; i < n; i++) {
            count += buf[i] == '\n';
        }
    }
    close(fd);
    return count;
}

/* The cumulative CPU of a cgroup in microseconds: v1 cpuacct.usage is in nanoseconds. */
static int watch_cgroup_cpu_us(const char *dir, uint64_t *us) {
    uint64_t v;

    if (watch_read_counter(dir, "cpuacct.usage", NULL, &v) == 0) {
        *us = v / 1000;
        return 0;
    }
    return watch_read_counter(dir, "cpu.stat", "usage_usec", us);
}

/* Cumulative CPU in microseconds of an entry now, with its RSS and process count. */
static int watch_measure(watch_entry *e, const watch_stat *all, size_t n, unsigned char *scratch,
                         uint64_t *cpu_us, watch_sample *s) {
    if (e->kind == WATCH_CGROUP) {
        const char *dir = e->memory_dir ? e->memory_dir : e->cpu_dir;
        int procs = watch_count_procs(dir);
        uint64_t v;

        s->processes = procs > 0 ? procs : 0;
        s->alive = procs > 0;
        if (e->cpu_dir && watch_cgroup_cpu_us(e->cpu_dir, cpu_us) < 0) {
            return -ENOENT;
        }
        if (e->memory_dir) {
            if (watch_read_counter(e->memory_dir, "memory.usage_in_bytes", NULL, &v) == 0 ||
                watch_read_counter(e->memory_dir, "memory.current", NULL, &v) == 0) {
                s->charged_bytes = v;
            }
            if (watch_read_counter(e->memory_dir, "memory.stat", "total_rss", &v) == 0 ||
                watch_read_counter(e->memory_dir, "memory.stat", "anon", &v) == 0) {
                s->rss_bytes = v;
            }
        }
        return 0;
    }
    if (e->tree) {
        const watch_stat *root;
        unsigned long long ticks;

        if (!all) {
            return -ENOMEM; /* the /proc scan failed: no answer this time, not an ending */
        }
        root = watch_find_stat(all, n, e->pid);
        if (!root || root->start_ticks != e->start_ticks || root->state == 'Z') {
            return -ESRCH;
        }
        s->processes = watch_sum_tree(all, n, e->pid, scratch, &ticks, &s->rss_bytes);
        *cpu_us = watch_ticks_us(ticks);
    } else {
        watch_stat st;

        if (watch_read_stat(e->pid, &st) < 0 || st.start_ticks != e->start_ticks ||
            st.state == 'Z') {
            return -ESRCH;
        }
        s->processes = 1;
        s->rss_bytes = st.rss_bytes;
        *cpu_us = watch_ticks_us(st.self_ticks);
    }
    s->alive = 1;
    return 0;
}

int watch_create(watch **out) {
    *out = calloc(1, sizeof(**out));
    return *out ? 0 : -ENOMEM;
}

int watch_add_pid(watch *w, int pid, int tree) {
    watch_entry *e;
    watch_stat st;

    if (w->count >= WATCH_MAX) {
        return -ENOSPC;
    }
    if (pid <= 0 || watch_read_stat(pid, &st) < 0 || st.state == 'Z') {
        return -ESRCH;
    }
    e = &w->entries[w->count++];
    memset(e, 0, sizeof(*e));
    e->kind = WATCH_PID;
    e->pid = pid;
    e->tree = tree;
    e->start_ticks = st.start_ticks;
    /* A tree starts from its own total, so children already waited for are not counted. */
    e->base_us = watch_ticks_us(tree ? st.self_ticks + st.children_ticks : st.self_ticks);
    e->last_us = e->base_us;
    e->last_ns = watch_now_ns();
    return 0;
}

int watch_add_cgroup(watch *w, const char *cpu_dir, const char *memory_dir) {
    watch_entry *e;
    uint64_t us = 0;

    if (w->count >= WATCH_MAX) {
        return -ENOSPC;
    }
    if ((!cpu_dir && !memory_dir) || (cpu_dir && access(cpu_dir, R_OK) != 0) ||
        (memory_dir && access(memory_dir, R_OK) != 0)) {
        return -ENOENT;
    }
    if (cpu_dir && watch_cgroup_cpu_us(cpu_dir, &us) < 0) {
        return -ENOENT;
    }
    e = &w->entries[w->count];
    memset(e, 0, sizeof(*e));
    e->kind = WATCH_CGROUP;
    e->cpu_dir = cpu_dir ? strdup(cpu_dir) : NULL;
    e->memory_dir = memory_dir ? strdup(memory_dir) : NULL;
    if ((cpu_dir && !e->cpu_dir) || (memory_dir && !e->memory_dir)) {
        free(e->cpu_dir);
        free(e->memory_dir);
        return -ENOMEM;
    }
    e->base_us = us;
    e->last_us = us;
    e->last_ns = watch_now_ns();
    w->count++;
    return 0;
}

size_t watch_count(const watch *w) {
    return w->count;
}

/* Fills one sample from the entry's totals now and moves its interval on. */
static void watch_sample_one(watch_entry *e, const watch_stat *all, size_t n,
                             unsigned char *scratch, uint64_t now_ns, watch_sample *s) {
    uint64_t cpu_us = e->last_us;
    int rc = -ESRCH;

    memset(s, 0, sizeof(*s));
    s->pid = e->kind == WATCH_PID ? e->pid : 0;
    s->interval_s = (double)(now_ns - e->last_ns) / 1e9;
    if (!e->gone) {
        rc = watch_measure(e, all, n, scratch, &cpu_us, s);
    }
    if (rc < 0) {
        e->gone = rc == -ESRCH; /* a cgroup may fill again; an ended process never returns */
        memset(s, 0, sizeof(*s));
        s->pid = e->kind == WATCH_PID ? e->pid : 0;
        s->interval_s = (double)(now_ns - e->last_ns) / 1e9;
        cpu_us = e->last_us;
    }
    /* A tree loses CPU when a child is orphaned out of it; never report negative use. */
    if (cpu_us < e->last_us) {
        cpu_us = e->last_us;
    }
    if (s->interval_s > 0) {
        s->cpu_cores = (double)(cpu_us - e->last_us) / 1e6 / s->interval_s;
    }
    s->cpu_total_us = cpu_us - e->base_us;
    e->last_us = cpu_us;
    e->last_ns = now_ns;
}

int watch_sample_all(watch *w, watch_sample *out, size_t cap) {
    watch_stat *all = NULL;
    unsigned char *scratch = NULL;
    uint64_t now_ns;
    size_t i, n = 0;
    int any_tree = 0, got;

    if (cap < w->count) {
        return -ENOSPC;
    }
    for (i = 0; i < w->count; i++) {
        any_tree |= w->entries[i].kind == WATCH_PID && w->entries[i].tree && !w->entries[i].gone;
    }
    if (any_tree) {
        got = watch_scan_proc(&all);
        n = got > 0 ? (size_t)got : 0;
        scratch = n > 0 ? malloc(n) : NULL;
        if (!scratch) {
            free(all);
            all = NULL;
            n = 0;
        }
    }
    now_ns = watch_now_ns();
    for (i = 0; i < w->count; i++) {
        watch_sample_one(&w->entries[i], all, n, scratch, now_ns, &out[i]);
    }
    free(scratch);
    free(all);
    return (int)w->count;
}

void watch_destroy(watch *w) {
    size_t i;

    if (!w) {
        return;
    }
    for (i = 0; i < w->count; i++) {
        free(w->entries[i].cpu_dir);
        free(w->entries[i].memory_dir);
    }
    free(w);
}
