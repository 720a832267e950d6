/* watch.h: samples the CPU and memory of processes and cgroups from /proc and cgroup files. */
#ifndef VOLLEY_SWEEP_WATCH_H
#define VOLLEY_SWEEP_WATCH_H

#include <stddef.h>
#include <stdint.h>

/* Most processes and cgroups one watch follows. */
#define WATCH_MAX 64

/* Most processes read from /proc in one sample of a process tree. */
#define WATCH_PROCS_MAX 65536

typedef struct watch watch;

/* One entry's state at one sample. CPU is over the interval since the previous sample of the
 * same watch (or since the entry was added, for the first one). */
typedef struct {
    int pid; /* the watched process; 0 for a cgroup entry */
    int alive; /* 0 once the process has ended, or the cgroup is empty or gone */
    int processes; /* processes counted: 1, the tree's size, or the cgroup's */
    double interval_s; /* length of the interval cpu_cores covers */
    double cpu_cores; /* CPU used over the interval in cores: 1.0 is one core busy */
    uint64_t cpu_total_us; /* CPU used since the entry was added */
    uint64_t rss_bytes; /* resident memory now (over a tree, shared pages count twice) */
    uint64_t charged_bytes; /* cgroup entries: memory charged to the group (with page cache) */
} watch_sample;

/* Creates an empty watch into *out (the caller frees it with watch_destroy). 0 or -ENOMEM. */
int watch_create(watch **out);

/* Follows process pid; with tree set, also every process descended from it while they live
 * (their CPU includes that of descendants already ended and waited for). 0, -ESRCH when the
 * process does not exist, -ENOSPC when the watch is full. */
int watch_add_pid(watch *w, int pid, int tree);

/* Follows a cgroup: CPU from cpu_dir (cpuacct.usage, or cpu.stat usage_usec on v2), memory from
 * memory_dir (memory.usage_in_bytes and memory.stat, or memory.current on v2). Either may be
 * NULL. The strings are copied. 0, -ENOENT when a directory is missing, -ENOSPC, -ENOMEM. */
int watch_add_cgroup(watch *w, const char *cpu_dir, const char *memory_dir);

/* Number of entries, in the order they were added. */
size_t watch_count(const watch *w);

/* Samples every entry into out[0..count-1] (cap must be at least watch_count) and starts the
 * next interval. Call it about once a second. Returns the number written or -ENOSPC. */
int watch_sample_all(watch *w, watch_sample *out, size_t cap);

/* Reads a counter from a cgroup file dir/file: the whole file is one number, or, with key, the
 * number after "key " at the start of a line (cpu.stat, memory.stat). 0 or a negative errno. */
int watch_read_counter(const char *dir, const char *file, const char *key, uint64_t *out);

/* Frees the watch and everything it holds; NULL is allowed. */
void watch_destroy(watch *w);

#endif
