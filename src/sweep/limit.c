/* limit.c: runs a command in new cgroups (v2, or v1 hierarchies) with CPU and memory limits. */
#include "sweep/limit.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "sweep/tiers.h"
#include "sweep/watch.h"

#define LIMIT_PATH_MAX 4096

/* Where cgroup v1 hierarchies are mounted when the machine has not mounted them (root only). */
#define LIMIT_MOUNT_BASE "/run/volley-cgroup"

/* How long a cgroup may stay busy after its last process was killed before rmdir gives up. */
#define LIMIT_RMDIR_WAIT_MS 2000

/* How long a process may take to end after SIGKILL before limit_stop gives up on it. */
#define LIMIT_KILL_WAIT_MS 5000

enum { LIMIT_CPU, LIMIT_CPUACCT, LIMIT_MEMORY, LIMIT_CPUSET, LIMIT_NCTRL };

static const char *const limit_ctrl_names[LIMIT_NCTRL] = {"cpu", "cpuacct", "memory", "cpuset"};

struct limit_proc {
    pid_t pid;
    int version; /* 1 or 2 */
    int ended; /* the command has been waited for */
    int wstatus; /* its wait status, once ended */
    uint64_t memory_bytes; /* the limit, for messages */
    uint64_t oom_base; /* oom_kill count when the group was made */
    char *dir[LIMIT_NCTRL]; /* the group's directory per controller; NULL when unused */
    int made[LIMIT_NCTRL]; /* 1 for the entry that created (and will remove) the dir */
    char *mounted[LIMIT_NCTRL]; /* mount points limit_start made, to unmount at the end */
};

/* ---- small file helpers ---------------------------------------------------------------------*/

/* Writes value to dir/file in one write. 0 or a negative errno. */
static int limit_write(const char *dir, const char *file, const char *value) {
    char path[LIMIT_PATH_MAX];
    ssize_t n;
    int fd, rc = 0;

    snprintf(path, sizeof(path), "%s/%s", dir, file);
    fd = open(path, O_WRONLY | O_CLOEXEC);
    if (fd < 0) {
        return -errno;
    }
    n = write(fd, value, strlen(value));
    if (n < 0) {
        rc = -errno;
    } else if ((size_t)n != strlen(value)) {
        rc = -EIO;
    }
    close(fd);
    return rc;
}

/* Reads dir/file (the first len-1 bytes, NUL-terminated, trailing newline removed). */
static int limit_read(const char *dir, const char *file, char *buf, size_t len) {
    char path[LIMIT_PATH_MAX];
    ssize_t n;
    int fd;

    snprintf(path, sizeof(path), "%s/%s", dir, file);
    fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        return -errno;
    }
    n = read(fd, buf, len - 1);
    close(fd);
    if (n < 0) {
        return -errno;
    }
    buf[n] = '\0';
    while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == ' ')) {
        buf[--n] = '\0';
    }
    return 0;
}

/* True when the space- or comma-separated list holds word. */
static int limit_has_word(const char *list, const char *word) {
    size_t wl = strlen(word);
    const char *p = list;

    while ((p = strstr(p, word)) != NULL) {
        int starts = p == list || p[-1] == ' ' || p[-1] == ',';
        int ends = p[wl] == '\0' || p[wl] == ' ' || p[wl] == ',' || p[wl] == '\n';

        if (starts && ends) {
            return 1;
        }
        p += wl;
    }
    return 0;
}

static void limit_sleep_ms(int ms) {
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};

    nanosleep(&ts, NULL);
}

