/* test_limit.c: unit tests of the tiers table and its parsers, the /proc watch on real processes,
 * the CPU split, and limit_start / limit_stop where the machine allows cgroups. */
#include "harness.h"
#include "sweep/limit.h"
#include "sweep/tiers.h"
#include "sweep/watch.h"

#include <errno.h>
#include <sched.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define GIB (1024ULL * 1024 * 1024)
#define MIB (1024ULL * 1024)

/* Checks that a double lies in [lo, hi], printing it when not. */
#define EXPECT_RANGE(v, lo, hi)                                                                    \
    do {                                                                                           \
        double hv_ = (v);                                                                          \
        if (!(hv_ >= (lo) && hv_ <= (hi))) {                                                       \
            fprintf(stderr, "  %s:%d: %s == %.3f, expected within [%g, %g]\n", __FILE__, __LINE__, \
                    #v, hv_, (double)(lo), (double)(hi));                                          \
            harness_failed_checks++;                                                               \
        }                                                                                          \
    } while (0)

static void sleep_ms(int ms) {
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};

    nanosleep(&ts, NULL);
}

static void tiers_guide_defaults(void) {
    tiers_table t;
    const tiers_tier *b;

    tiers_defaults(&t);
    EXPECT_INT(t.count, 4);
    EXPECT_STR(t.items[0].name, "basic");
    EXPECT_STR(t.items[3].name, "premium");
    b = tiers_find(&t, "BoOsTeD");
    EXPECT(b != NULL);
    if (b) {
        EXPECT(b->cpus == 0.5);
        EXPECT_INT(b->memory_bytes, 2 * GIB);
        EXPECT(b->monthly_cost < 0);
    }
    EXPECT(tiers_find(&t, "reserved")->cpus == 1);
    EXPECT_INT(tiers_find(&t, "reserved")->memory_bytes, 4 * GIB);
    EXPECT(tiers_find(&t, "premium")->cpus == 2);
    EXPECT_INT(tiers_find(&t, "premium")->memory_bytes, 8 * GIB);
    EXPECT(tiers_find(&t, "gold") == NULL);
}

static void tiers_overrides_change_and_add(void) {
    tiers_table t;
    char err[256] = "";

    tiers_defaults(&t);
    EXPECT_INT(tiers_parse_overrides(&t, "Basic=0.3:512M,custom=1.5:3G", err, sizeof(err)), 0);
    EXPECT_INT(t.count, 5);
    EXPECT(tiers_find(&t, "basic")->cpus == 0.3);
    EXPECT_INT(tiers_find(&t, "basic")->memory_bytes, 512 * MIB);
    EXPECT_STR(tiers_find(&t, "basic")->name, "basic");
    EXPECT(tiers_find(&t, "custom")->cpus == 1.5);
    EXPECT_INT(tiers_find(&t, "custom")->memory_bytes, 3 * GIB);
    EXPECT_STR(t.items[4].name, "custom");
}

/* One bad override: an error that names the problem, and the table as it was. */
static void expect_override_rejected(const char *spec, const char *needle) {
    tiers_table t, before;
    char err[256] = "";

    tiers_defaults(&t);
    before = t;
    EXPECT(tiers_parse_overrides(&t, spec, err, sizeof(err)) < 0);
    if (!strstr(err, needle)) {
        fprintf(stderr, "  override '%s': error '%s' lacks '%s'\n", spec, err, needle);
        harness_failed_checks++;
    }
    EXPECT(memcmp(&t, &before, sizeof(t)) == 0);
}

static void tiers_overrides_rejected(void) {
    expect_override_rejected("basic=0.25", "CPUS:MEMORY");
    expect_override_rejected("basic", "NAME=CPUS:MEMORY");
    expect_override_rejected("basic=0:1G", "not a CPU count");
    expect_override_rejected("basic=-1:1G", "not a CPU count");
    expect_override_rejected("basic=0.5:12Q", "not a memory size");
    expect_override_rejected("basic=0.5:100k", "not a memory size");
    expect_override_rejected("custom=1:1G,basic=x:1G", "'x'");
    expect_override_rejected("bad name=1:1G", "not a tier name");
    expect_override_rejected("", "empty");
}

static void tiers_too_many(void) {
    tiers_table t;
    char spec[1024] = "", err[256] = "";
    size_t i;

    tiers_defaults(&t);
    for (i = 0; i < TIERS_MAX - 4 + 1; i++) {
        snprintf(spec + strlen(spec), sizeof(spec) - strlen(spec), "%st%zu=1:1G", i ? "," : "", i);
    }
    EXPECT_INT(tiers_parse_overrides(&t, spec, err, sizeof(err)), -ENOSPC);
    EXPECT_INT(t.count, 4);
}

