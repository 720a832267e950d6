/* request.c: serialising HTTP/1.1 requests. */
#include "http/request.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <llhttp.h>

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

typedef struct request_scan {
    int count;
    int in_first;
    char *name;
    size_t name_len;
    size_t name_used;
} request_scan;

static int request_scan_url(llhttp_t *p, const char *at, size_t len) {
    request_scan *sc = p->data;
    size_t room;

    if (sc->count > 0) {
        return 0;
    }
    room = sc->name_len - 1 - sc->name_used;
    if (len > room) {
        len = room;
    }
    memcpy(sc->name + sc->name_used, at, len);
    sc->name_used += len;
    sc->name[sc->name_used] = '\0';
    return 0;
}

static int request_scan_complete(llhttp_t *p) {
    request_scan *sc = p->data;

    sc->count++;
    return 0;
}

int http_request_scan(const char *bytes, size_t len, char *method, size_t method_len, char *name,
                      size_t name_len) {
    llhttp_settings_t settings;
    llhttp_t parser;
    request_scan sc = {0, 1, name, name_len, 0};
    size_t mlen = strcspn(bytes, " ");

    if (len == 0 || mlen == 0 || mlen >= len || mlen >= method_len) {
        return -1;
    }
    memcpy(method, bytes, mlen);
    method[mlen] = '\0';
    name[0] = '\0';

    llhttp_settings_init(&settings);
    settings.on_url = request_scan_url;
    settings.on_message_complete = request_scan_complete;
    llhttp_init(&parser, HTTP_REQUEST, &settings);
    parser.data = &sc;
    if (llhttp_execute(&parser, bytes, len) != HPE_OK || sc.count == 0 ||
        llhttp_get_errno(&parser) != HPE_OK) {
        return -1;
    }
    /* A trailing partial request would wait forever for its answer: refuse it. */
    if (parser.finish == HTTP_FINISH_UNSAFE) {
        return -1;
    }
    name[strcspn(name, "?")] = '\0';
    return sc.count;
}