static uint64_t limit_now_ms(void) {
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* ---- finding the cgroup this process is in ------------------------------------------------- */

/* Undoes the octal escapes (\040 for a space) of /proc/self/mountinfo, in place. */
static void limit_unescape(char *s) {
    char *out = s;

    while (*s) {
        if (s[0] == '\\' && s[1] >= '0' && s[1] <= '3' && s[2] >= '0' && s[2] <= '7' &&
            s[3] >= '0' && s[3] <= '7') {
            *out++ = (char)((s[1] - '0') * 64 + (s[2] - '0') * 8 + (s[3] - '0'));
            s += 4;
        } else {
            *out++ = *s++;
        }
    }
    *out = '\0';
}

/* Finds a mount of fstype ("cgroup" or "cgroup2") whose super options name ctrl (any for
 * cgroup2): its mount point and the path inside the hierarchy it shows. 0 or -ENOENT. */
static int limit_find_mount(const char *fstype, const char *ctrl, char *point, char *root) {
    FILE *f = fopen("/proc/self/mountinfo", "re");
    char *line = NULL;
    size_t cap = 0;
    int rc = -ENOENT;

    if (!f) {
        return -errno;
    }
    while (rc < 0 && getline(&line, &cap, f) > 0) {
        char r[LIMIT_PATH_MAX], mp[LIMIT_PATH_MAX], fs[64], opts[1024];
        char *dash = strstr(line, " - ");

        if (!dash || sscanf(line, "%*s %*s %*s %4095s %4095s", r, mp) != 2 ||
            sscanf(dash + 3, "%63s %*s %1023s", fs, opts) != 2 || strcmp(fs, fstype) != 0) {
            continue;
        }
        if (ctrl && !limit_has_word(opts, ctrl)) {
            continue;
        }
        limit_unescape(r);
        limit_unescape(mp);
        snprintf(point, LIMIT_PATH_MAX, "%s", mp);
        snprintf(root, LIMIT_PATH_MAX, "%s", r);
        rc = 0;
    }
    free(line);
    fclose(f);
    return rc;
}

/* This process's path in the hierarchy holding ctrl (NULL for the v2 hierarchy), from
 * /proc/self/cgroup. 0 or -ENOENT. */
static int limit_own_path(const char *ctrl, char *path) {
    FILE *f = fopen("/proc/self/cgroup", "re");
    char *line = NULL;
    size_t cap = 0;
    int rc = -ENOENT;

    if (!f) {
        return -errno;
    }
    while (rc < 0 && getline(&line, &cap, f) > 0) {
        /* "ID:CONTROLLERS:PATH"; the v2 line is "0::PATH". */
        char *ctrls = strchr(line, ':'), *own = ctrls ? strchr(ctrls + 1, ':') : NULL;

        if (!own) {
            continue;
        }
        *ctrls++ = '\0';
        *own++ = '\0';
        own[strcspn(own, "\n")] = '\0';
        if ((ctrl == NULL && strcmp(line, "0") == 0 && ctrls[0] == '\0') ||
            (ctrl != NULL && limit_has_word(ctrls, ctrl))) {
            snprintf(path, LIMIT_PATH_MAX, "%s", own);
            rc = 0;
        }
    }
    free(line);
    fclose(f);
    return rc;
}

/* The directory of this process's own cgroup in the hierarchy mounted at point with root. */
static int limit_join(const char *point, const char *root, const char *own, char *out) {
    size_t rl = strlen(root);
    const char *rel = own;

    if (strcmp(root, "/") != 0) {
        if (strncmp(own, root, rl) != 0 || (own[rl] != '\0' && own[rl] != '/')) {
            return -ENOENT; /* this mount shows a part of the tree we are not in */
        }
        rel = own + rl;
    }
    if (strcmp(rel, "/") == 0) {
        rel = "";
    }
    if ((size_t)snprintf(out, LIMIT_PATH_MAX, "%s%s", point, rel) >= LIMIT_PATH_MAX) {
        return -ENAMETOOLONG;
    }
    return 0;
}

/* Finds the v2 hierarchy when its root offers cpu and memory (a controller bound to a v1
 * hierarchy is missing there): its mount point and this process's directory in it. */
static int limit_v2_find(char *point, char *own_dir) {
    char root[LIMIT_PATH_MAX], own[LIMIT_PATH_MAX], ctrls[512];

    if (limit_find_mount("cgroup2", NULL, point, root) < 0 || limit_own_path(NULL, own) < 0 ||
        limit_join(point, root, own, own_dir) < 0 ||
        limit_read(point, "cgroup.controllers", ctrls, sizeof(ctrls)) < 0) {
        return -ENOENT;
    }
    if (!limit_has_word(ctrls, "cpu") || !limit_has_word(ctrls, "memory")) {
        return -ENOTSUP;
    }
    return 0;
}

/* Mounts a v1 hierarchy of ctrl under LIMIT_MOUNT_BASE, for a machine that has none mounted.
 * Root only. Sets *mounted to the mount point (the caller frees it). */
static int limit_v1_mount(const char *ctrl, char **mounted, char *point) {
    snprintf(point, LIMIT_PATH_MAX, "%s/%d-%s", LIMIT_MOUNT_BASE, (int)getpid(), ctrl);
    if (mkdir(LIMIT_MOUNT_BASE, 0755) < 0 && errno != EEXIST) {
        return -errno;
    }
    if (mkdir(point, 0755) < 0 && errno != EEXIST) {
        return -errno;
    }
    if (mount("cgroup", point, "cgroup", MS_NOSUID | MS_NODEV | MS_NOEXEC, ctrl) < 0) {
        int rc = -errno;

        rmdir(point);
        return rc;
    }
    *mounted = strdup(point);
    if (!*mounted) {
        umount2(point, MNT_DETACH);
        rmdir(point);
        return -ENOMEM;
    }
    return 0;
}

/* The v1 directory this process is in for ctrl; mounts the hierarchy when allowed and may_mount.
 * -ENOENT when there is none. */
static int limit_v1_parent(const char *ctrl, int may_mount, char **mounted, char *out) {
    char point[LIMIT_PATH_MAX], root[LIMIT_PATH_MAX], own[LIMIT_PATH_MAX];
    int rc;

    if (limit_find_mount("cgroup", ctrl, point, root) < 0) {
        if (!may_mount || geteuid() != 0) {
            return -ENOENT;
        }
        rc = limit_v1_mount(ctrl, mounted, point);
        if (rc < 0) {
            return rc;
        }
        snprintf(root, sizeof(root), "/");
    }
    if (limit_own_path(ctrl, own) < 0) {
        snprintf(own, sizeof(own), "/");
    }
    return limit_join(point, root, own, out);
}

/* ---- making and removing the groups ----------------------------------------------------------*/

/* Removes groups named volley-PID-N under parent whose PID no longer runs (a volley killed
 * before it could clean up). A group that still holds processes stays. */
static void limit_sweep_stale(const char *parent) {
    DIR *d = opendir(parent);
    struct dirent *de;

    if (!d) {
        return;
    }
    while ((de = readdir(d)) != NULL) {
        char path[LIMIT_PATH_MAX];
        unsigned seq;
        int pid;

        if (sscanf(de->d_name, "volley-%d-%u", &pid, &seq) != 2 || pid <= 0 ||
            pid == (int)getpid() || kill(pid, 0) == 0 || errno != ESRCH) {
            continue;
        }
        snprintf(path, sizeof(path), "%s/%s", parent, de->d_name);
        rmdir(path);
    }
    closedir(d);
}

/* Makes the group directory parent/name for ctrl in p (shared with an earlier controller of the
 * same hierarchy). 0 or a negative errno with a sentence in err. */
static int limit_make_dir(limit_proc *p, int ctrl, const char *parent, const char *name, char *err,
                          size_t err_len) {
    char path[LIMIT_PATH_MAX];
    int i;

    if ((size_t)snprintf(path, sizeof(path), "%s/%s", parent, name) >= sizeof(path)) {
        snprintf(err, err_len, "cgroup path under %s is too long", parent);
        return -ENAMETOOLONG;
    }
    for (i = 0; i < LIMIT_NCTRL; i++) {
        if (p->dir[i] && strcmp(p->dir[i], path) == 0) {
            p->dir[ctrl] = strdup(path);
            return p->dir[ctrl] ? 0 : -ENOMEM;
        }
    }
    limit_sweep_stale(parent);
    if (mkdir(path, 0755) < 0) {
        int rc = -errno;

        snprintf(err, err_len, "cannot create the cgroup %s: %s%s", path, strerror(-rc),
                 rc == -EACCES || rc == -EPERM || rc == -EROFS
                     ? " (limits need root, or a cgroup delegated to this user)"
                     : "");
        return rc == -EROFS ? -EPERM : rc;
    }
    p->dir[ctrl] = strdup(path);
    p->made[ctrl] = 1;
    if (!p->dir[ctrl]) {
        rmdir(path);
        p->made[ctrl] = 0;
        return -ENOMEM;
    }
    return 0;
}

/* Lists the processes of a group directory into pids (at most cap). Count or a negative errno. */
static int limit_group_pids(const char *dir, int *pids, int cap) {
    char path[LIMIT_PATH_MAX], line[32];
    FILE *f;
    int n = 0;

    snprintf(path, sizeof(path), "%s/cgroup.procs", dir);
    f = fopen(path, "re");
    if (!f) {
        return -errno;
    }
    while (n < cap && fgets(line, sizeof(line), f)) {
        int pid = atoi(line);

        if (pid > 0) {
            pids[n++] = pid;
        }
    }
    fclose(f);
    return n;
}

/* Appends pid to the list unless it is there already. */
static void limit_add_pid(int *pids, int *n, int cap, int pid) {
    int i;

    for (i = 0; i < *n; i++) {
        if (pids[i] == pid) {
            return;
        }
    }
    if (*n < cap) {
        pids[(*n)++] = pid;
    }
}

/* Sends sig (0 only counts) once to every process of p's groups and to the command while it has
 * not been waited for; returns how many processes there were. */
static int limit_signal_group(limit_proc *p, int sig) {
    enum { LIMIT_PIDS_MAX = 1024 };
    int pids[LIMIT_PIDS_MAX], found[LIMIT_PIDS_MAX];
    int i, j, n, count = 0;

    for (i = 0; i < LIMIT_NCTRL; i++) {
        if (!p->made[i]) {
            continue;
        }
        n = limit_group_pids(p->dir[i], found, LIMIT_PIDS_MAX);
        for (j = 0; j < n; j++) {
            limit_add_pid(pids, &count, LIMIT_PIDS_MAX, found[j]);
        }
    }
    if (!p->ended) {
        limit_add_pid(pids, &count, LIMIT_PIDS_MAX, (int)p->pid);
    }
    for (i = 0; sig != 0 && i < count; i++) {
        kill(pids[i], sig);
    }
    return count;
}

/* Reaps the command if it has ended; 1 when it has (now or before). */
static int limit_reap(limit_proc *p) {
    int ws;
    pid_t r;

    if (p->ended) {
        return 1;
    }
    r = waitpid(p->pid, &ws, WNOHANG);
    if (r == p->pid || (r < 0 && errno == ECHILD)) {
        p->ended = 1;
        p->wstatus = r == p->pid ? ws : 0;
    }
    return p->ended;
}

/* Waits until the command has ended and every process of the group is gone, up to wait_ms. */
static int limit_wait_empty(limit_proc *p, int wait_ms) {
    uint64_t deadline = limit_now_ms() + (uint64_t)wait_ms;

    for (;;) {
        int reaped = limit_reap(p);

        if (reaped && limit_signal_group(p, 0) == 0) {
            return 0;
        }
        if (limit_now_ms() >= deadline) {
            return -ETIMEDOUT;
        }
        limit_sleep_ms(5);
    }
}

/* Removes p's groups and mounts; the first error is returned, the rest still attempted. */
static int limit_remove_groups(limit_proc *p) {
    int i, rc = 0;

    for (i = LIMIT_NCTRL - 1; i >= 0; i--) {
        uint64_t deadline = limit_now_ms() + LIMIT_RMDIR_WAIT_MS;

        /* The kernel may need a moment after the last process of a group has gone. */
        while (p->made[i] && rmdir(p->dir[i]) < 0 && errno == EBUSY && limit_now_ms() < deadline) {
            limit_sleep_ms(5);
        }
        if (p->made[i] && access(p->dir[i], F_OK) == 0 && rc == 0) {
            rc = -EBUSY;
        }
    }
    for (i = 0; i < LIMIT_NCTRL; i++) {
        if (p->mounted[i]) {
            umount2(p->mounted[i], MNT_DETACH);
            rmdir(p->mounted[i]);
            rmdir(LIMIT_MOUNT_BASE); /* fails, as it should, while another volley uses it */
        }
    }
    return rc;
}

static void limit_free(limit_proc *p) {
    int i;

    for (i = 0; i < LIMIT_NCTRL; i++) {
        free(p->dir[i]);
        free(p->mounted[i]);
    }
    free(p);
}

/* ---- setting the limits ---------------------------------------------------------------------*/

/* Writes the CPU quota: v1 cfs_period_us and cfs_quota_us, v2 cpu.max "QUOTA PERIOD". */
static int limit_set_cpu(limit_proc *p, double cpus, char *err, size_t err_len) {
    long quota_us = lround(cpus * LIMIT_PERIOD_US);
    char v[64];
    int rc;

    if (quota_us < 1000) {
        quota_us = 1000; /* the kernel's smallest quota: 1 ms per period */
    }
    if (p->version == 2) {
        snprintf(v, sizeof(v), "%ld %d", quota_us, LIMIT_PERIOD_US);
        rc = limit_write(p->dir[LIMIT_CPU], "cpu.max", v);
    } else {
        snprintf(v, sizeof(v), "%d", LIMIT_PERIOD_US);
        rc = limit_write(p->dir[LIMIT_CPU], "cpu.cfs_period_us", v);
        if (rc == 0) {
            snprintf(v, sizeof(v), "%ld", quota_us);
            rc = limit_write(p->dir[LIMIT_CPU], "cpu.cfs_quota_us", v);
        }
    }
    if (rc < 0) {
        snprintf(err, err_len, "cannot set a CPU quota of %g in %s: %s", cpus, p->dir[LIMIT_CPU],
                 strerror(-rc));
    }
    return rc;
}

/* Writes the memory limit, and the same limit on memory plus swap so none is swapped out. */
static int limit_set_memory(limit_proc *p, uint64_t bytes, char *err, size_t err_len) {
    const char *dir = p->dir[LIMIT_MEMORY];
    char v[32];
    int rc;

    snprintf(v, sizeof(v), "%llu", (unsigned long long)bytes);
    if (p->version == 2) {
        rc = limit_write(dir, "memory.max", v);
        if (rc == 0) {
            limit_write(dir, "memory.swap.max", "0"); /* absent without swap accounting */
        }
    } else {
        rc = limit_write(dir, "memory.limit_in_bytes", v);
        if (rc == 0) {
            limit_write(dir, "memory.memsw.limit_in_bytes", v); /* absent without swapaccount */
        }
    }
    if (rc < 0) {
        snprintf(err, err_len, "cannot set a memory limit of %s bytes in %s: %s", v, dir,
                 strerror(-rc));
    }
    return rc;
}

/* Pins the group to spec's CPUs; a v1 cpuset also needs its memory nodes, taken from the parent. */
static int limit_set_cpuset(limit_proc *p, const char *cpus, char *err, size_t err_len) {
    const char *dir = p->dir[LIMIT_CPUSET];
    char parent[LIMIT_PATH_MAX], mems[256];
    int rc = 0;

    if (p->version == 1) {
        snprintf(parent, sizeof(parent), "%s", dir);
        *strrchr(parent, '/') = '\0';
        rc = limit_read(parent, "cpuset.mems", mems, sizeof(mems));
        if (rc == 0) {
            rc = limit_write(dir, "cpuset.mems", mems);
        }
    }
    if (rc == 0) {
        rc = limit_write(dir, "cpuset.cpus", cpus);
    }
    if (rc == -EINVAL || rc == -ERANGE) {
        char have[256] = "?";

        limit_read(dir, p->version == 2 ? "cpuset.cpus.effective" : "../cpuset.effective_cpus",
                   have, sizeof(have));
        snprintf(err, err_len, "--cpuset %s is not a list of this machine's CPUs (%s)", cpus, have);
    } else if (rc < 0) {
        snprintf(err, err_len, "cannot pin to CPUs %s in %s: %s", cpus, dir, strerror(-rc));
    }
    return rc;
}

/* True when the v2 cgroup dir lets its children use cpu and memory (and cpuset when asked). */
static int limit_v2_delegates(const char *dir, int need_cpuset) {
    char have[512] = "";

    limit_read(dir, "cgroup.subtree_control", have, sizeof(have));
    return limit_has_word(have, "cpu") && limit_has_word(have, "memory") &&
        (!need_cpuset || limit_has_word(have, "cpuset"));
}

/* Picks the v2 cgroup to make the group in: this process's own, when its children may use the
 * controllers or it can let them (only a cgroup without processes, or the root, can: the "no
 * internal processes" rule), else the nearest ancestor that already lets its children use them,
 * as systemd's slices do. 0 or a negative errno with a sentence in err. */
static int limit_v2_parent(const char *point, const char *own_dir, int need_cpuset, char *out,
                           char *err, size_t err_len) {
    const char *enable = need_cpuset ? "+cpu +memory +cpuset" : "+cpu +memory";
    int rc;

    snprintf(out, LIMIT_PATH_MAX, "%s", own_dir);
    if (limit_v2_delegates(out, need_cpuset)) {
        return 0;
    }
    rc = limit_write(out, "cgroup.subtree_control", enable);
    if (rc == 0) {
        return 0;
    }
    while (strlen(out) > strlen(point) && strrchr(out, '/')) {
        *strrchr(out, '/') = '\0';
        if (limit_v2_delegates(out, need_cpuset)) {
            return 0;
        }
    }
    snprintf(err, err_len, "cannot enable the %s controllers below %s: %s%s",
             need_cpuset ? "cpu, memory and cpuset" : "cpu and memory", own_dir, strerror(-rc),
             rc == -EBUSY ? " (it holds processes, and no cgroup above it offers them)"
                          : " (limits need root, or a cgroup delegated to this user)");
    return rc == -EBUSY ? -ENOTSUP : rc;
}

/* Makes the v2 group: one directory for every controller. */
static int limit_make_v2(limit_proc *p, const limit_spec *spec, const char *point,
                         const char *own_dir, const char *name, char *err, size_t err_len) {
    char parent[LIMIT_PATH_MAX];
    int rc, i;

    rc = limit_v2_parent(point, own_dir, spec->cpuset[0] != 0, parent, err, err_len);
    for (i = 0; rc == 0 && i < LIMIT_NCTRL; i++) {
        if (i != LIMIT_CPUSET || spec->cpuset[0]) {
            rc = limit_make_dir(p, i, parent, name, err, err_len);
        }
    }
    return rc;
}

/* Makes the v1 groups, one per hierarchy. cpu, memory and cpuset are made when spec asks for
 * them; cpuacct (and memory) also when available, for the usage counters. */
static int limit_make_v1(limit_proc *p, const limit_spec *spec, const char *name, char *err,
                         size_t err_len) {
    int need[LIMIT_NCTRL] = {spec->cpus > 0, 0, spec->memory_bytes > 0, spec->cpuset[0] != 0};
    char parent[LIMIT_PATH_MAX];
    int i, rc;

    for (i = 0; i < LIMIT_NCTRL; i++) {
        int wanted = need[i] || i == LIMIT_CPUACCT || i == LIMIT_MEMORY;

        if (!wanted || p->dir[i]) {
            continue;
        }
        rc = limit_v1_parent(limit_ctrl_names[i], need[i], &p->mounted[i], parent);
        if (rc < 0 && need[i]) {
            snprintf(err, err_len,
                     rc == -ENOENT ? "no cgroup controller %s: cgroup v2 does not offer it and no "
                                     "v1 hierarchy of it is mounted%s"
                                   : "cannot mount a cgroup v1 hierarchy of %s%s",
                     limit_ctrl_names[i], geteuid() == 0 ? "" : " (mounting one needs root)");
            return rc == -ENOENT ? -ENOTSUP : rc;
        }
        if (rc < 0) {
            continue;
        }
        rc = limit_make_dir(p, i, parent, name, err, err_len);
        if (rc < 0 && need[i]) {
            return rc;
        }
    }
    return 0;
}

/* Makes the groups of p and writes spec's limits into them. */
static int limit_make_groups(limit_proc *p, const limit_spec *spec, char *err, size_t err_len) {
    static unsigned seq;
    char point[LIMIT_PATH_MAX], own_dir[LIMIT_PATH_MAX], name[64];
    uint64_t v;
    int rc;

    snprintf(name, sizeof(name), "volley-%d-%u", (int)getpid(),
             __atomic_add_fetch(&seq, 1, __ATOMIC_SEQ_CST));
    if (limit_v2_find(point, own_dir) == 0) {
        p->version = 2;
        rc = limit_make_v2(p, spec, point, own_dir, name, err, err_len);
    } else {
        p->version = 1;
        rc = limit_make_v1(p, spec, name, err, err_len);
    }
    if (rc == 0 && spec->cpuset[0]) {
        rc = limit_set_cpuset(p, spec->cpuset, err, err_len);
    }
    if (rc == 0 && spec->cpus > 0) {
        rc = limit_set_cpu(p, spec->cpus, err, err_len);
    }
    if (rc == 0 && spec->memory_bytes > 0) {
        rc = limit_set_memory(p, spec->memory_bytes, err, err_len);
    }
    if (p->dir[LIMIT_MEMORY] &&
        (watch_read_counter(p->dir[LIMIT_MEMORY], "memory.oom_control", "oom_kill", &v) == 0 ||
         watch_read_counter(p->dir[LIMIT_MEMORY], "memory.events", "oom_kill", &v) == 0)) {
        p->oom_base = v;
    }
    return rc;
}

/* ---- running the command --------------------------------------------------------------------*/

/* The child between fork and exec: only async-signal-safe calls. Waits for the parent to place
 * it in the groups, then runs argv; an exec failure goes back to the parent as an errno. */
static void limit_child(int go_fd, int go_write_fd, int err_fd, char *const argv[]) {
    sigset_t none;
    char c;
    int e;

    close(go_write_fd); /* so that the parent's end closing reads as EOF here */
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, NULL);
    signal(SIGPIPE, SIG_DFL); /* volley ignores it; the command should not inherit that */
    if (read(go_fd, &c, 1) != 1) {
        _exit(127); /* the parent could not place us: never run unlimited */
    }
    execvp(argv[0], argv);
    e = errno;
    if (write(err_fd, &e, sizeof(e)) < 0) {
        _exit(127);
    }
    _exit(127);
}