static void tiers_costs(void) {
    tiers_table t;
    char err[256] = "";

    tiers_defaults(&t);
    EXPECT_INT(tiers_parse_costs(&t, "basic=7,BOOSTED=12.5", err, sizeof(err)), 0);
    EXPECT(tiers_find(&t, "basic")->monthly_cost == 7);
    EXPECT(tiers_find(&t, "boosted")->monthly_cost == 12.5);
    EXPECT(tiers_find(&t, "premium")->monthly_cost < 0);

    EXPECT_INT(tiers_parse_costs(&t, "reserved=20,gold=3", err, sizeof(err)), -ENOENT);
    EXPECT_STR(err, "no tier named gold");
    EXPECT(tiers_find(&t, "reserved")->monthly_cost < 0); /* nothing applied on error */
    EXPECT_INT(tiers_parse_costs(&t, "basic=seven", err, sizeof(err)), -EINVAL);
    EXPECT_INT(tiers_parse_costs(&t, "basic=-1", err, sizeof(err)), -EINVAL);
    EXPECT(tiers_find(&t, "basic")->monthly_cost == 7);
}

static void tiers_selects_in_order(void) {
    tiers_table t;
    const tiers_tier *sel[4];
    char err[256] = "";

    tiers_defaults(&t);
    EXPECT_INT(tiers_select(&t, "premium,Basic", sel, 4, err, sizeof(err)), 2);
    EXPECT_STR(sel[0]->name, "premium");
    EXPECT_STR(sel[1]->name, "basic");
    EXPECT_INT(tiers_select(&t, "basic,nope", sel, 4, err, sizeof(err)), -ENOENT);
    EXPECT_STR(err, "no tier named nope");
    EXPECT_INT(tiers_select(&t, "basic,basic,basic", sel, 2, err, sizeof(err)), -ENOSPC);
    EXPECT_INT(tiers_select(&t, ",", sel, 4, err, sizeof(err)), -EINVAL);
}

static void tiers_units(void) {
    char buf[32];
    double c;
    uint64_t m;

    EXPECT_INT(tiers_parse_cpus("0.25", &c), 0);
    EXPECT(c == 0.25);
    EXPECT_INT(tiers_parse_cpus(".5", &c), 0);
    EXPECT(c == 0.5);
    EXPECT(tiers_parse_cpus("0", &c) < 0);
    EXPECT(tiers_parse_cpus("1x", &c) < 0);
    EXPECT(tiers_parse_cpus("nan", &c) < 0);
    EXPECT_INT(tiers_parse_memory("64M", &m), 0);
    EXPECT_INT(m, 64 * MIB);
    EXPECT_INT(tiers_parse_memory("1.5G", &m), 0);
    EXPECT_INT(m, 3 * GIB / 2);
    tiers_format_memory(GIB, buf, sizeof(buf));
    EXPECT_STR(buf, "1G");
    tiers_format_memory(64 * MIB, buf, sizeof(buf));
    EXPECT_STR(buf, "64M");
    tiers_format_memory(3 * GIB / 2, buf, sizeof(buf));
    EXPECT_STR(buf, "1.5G");
    tiers_format_memory(1000, buf, sizeof(buf));
    EXPECT_STR(buf, "1000");
}

/* Memory a child touched; global so that the compiler keeps the writes. */
static char *volatile touched;

/* A child in a process group of its own that spins for at most 20 s (alarm), or, with spin 0,
 * sleeps; with grandchild set, the work is done by a grandchild while the child waits for it. */
static pid_t start_child(int spin, int grandchild, size_t touch_bytes) {
    pid_t pid = fork();

    if (pid != 0) {
        return pid;
    }
    setpgid(0, 0); /* a group of its own, so that stop_child ends the grandchild too */
    alarm(20);
    if (grandchild && fork() != 0) {
        wait(NULL);
        _exit(0);
    }
    alarm(20); /* alarms are not inherited across fork */
    if (touch_bytes) {
        touched = malloc(touch_bytes);
        memset(touched, 1, touch_bytes);
    }
    for (;;) {
        if (!spin) {
            pause();
        }
    }
}

static void stop_child(pid_t pid) {
    kill(-pid, SIGKILL);
    kill(pid, SIGKILL);
    waitpid(pid, NULL, 0);
}

