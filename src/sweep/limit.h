/* limit.h: running a command in a cgroup of its own with CPU and memory limits (`volley limit`). */
#ifndef VOLLEY_SWEEP_LIMIT_H
#define VOLLEY_SWEEP_LIMIT_H

#include <stddef.h>
#include <stdint.h>

#define LIMIT_CPUSET_MAX 128

/* CFS period used for CPU quotas: a quota of 0.25 CPUs is 25 ms of CPU in every 100 ms. */
#define LIMIT_PERIOD_US 100000

/* What the command may use. A zero field means no limit of that kind. */
typedef struct {
    double cpus; /* CPU quota in cores, e.g. 0.25 */
    uint64_t memory_bytes; /* memory limit (swap is not allowed beyond it) */
    char cpuset[LIMIT_CPUSET_MAX]; /* CPUs to pin to, e.g. "1" or "0-1,3"; "" for any */
} limit_spec;

/* What the command's cgroup has used; counters the machine does not keep read as 0. */
typedef struct {
    uint64_t cpu_usage_us; /* CPU used by every process of the group since it started */
    uint64_t memory_bytes; /* memory charged to the group now, page cache included */
    uint64_t memory_peak_bytes; /* highest memory_bytes seen by the kernel */
    uint64_t periods; /* CFS periods in which the group ran */
    uint64_t throttled_periods; /* of which the group used its whole quota and had to wait */
} limit_usage;

typedef struct limit_proc limit_proc;

/* Starts argv (argv[0] looked up in PATH) in new cgroups holding spec's limits; the command is
 * in them before it executes. Returns at once: 0 with *out (release it with limit_stop), or a
 * negative errno with one sentence in err. -ENOENT: the command was not found; -ENOEXEC: it
 * could not be run (permission, format); anything else (-EACCES, -EPERM, -ENOTSUP for no usable
 * controllers, ...) means the machine does not allow the limits. */
int limit_start(const limit_spec *spec, char *const argv[], limit_proc **out, char *err,
                size_t err_len);

/* The command's process ID. */
int limit_pid(const limit_proc *p);

/* "v1" or "v2": which cgroup version holds the command. */
const char *limit_cgroup_version(const limit_proc *p);

/* Waits up to timeout_ms (0 polls, negative waits for ever) for the command to end. 0 when it
 * has ended, with *status its shell-style exit status (the exit code, or 128 + the signal) and
 * *oom 1 when the group had a process killed for lack of memory; -ETIMEDOUT when still running.
 * Either pointer may be NULL. The cgroups stay until limit_stop. */
int limit_wait(limit_proc *p, int timeout_ms, int *status, int *oom);

/* Ends the command if it still runs (SIGTERM to every process of its group, SIGKILL after
 * timeout_ms), waits for it, removes the cgroups (and any mount limit_start made) and frees p.
 * *status and *oom as in limit_wait. 0, or a negative errno when a cgroup could not be removed
 * (p is freed all the same). */
int limit_stop(limit_proc *p, int timeout_ms, int *status, int *oom);

/* Reads the group's CPU and memory counters into *u. 0 or a negative errno. */
int limit_usage_read(const limit_proc *p, limit_usage *u);

/* The cgroup directories a watch (watch_add_cgroup) reads CPU and memory from; either may be
 * NULL when the machine keeps no such counters. They live as long as p. */
void limit_cgroup_dirs(const limit_proc *p, const char **cpu_dir, const char **memory_dir);

/* Splits this process's CPUs between a server given `cpus` cores and volley: the server gets the
 * last ceil(cpus) CPUs, volley the others, as cpuset lists ("1", "0-2"). Returns 0 when they are
 * apart, 1 when there are not enough CPUs to keep at least one for volley (both lists are then
 * empty: no pinning), or a negative errno. */
int limit_plan_cpus(double cpus, char *server, size_t server_len, char *self, size_t self_len);

/* Number of CPUs this process may run on. */
int limit_cpu_count(void);

/* `volley limit --cpus C --memory M [--tier NAME] [--cpuset LIST] -- cmd args...`; argv[0] is
 * "limit". Runs cmd under the limits and returns its exit status (128 + signal when killed), 2 on
 * a usage error, 3 when the machine does not allow the limits, 126 / 127 when cmd cannot run. */
int limit_main(int argc, char **argv);

#endif