/* Moves pid into every group of p. 0 or a negative errno with a sentence in err. */
static int limit_place(limit_proc *p, pid_t pid, char *err, size_t err_len) {
    char v[32];
    int i, rc;

    snprintf(v, sizeof(v), "%d", (int)pid);
    for (i = 0; i < LIMIT_NCTRL; i++) {
        if (!p->made[i]) {
            continue;
        }
        rc = limit_write(p->dir[i], "cgroup.procs", v);
        if (rc < 0) {
            snprintf(err, err_len, "cannot move the command into %s: %s", p->dir[i], strerror(-rc));
            return rc;
        }
    }
    return 0;
}

/* Forks the command, places it, lets it exec and learns whether exec worked. */
static int limit_spawn(limit_proc *p, char *const argv[], char *err, size_t err_len) {
    int go[2], ex[2], e = 0, rc;
    ssize_t n;

    if (pipe2(go, O_CLOEXEC) < 0) {
        return -errno;
    }
    if (pipe2(ex, O_CLOEXEC) < 0) {
        rc = -errno;
        close(go[0]);
        close(go[1]);
        return rc;
    }
    p->pid = fork();
    if (p->pid == 0) {
        limit_child(go[0], go[1], ex[1], argv);
    }
    close(go[0]);
    close(ex[1]);
    if (p->pid < 0) {
        rc = -errno;
        snprintf(err, err_len, "cannot start %s: %s", argv[0], strerror(-rc));
        close(go[1]);
        close(ex[0]);
        return rc;
    }
    rc = limit_place(p, p->pid, err, err_len);
    if (rc == 0 && write(go[1], "g", 1) != 1) {
        rc = -EPIPE;
        snprintf(err, err_len, "cannot start %s: the child went away", argv[0]);
    }
    close(go[1]);
    do {
        n = read(ex[0], &e, sizeof(e));
    } while (n < 0 && errno == EINTR);
    close(ex[0]);
    if (rc == 0 && n == (ssize_t)sizeof(e)) {
        rc = e == ENOENT ? -ENOENT : -ENOEXEC;
        snprintf(err, err_len, "cannot run %s: %s", argv[0], strerror(e));
    }
    if (rc < 0) {
        kill(p->pid, SIGKILL);
        waitpid(p->pid, NULL, 0);
        p->ended = 1;
    }
    return rc;
}

