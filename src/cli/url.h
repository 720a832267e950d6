/* url.h: splitting the target URL into what a connection and a request need. */
#ifndef VOLLEY_CLI_URL_H
#define VOLLEY_CLI_URL_H

typedef struct url_parts {
    int tls; /* https */
    char host[256]; /* without brackets for IPv6 */
    char port[8]; /* as given, or 80 / 443 */
    char path[4096]; /* path and query, "/" when absent */
    char authority[300]; /* Host header: host, with brackets and a non-default port */
    int ip_literal; /* host is an IPv4 or IPv6 address */
    int port_given;
} url_parts;

/* Parses http(s)://host[:port][/path][?query]. 0 or -EINVAL with a reason in *why. */
int url_parse(const char *url, url_parts *out, const char **why);

#endif
