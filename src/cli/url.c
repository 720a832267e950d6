/* url.c: parsing http and https URLs given on the command line. */
#include "cli/url.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static int url_host_ok(const char *h) {
    if (!*h) {
        return 0;
    }
    for (; *h; h++) {
        char c = *h;
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '-' || c == '.' || c == '_')) {
            return 0;
        }
    }
    return 1;
}

static int url_split_authority(const char *a, size_t len, url_parts *out, const char **why) {
    const char *colon = NULL;
    size_t hlen;

    if (len && a[0] == '[') {
        const char *close = memchr(a, ']', len);
        if (!close) {
            *why = "unclosed [ in IPv6 address";
            return -EINVAL;
        }
        hlen = (size_t)(close - a - 1);
        if (hlen >= sizeof(out->host)) {
            *why = "host name too long";
            return -EINVAL;
        }
        memcpy(out->host, a + 1, hlen);
        out->host[hlen] = '\0';
        if (close + 1 < a + len) {
            if (close[1] != ':') {
                *why = "unexpected text after IPv6 address";
                return -EINVAL;
            }
            colon = close + 1;
        }
    } else {
        colon = memchr(a, ':', len);
        hlen = colon ? (size_t)(colon - a) : len;
        if (hlen >= sizeof(out->host)) {
            *why = "host name too long";
            return -EINVAL;
        }
        memcpy(out->host, a, hlen);
        out->host[hlen] = '\0';
    }
    if (colon) {
        size_t plen = (size_t)(a + len - colon - 1);
        char *end;
        long port;

        if (plen == 0 || plen >= sizeof(out->port)) {
            *why = "bad port";
            return -EINVAL;
        }
        memcpy(out->port, colon + 1, plen);
        out->port[plen] = '\0';
        port = strtol(out->port, &end, 10);
        if (*end || port < 1 || port > 65535) {
            *why = "bad port";
            return -EINVAL;
        }
        out->port_given = 1;
    }
    return 0;
}

int url_parse(const char *url, url_parts *out, const char **why) {
    const char *p, *auth_end;
    unsigned char buf[16];
    int v6;

    memset(out, 0, sizeof(*out));
    if (strncasecmp(url, "http://", 7) == 0) {
        p = url + 7;
    } else if (strncasecmp(url, "https://", 8) == 0) {
        p = url + 8;
        out->tls = 1;
    } else {
        *why = "the scheme must be http:// or https://";
        return -EINVAL;
    }
    auth_end = p + strcspn(p, "/?#");
    if (memchr(p, '@', (size_t)(auth_end - p))) {
        *why = "user:password@ in URLs is not supported (use -H \"Authorization: ...\")";
        return -EINVAL;
    }
    if (url_split_authority(p, (size_t)(auth_end - p), out, why) < 0) {
        return -EINVAL;
    }
    v6 = inet_pton(AF_INET6, out->host, buf) == 1;
    out->ip_literal = v6 || inet_pton(AF_INET, out->host, buf) == 1;
    if (!out->ip_literal && !url_host_ok(out->host)) {
        *why = out->host[0] ? "bad host name" : "missing host";
        return -EINVAL;
    }
    if (!out->port_given) {
        snprintf(out->port, sizeof(out->port), "%s", out->tls ? "443" : "80");
    }

    if (*auth_end == '#' || *auth_end == '\0') {
        snprintf(out->path, sizeof(out->path), "/");
    } else if (*auth_end == '?') {
        if (snprintf(out->path, sizeof(out->path), "/%s", auth_end) >= (int)sizeof(out->path)) {
            *why = "path too long";
            return -EINVAL;
        }
    } else if (snprintf(out->path, sizeof(out->path), "%s", auth_end) >= (int)sizeof(out->path)) {
        *why = "path too long";
        return -EINVAL;
    }
    out->path[strcspn(out->path, "#")] = '\0';
    if (strpbrk(out->path, " \r\n\t")) {
        *why = "the path contains whitespace (encode it as %20)";
        return -EINVAL;
    }

    snprintf(out->authority, sizeof(out->authority), "%s%s%s%s%s", v6 ? "[" : "", out->host,
             v6 ? "]" : "", out->port_given ? ":" : "", out->port_given ? out->port : "");
    return 0;
}