int limit_start(const limit_spec *spec, char *const argv[], limit_proc **out, char *err,
                size_t err_len) {
    limit_proc *p;
    int rc;

    *out = NULL;
    if (!argv || !argv[0]) {
        snprintf(err, err_len, "no command to run");
        return -EINVAL;
    }
    snprintf(err, err_len, "out of memory");
    p = calloc(1, sizeof(*p));
    if (!p) {
        return -ENOMEM;
    }
    p->memory_bytes = spec->memory_bytes;
    rc = limit_make_groups(p, spec, err, err_len);
    if (rc == -ENOENT || rc == -ENOEXEC) {
        rc = -ENOTSUP; /* those two say that the command could not be run */
    }
    if (rc == 0) {
        rc = limit_spawn(p, argv, err, err_len);
    }
    if (rc < 0) {
        limit_remove_groups(p);
        limit_free(p);
        return rc;
    }
    *out = p;
    return 0;
}

int limit_pid(const limit_proc *p) {
    return (int)p->pid;
}

const char *limit_cgroup_version(const limit_proc *p) {
    return p->version == 2 ? "v2" : "v1";
}

/* 1 when the memory group had a process killed for want of memory. Kernels without an oom_kill
 * counter leave only failcnt (the limit was hit) with a SIGKILL of the command as evidence. */