static void watch_busy_and_idle(void) {
    pid_t busy = start_child(1, 0, 0), idle = start_child(0, 0, 64 * MIB);
    watch_sample s[2];
    watch *w;

    EXPECT_INT(watch_create(&w), 0);
    sleep_ms(100);
    EXPECT_INT(watch_add_pid(w, busy, 0), 0);
    EXPECT_INT(watch_add_pid(w, idle, 0), 0);
    sleep_ms(1000);
    EXPECT_INT(watch_sample_all(w, s, 2), 2);
    EXPECT_INT(s[0].pid, busy);
    EXPECT_INT(s[0].alive, 1);
    EXPECT_RANGE(s[0].interval_s, 0.9, 2.0);
    EXPECT_RANGE(s[0].cpu_cores, 0.3, 1.2); /* a shared 2-core machine may not give a full one */
    EXPECT_RANGE(s[1].cpu_cores, 0, 0.1);
    EXPECT_RANGE((double)s[1].rss_bytes / MIB, 60, 200);
    EXPECT(s[0].cpu_total_us > 200000);

    stop_child(busy);
    EXPECT_INT(watch_sample_all(w, s, 2), 2);
    EXPECT_INT(s[0].alive, 0);
    EXPECT_INT(s[0].rss_bytes, 0);
    EXPECT_INT(s[1].alive, 1);
    EXPECT_INT(watch_sample_all(w, s, 1), -ENOSPC);
    stop_child(idle);
    watch_destroy(w);
    EXPECT_INT(watch_create(&w), 0);
    EXPECT_INT(watch_add_pid(w, busy, 0), -ESRCH);
    watch_destroy(w);
}

static void watch_tree_counts_descendants(void) {
    pid_t parent = start_child(1, 1, 0);
    watch_sample s[2];
    watch *w;

    EXPECT_INT(watch_create(&w), 0);
    sleep_ms(100);
    EXPECT_INT(watch_add_pid(w, parent, 1), 0);
    EXPECT_INT(watch_add_pid(w, parent, 0), 0);
    sleep_ms(1000);
    EXPECT_INT(watch_sample_all(w, s, 2), 2);
    EXPECT_INT(s[0].processes, 2);
    EXPECT_RANGE(s[0].cpu_cores, 0.3, 1.2);
    EXPECT_RANGE(s[1].cpu_cores, 0, 0.1); /* the waiting parent alone is idle */
    stop_child(parent);
    watch_destroy(w);
}

static void plan_keeps_a_cpu_for_volley(void) {
    char server[64], self[64];
    cpu_set_t set;
    int n;

    sched_getaffinity(0, sizeof(set), &set);
    n = CPU_COUNT(&set);
    EXPECT_INT(limit_cpu_count(), n);
    EXPECT_INT(limit_plan_cpus(n, server, sizeof(server), self, sizeof(self)), 1);
    EXPECT_STR(server, "");
    if (n >= 2 && CPU_ISSET(0, &set) && CPU_ISSET(n - 1, &set)) {
        char want[16];

        EXPECT_INT(limit_plan_cpus(0.25, server, sizeof(server), self, sizeof(self)), 0);
        snprintf(want, sizeof(want), "%d", n - 1);
        EXPECT_STR(server, want);
        EXPECT_STR(self, n == 2 ? "0" : n == 3 ? "0-1" : self);
    }
}

/* Starts spec with argv; on a machine without cgroups prints why and returns NULL. */
static limit_proc *start_or_skip(const limit_spec *spec, char *const argv[]) {
    limit_proc *p = NULL;
    char err[512] = "";
    int rc = limit_start(spec, argv, &p, err, sizeof(err));

    if (rc == -EACCES || rc == -EPERM || rc == -ENOTSUP || rc == -EROFS) {
        printf("skip: cgroups not available here: %s\n", err);
        return NULL;
    }
    EXPECT_INT(rc, 0);
    if (rc < 0) {
        fprintf(stderr, "  limit_start: %s\n", err);
    }
    return p;
}

