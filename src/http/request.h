/* request.h: serialising HTTP/1.1 requests into the bytes sent on the wire. */
#ifndef VOLLEY_HTTP_REQUEST_H
#define VOLLEY_HTTP_REQUEST_H

#include <stddef.h>

/*
 * Builds "METHOD path HTTP/1.1" with the given header lines ("Name: value"), a Host header
 * (host_header) unless one is among them, and Content-Length when a body is given and no
 * Content-Length is among them. Returns a malloc'd buffer the caller frees and its length in
 * *len_out, or NULL when out of memory.
 */
char *http_request_build(const char *method, const char *path, const char *host_header,
                         const char *const *headers, size_t header_count, const char *body,
                         size_t body_len, size_t *len_out);

/* 1 when a header line names `name` (case-insensitive), 0 otherwise. */
int http_header_is(const char *line, const char *name);

/* Counts the complete requests in bytes (several when pipelined) and copies the first one's
 * method and path without its query. Returns the count, or -1 when the bytes are not one or
 * more complete HTTP/1.x requests. */
int http_request_scan(const char *bytes, size_t len, char *method, size_t method_len, char *name,
                      size_t name_len);
#endif