static int limit_oom(const limit_proc *p) {
    const char *dir = p->dir[LIMIT_MEMORY];
    uint64_t v;

    if (!dir) {
        return 0;
    }
    if (watch_read_counter(dir, "memory.oom_control", "oom_kill", &v) == 0 ||
        watch_read_counter(dir, "memory.events", "oom_kill", &v) == 0) {
        return v > p->oom_base;
    }
    return watch_read_counter(dir, "memory.failcnt", NULL, &v) == 0 && v > 0 &&
        WIFSIGNALED(p->wstatus) && WTERMSIG(p->wstatus) == SIGKILL;
}

/* The shell's way of saying how a process ended: its exit code, or 128 + the signal. */
static int limit_shell_status(int wstatus) {
    if (WIFSIGNALED(wstatus)) {
        return 128 + WTERMSIG(wstatus);
    }
    return WIFEXITED(wstatus) ? WEXITSTATUS(wstatus) : 1;
}

int limit_wait(limit_proc *p, int timeout_ms, int *status, int *oom) {
    uint64_t deadline = limit_now_ms() + (uint64_t)(timeout_ms > 0 ? timeout_ms : 0);

    while (!limit_reap(p)) {
        if (timeout_ms >= 0 && limit_now_ms() >= deadline) {
            return -ETIMEDOUT;
        }
        limit_sleep_ms(5);
    }
    if (status) {
        *status = limit_shell_status(p->wstatus);
    }
    if (oom) {
        *oom = limit_oom(p);
    }
    return 0;
}

