/* wrk.h: wrk 4's scripting API: the wrk table, setup/init/delay/request/response/done. */
#ifndef VOLLEY_SCRIPT_WRK_H
#define VOLLEY_SCRIPT_WRK_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>
#include <lua.h>

#include "stats/result.h"

/* Where the script's requests go, as the wrk table shows it. */
typedef struct script_target {
    const char *url;
    const char *scheme;
    const char *host;
    const char *port;
    const char *path; /* with its query */
    const char *authority; /* the Host header */
    const char *const *headers;
    size_t header_count;
    const char *const *args; /* values after -- */
    size_t arg_count;
    int64_t init_deadline_ms; /* bound on the script's top level, setup() and init() */
    int thread_count;
} script_target;

typedef struct script_thread script_thread;

/* The main state, where setup() and done() run, and one state per worker thread. */
typedef struct script_host {
    lua_State *L;
    char *path;
    script_target target;
    int has_setup, has_init, has_delay, has_request, has_response, has_done;
    int user_classes; /* user-style: how many user classes the script defined */
    script_thread **threads;
    int thread_count;
} script_host;

struct script_thread {
    lua_State *L;
    script_host *host;
    int id;
    struct sockaddr_storage addr; /* where this thread connects; setup() may change it */
    int has_delay, has_request, has_response;
    char *static_request; /* wrk.format() after init(), when there is no request() */
    size_t static_request_len;
    atomic_int stop; /* thread:stop() was called */
    _Atomic(const char *) in_callback; /* the Lua callback running now, or NULL */
    uint64_t errors; /* script errors during the run */
    char first_error[512];
    /* The last request() answer, to skip re-parsing an identical string. */
    char *last_req;
    size_t last_req_len;
    size_t last_req_cap;
    uint32_t last_count;
    char last_method[16];
    char last_name[256];
};

/* Creates the main state and runs the script's top level in it. A syntax or load error fails
 * here, before any load. 0 or -1 with a one-line reason in err. */
int script_host_new(script_host **out, const char *path, const script_target *t, char *err,
                    size_t err_len);

/* Creates thread id's state (the script's top level run again in it), calls setup(thread) in
 * the main state and init(args) in the thread's. addr is the address the thread would use.
 * 0 or -1 with the reason ("file:line: ...") in err. */
int script_host_add_thread(script_host *h, int id, const struct sockaddr_storage *addr, char *err,
                           size_t err_len);

/* Calls done(summary, latency, requests) in the main state with the run's figures. 0 or -1. */
int script_host_done(script_host *h, const stats_result *r, char *err, size_t err_len);

void script_host_free(script_host *h);

/* Builds the fixed request of a thread without request(): wrk.format() in its state after
 * init. Returns a malloc'd buffer (caller frees) and its length, or NULL with err set. */
char *script_thread_static_request(script_thread *t, size_t *len, char *err, size_t err_len);

/* Calls request(). On success, *bytes points at the returned string (valid until the next
 * call into this state), *count is how many pipelined requests it holds, and method/name
 * describe the first of them. -1 on a script error (counted; first message kept). */
int script_thread_request(script_thread *t, const char **bytes, size_t *len, uint32_t *count,
                          const char **method, const char **name);

/* Calls delay(); *ms is the wait before the next request. -1 on a script error. */
int script_thread_delay(script_thread *t, uint64_t *ms);

/* Calls response(status, headers, body); headers are "name\0value\0" pairs. -1 on error. */
int script_thread_response(script_thread *t, int status, const char *headers, size_t headers_len,
                           const char *body, size_t body_len);

#endif