static void limit_api_quota_usage_and_cleanup(void) {
    char *argv[] = {"sh", "-c", "while :; do :; done", NULL};
    limit_spec spec = {.cpus = 0.25, .memory_bytes = 64 * MIB};
    const char *cpu_dir, *mem_dir;
    char cpu_copy[4096] = "", mem_copy[4096] = "";
    limit_usage u;
    watch_sample s;
    limit_proc *p = start_or_skip(&spec, argv);
    watch *w;
    int status = -1, oom = -1;

    if (!p) {
        return;
    }
    limit_cgroup_dirs(p, &cpu_dir, &mem_dir);
    EXPECT(cpu_dir != NULL && mem_dir != NULL);
    snprintf(cpu_copy, sizeof(cpu_copy), "%s", cpu_dir ? cpu_dir : "");
    snprintf(mem_copy, sizeof(mem_copy), "%s", mem_dir ? mem_dir : "");
    EXPECT_INT(watch_create(&w), 0);
    EXPECT_INT(watch_add_cgroup(w, cpu_dir, mem_dir), 0);
    EXPECT_INT(watch_add_pid(w, limit_pid(p), 0), 0);
    sleep_ms(2000);
    EXPECT_INT(watch_sample_all(w, &s, 1), -ENOSPC);
    {
        watch_sample two[2];

        EXPECT_INT(watch_sample_all(w, two, 2), 2);
        EXPECT_INT(two[0].alive, 1);
        EXPECT_INT(two[0].processes, 1);
        EXPECT_RANGE(two[0].cpu_cores, 0.1, 0.45);
        EXPECT_RANGE(two[1].cpu_cores, 0.1, 0.45);
        EXPECT(two[0].charged_bytes > 0);
    }
    EXPECT_INT(limit_usage_read(p, &u), 0);
    EXPECT_RANGE(u.cpu_usage_us / 1e6, 0.2, 0.9);
    EXPECT(u.memory_bytes > 0 && u.memory_bytes < 64 * MIB);
    EXPECT(u.throttled_periods > 0);
    EXPECT_INT(limit_wait(p, 0, &status, &oom), -ETIMEDOUT);
    EXPECT_INT(limit_stop(p, 1000, &status, &oom), 0);
    EXPECT_INT(status, 128 + SIGTERM);
    EXPECT_INT(oom, 0);
    EXPECT_INT(access(cpu_copy, F_OK), -1);
    EXPECT_INT(access(mem_copy, F_OK), -1);
    watch_destroy(w);
}

static void limit_api_runs_inside_the_group(void) {
    char path[] = "/tmp/volley-test-limit-XXXXXX";
    char cmd[128], buf[4096] = "", want[64];
    char *argv[] = {"sh", "-c", cmd, NULL};
    limit_spec spec = {.cpus = 0.5};
    limit_proc *p;
    FILE *f;
    int fd = mkstemp(path), status = -1, oom = -1;

    close(fd);
    snprintf(cmd, sizeof(cmd), "cat /proc/$$/cgroup > %s; exit 9", path);
    p = start_or_skip(&spec, argv);
    if (p) {
        EXPECT_INT(limit_wait(p, 5000, &status, &oom), 0);
        EXPECT_INT(status, 9);
        EXPECT_INT(limit_stop(p, 1000, &status, &oom), 0);
        EXPECT_INT(status, 9);
        f = fopen(path, "r");
        if (f) {
            buf[fread(buf, 1, sizeof(buf) - 1, f)] = '\0';
            fclose(f);
        }
        snprintf(want, sizeof(want), "/volley-%d-", (int)getpid());
        if (!strstr(buf, want)) {
            fprintf(stderr, "  the command's cgroups do not name volley-:\n%s\n", buf);
            harness_failed_checks++;
        }
    }
    unlink(path);
}

static void limit_api_command_not_found(void) {
    char *argv[] = {"volley-no-such-command", NULL};
    limit_spec spec = {.cpus = 0.5};
    limit_proc *p = NULL;
    char err[512] = "";
    int rc = limit_start(&spec, argv, &p, err, sizeof(err));

    if (rc == -EACCES || rc == -EPERM || rc == -ENOTSUP) {
        printf("skip: cgroups not available here: %s\n", err);
        return;
    }
    EXPECT_INT(rc, -ENOENT);
    EXPECT(p == NULL);
    EXPECT_STR(err, "cannot run volley-no-such-command: No such file or directory");
}

int main(void) {
    signal(SIGPIPE, SIG_IGN);
    RUN(tiers_guide_defaults);
    RUN(tiers_overrides_change_and_add);
    RUN(tiers_overrides_rejected);
    RUN(tiers_too_many);
    RUN(tiers_costs);
    RUN(tiers_selects_in_order);
    RUN(tiers_units);
    RUN(watch_busy_and_idle);
    RUN(watch_tree_counts_descendants);
    RUN(plan_keeps_a_cpu_for_volley);
    RUN(limit_api_quota_usage_and_cleanup);
    RUN(limit_api_runs_inside_the_group);
    RUN(limit_api_command_not_found);
    HARNESS_END();
}