int limit_stop(limit_proc *p, int timeout_ms, int *status, int *oom) {
    int rc;

    /* SIGTERM goes to the whole group: a shell wrapper alone would leave its server running. */
    limit_reap(p);
    limit_signal_group(p, SIGTERM);
    if (limit_wait_empty(p, timeout_ms) < 0) {
        limit_reap(p);
        limit_signal_group(p, SIGKILL);
        limit_wait_empty(p, LIMIT_KILL_WAIT_MS);
    }
    if (!p->ended) {
        limit_wait(p, LIMIT_KILL_WAIT_MS, NULL, NULL);
    }
    if (status) {
        *status = limit_shell_status(p->wstatus);
    }
    if (oom) {
        *oom = limit_oom(p);
    }
    rc = limit_remove_groups(p);
    limit_free(p);
    return rc;
}

int limit_usage_read(const limit_proc *p, limit_usage *u) {
    const char *cpu = p->dir[LIMIT_CPUACCT] ? p->dir[LIMIT_CPUACCT] : p->dir[LIMIT_CPU];
    const char *mem = p->dir[LIMIT_MEMORY];
    uint64_t v;
    int rc = -ENOENT;

    memset(u, 0, sizeof(*u));
    if (cpu && watch_read_counter(cpu, "cpuacct.usage", NULL, &v) == 0) {
        u->cpu_usage_us = v / 1000; /* v1 counts nanoseconds */
        rc = 0;
    } else if (cpu && watch_read_counter(cpu, "cpu.stat", "usage_usec", &v) == 0) {
        u->cpu_usage_us = v;
        rc = 0;
    }
    if (p->dir[LIMIT_CPU]) {
        watch_read_counter(p->dir[LIMIT_CPU], "cpu.stat", "nr_periods", &u->periods);
        watch_read_counter(p->dir[LIMIT_CPU], "cpu.stat", "nr_throttled", &u->throttled_periods);
    }
    if (mem &&
        (watch_read_counter(mem, "memory.usage_in_bytes", NULL, &v) == 0 ||
         watch_read_counter(mem, "memory.current", NULL, &v) == 0)) {
        u->memory_bytes = v;
        rc = 0;
    }
    if (mem &&
        (watch_read_counter(mem, "memory.max_usage_in_bytes", NULL, &v) == 0 ||
         watch_read_counter(mem, "memory.peak", NULL, &v) == 0)) {
        u->memory_peak_bytes = v;
    }
    return rc;
}

void limit_cgroup_dirs(const limit_proc *p, const char **cpu_dir, const char **memory_dir) {
    *cpu_dir = p->dir[LIMIT_CPUACCT] ? p->dir[LIMIT_CPUACCT] : NULL;
    if (p->version == 2) {
        *cpu_dir = p->dir[LIMIT_CPU];
    }
    *memory_dir = p->dir[LIMIT_MEMORY];
}

