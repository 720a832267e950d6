/* request.c: serialising HTTP/1.1 requests. */
#include "http/request.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

int http_header_is(const char *line, const char *name) {
    size_t n = strlen(name);

    return strncasecmp(line, name, n) == 0 && line[n] == ':';
}

static int request_has(const char *const *headers, size_t count, const char *name) {
    for (size_t i = 0; i < count; i++) {
        if (http_header_is(headers[i], name)) {
            return 1;
        }
    }
    return 0;
}

char *http_request_build(const char *method, const char *path, const char *host_header,
                         const char *const *headers, size_t header_count, const char *body,
                         size_t body_len, size_t *len_out) {
    int add_host = host_header && !request_has(headers, header_count, "host");
    int add_length = body && !request_has(headers, header_count, "content-length");
    size_t cap = strlen(method) + strlen(path) + 64 + body_len;
    char *buf, *p;

    if (add_host) {
        cap += strlen(host_header) + 8;
    }
    for (size_t i = 0; i < header_count; i++) {
        cap += strlen(headers[i]) + 2;
    }
    buf = malloc(cap);
    if (!buf) {
        return NULL;
    }

    p = buf + sprintf(buf, "%s %s HTTP/1.1\r\n", method, path);
    if (add_host) {
        p += sprintf(p, "Host: %s\r\n", host_header);
    }
    for (size_t i = 0; i < header_count; i++) {
        p += sprintf(p, "%s\r\n", headers[i]);
    }
    if (add_length) {
        p += sprintf(p, "Content-Length: %zu\r\n", body_len);
    }
    p += sprintf(p, "\r\n");

    if (body_len) {
        memcpy(p, body, body_len);
        p += body_len;
    }
    *len_out = (size_t)(p - buf);
    return buf;
}