/* ---- CPU placement --------------------------------------------------------------------------*/

/* The CPUs this process may run on, ascending, into cpus (at most cap). Count or -errno. */
static int limit_cpu_list(int *cpus, int cap) {
    cpu_set_t set;
    int i, n = 0;

    if (sched_getaffinity(0, sizeof(set), &set) < 0) {
        return -errno;
    }
    for (i = 0; i < CPU_SETSIZE && n < cap; i++) {
        if (CPU_ISSET(i, &set)) {
            cpus[n++] = i;
        }
    }
    return n;
}

/* Writes CPUs as a cpuset list with ranges ("0-2,5"). -ENOSPC when buf is too small. */
static int limit_format_cpus(const int *cpus, int n, char *buf, size_t len) {
    size_t used = 0;
    int i = 0, w;

    buf[0] = '\0';
    while (i < n) {
        int j = i;

        while (j + 1 < n && cpus[j + 1] == cpus[j] + 1) {
            j++;
        }
        w = j > i ? snprintf(buf + used, len - used, "%s%d-%d", used ? "," : "", cpus[i], cpus[j])
                  : snprintf(buf + used, len - used, "%s%d", used ? "," : "", cpus[i]);
        if (w < 0 || (size_t)w >= len - used) {
            return -ENOSPC;
        }
        used += (size_t)w;
        i = j + 1;
    }
    return 0;
}

int limit_cpu_count(void) {
    int cpus[CPU_SETSIZE];
    int n = limit_cpu_list(cpus, CPU_SETSIZE);

    if (n <= 0) {
        long c = sysconf(_SC_NPROCESSORS_ONLN);
        return c > 0 ? (int)c : 1;
    }
    return n;
}

int limit_plan_cpus(double cpus, char *server, size_t server_len, char *self, size_t self_len) {
    int list[CPU_SETSIZE];
    int n = limit_cpu_list(list, CPU_SETSIZE), need = (int)ceil(cpus), rc;

    server[0] = '\0';
    self[0] = '\0';
    if (n < 0) {
        return n;
    }
    if (need < 1) {
        need = 1;
    }
    if (n - need < 1) {
        return 1;
    }
    rc = limit_format_cpus(list + (n - need), need, server, server_len);
    if (rc == 0) {
        rc = limit_format_cpus(list, n - need, self, self_len);
    }
    return rc;
}

/* ---- volley limit ---------------------------------------------------------------------------*/

static const char limit_usage_text[] =
    "usage: volley limit [options] [--] command [args...]\n"
    "\n"
    "Runs a command in a cgroup of its own with CPU and memory limits, as a hosting tier\n"
    "would, and passes its exit status through.\n"
    "\n"
    "  --cpus C          CPU quota in cores (0.25 is a quarter of one core)\n"
    "  --memory M        memory limit, e.g. 512M or 1G; no swapping beyond it\n"
    "  --tier NAME       a tier's limits: basic (0.25, 1G), boosted (0.5, 2G), reserved (1, 4G),\n"
    "                    premium (2, 8G); --cpus and --memory override them\n"
    "  --tier-def LIST   define or change tiers: NAME=CPUS:MEMORY,... (e.g. basic=0.25:512M)\n"
    "  --cpuset LIST     run only on these CPUs, e.g. 1 or 0-1\n"
    "  -h, --help        this text\n"
    "\n"
    "Exit status: the command's (128 + signal when it was killed), 2 for a usage error,\n"
    "3 when this machine does not allow the limits, 126 or 127 when the command cannot run.\n";

/* Parsed flags of volley limit. */
typedef struct {
    limit_spec spec;
    int has_cpus;
    int has_memory;
    const char *tier;
    tiers_table tiers;
    char **cmd;
} limit_opts;

static int limit_usage_error(const char *msg, const char *arg) {
    fprintf(stderr, "volley: ");
    fprintf(stderr, msg, arg);
    fprintf(stderr, " (see volley limit --help)\n");
    return 2;
}

/* Applies one flag with its value. 0, or 2 after printing the usage error. */
static int limit_flag(limit_opts *o, const char *flag, const char *val) {
    char err[256];

    if (strcmp(flag, "--cpus") == 0) {
        if (tiers_parse_cpus(val, &o->spec.cpus) < 0) {
            return limit_usage_error("--cpus wants a number of cores above 0, e.g. 0.25, not '%s'",
                                     val);
        }
        o->has_cpus = 1;
    } else if (strcmp(flag, "--memory") == 0) {
        if (tiers_parse_memory(val, &o->spec.memory_bytes) < 0) {
            return limit_usage_error("--memory wants a size of 1M or more, e.g. 512M, not '%s'",
                                     val);
        }
        o->has_memory = 1;
    } else if (strcmp(flag, "--tier") == 0) {
        o->tier = val;
    } else if (strcmp(flag, "--tier-def") == 0) {
        if (tiers_parse_overrides(&o->tiers, val, err, sizeof(err)) < 0) {
            return limit_usage_error("--tier-def: %s", err);
        }
    } else if (strcmp(flag, "--cpuset") == 0) {
        if (!*val || strspn(val, "0123456789,-") != strlen(val) ||
            strlen(val) >= sizeof(o->spec.cpuset)) {
            return limit_usage_error("--cpuset wants CPU numbers and ranges, e.g. 1 or 0-1, not "
                                     "'%s'",
                                     val);
        }
        snprintf(o->spec.cpuset, sizeof(o->spec.cpuset), "%s", val);
    } else {
        return limit_usage_error("unknown option %s", flag);
    }
    return 0;
}

/* Parses argv into o; returns -1 to go on, or the exit code (0 after --help, 2 on error). */
static int limit_parse(int argc, char **argv, limit_opts *o) {
    int i;

    memset(o, 0, sizeof(*o));
    tiers_defaults(&o->tiers);
    for (i = 1; i < argc; i++) {
        char flag[64];
        const char *a = argv[i], *val, *eq;
        int rc;

        if (strcmp(a, "--") == 0 || a[0] != '-') {
            i += strcmp(a, "--") == 0;
            break;
        }
        if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
            fputs(limit_usage_text, stdout);
            return 0;
        }
        eq = strchr(a, '=');
        if (eq && (size_t)(eq - a) < sizeof(flag)) {
            snprintf(flag, sizeof(flag), "%.*s", (int)(eq - a), a);
            val = eq + 1;
        } else if (i + 1 < argc) {
            snprintf(flag, sizeof(flag), "%s", a);
            val = argv[++i];
        } else {
            return limit_usage_error("%s needs a value", a);
        }
        rc = limit_flag(o, flag, val);
        if (rc) {
            return rc;
        }
    }
    if (i >= argc) {
        return limit_usage_error("%s",
                                 "no command to run: give it after the options, "
                                 "e.g. volley limit --cpus 0.5 -- node server.js");
    }
    o->cmd = argv + i;
    return -1;
}

/* Fills the limits the flags left out from --tier; 2 after a usage error. */
static int limit_apply_tier(limit_opts *o) {
    const tiers_tier *t;

    if (o->tier) {
        t = tiers_find(&o->tiers, o->tier);
        if (!t) {
            return limit_usage_error("no tier named '%s' (basic, boosted, reserved, premium, or "
                                     "one given with --tier-def)",
                                     o->tier);
        }
        if (!o->has_cpus) {
            o->spec.cpus = t->cpus;
        }
        if (!o->has_memory) {
            o->spec.memory_bytes = t->memory_bytes;
        }
    }
    if (o->spec.cpus <= 0 && o->spec.memory_bytes == 0 && !o->spec.cpuset[0]) {
        return limit_usage_error("%s", "no limit given: use --cpus, --memory, --tier or --cpuset");
    }
    return 0;
}

/* The machine's memory in bytes from /proc/meminfo, or 0. */
static uint64_t limit_machine_memory(void) {
    uint64_t kb = 0;

    if (watch_read_counter("/proc", "meminfo", "MemTotal:", &kb) < 0) {
        return 0;
    }
    return kb * 1024;
}

/* Warns when the limits cannot mean what they say on this machine. */
static void limit_warn(const limit_opts *o) {
    int n = limit_cpu_count();
    uint64_t ram = limit_machine_memory();
    char a[32], b[32];

    if (o->spec.cpus > n) {
        fprintf(stderr,
                "volley: warning: --cpus %g is more than this machine's %d CPUs; the command "
                "gets at most %d, and volley none of its own\n",
                o->spec.cpus, n, n);
    } else if (o->spec.cpus > n - 1) {
        fprintf(stderr,
                "volley: warning: --cpus %g leaves no whole CPU for volley on this %d-CPU "
                "machine; the load generator and the server will compete for cores\n",
                o->spec.cpus, n);
    }
    if (ram && o->spec.memory_bytes > ram) {
        tiers_format_memory(o->spec.memory_bytes, a, sizeof(a));
        tiers_format_memory(ram, b, sizeof(b));
        fprintf(stderr,
                "volley: warning: --memory %s is more than this machine's %s of memory; the limit "
                "will not be reached\n",
                a, b);
    }
}

/* Waits for the command while passing SIGINT and SIGTERM on to it. A signal the terminal sent
 * to the whole foreground group has reached the command already and is not sent twice. */
static void limit_supervise(limit_proc *p, const sigset_t *set) {
    struct timespec tick = {0, 200 * 1000000L};
    siginfo_t si;

    while (limit_wait(p, 0, NULL, NULL) == -ETIMEDOUT) {
        int sig = sigtimedwait(set, &si, &tick);

        if (sig != SIGINT && sig != SIGTERM) {
            continue;
        }
        if (si.si_code == SI_KERNEL && getpgid(p->pid) == getpgrp()) {
            continue;
        }
        kill(p->pid, sig);
    }
}

/* Says on stderr that the memory limit killed a process of the command. */
static void limit_report_oom(const char *cmd, int status, uint64_t memory_bytes) {
    char mem[32];

    tiers_format_memory(memory_bytes, mem, sizeof(mem));
    if (status == 128 + SIGKILL) {
        fprintf(stderr, "volley: %s was killed: out of memory under the %s limit\n", cmd, mem);
    } else {
        fprintf(stderr, "volley: a process of %s was killed: out of memory under the %s limit\n",
                cmd, mem);
    }
}

int limit_main(int argc, char **argv) {
    limit_opts o;
    limit_proc *p;
    sigset_t set, old;
    char err[512];
    int rc, status = 1, oom = 0;

    rc = limit_parse(argc, argv, &o);
    if (rc >= 0) {
        return rc;
    }
    if (limit_apply_tier(&o)) {
        return 2;
    }
    limit_warn(&o);

    sigemptyset(&set);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGCHLD);
    sigprocmask(SIG_BLOCK, &set, &old);
    rc = limit_start(&o.spec, o.cmd, &p, err, sizeof(err));
    if (rc < 0) {
        sigprocmask(SIG_SETMASK, &old, NULL);
        fprintf(stderr, "volley: %s\n", err);
        return rc == -ENOENT ? 127 : rc == -ENOEXEC ? 126 : 3;
    }
    limit_supervise(p, &set);
    if (limit_stop(p, 2000, &status, &oom) < 0) {
        fprintf(stderr, "volley: warning: a cgroup of the command could not be removed\n");
    }
    sigprocmask(SIG_SETMASK, &old, NULL);
    if (oom && o.spec.memory_bytes > 0) {
        limit_report_oom(o.cmd[0], status, o.spec.memory_bytes);
    }
    return status;
}
