# nginx.sh: starts a private nginx (Debian's nginx-light) for one test file and reads its log.
# shellcheck shell=bash disable=SC2034
# Sourced after common.sh. nginx runs in the foreground of a background job, with its own
# prefix, config and logs in the test's scratch directory, one worker, on 127.0.0.1 only.
#
# After nginx_start:
#   NGX_PORT        keep-alive server: /small.txt, /big.bin (1 MiB), /chunked.html (SSI, so
#                   chunked), anything else 404
#   NGX_CLOSE_PORT  the same files, but every response says Connection: close
#   NGX_LOG, NGX_CLOSE_LOG  their access logs, one line per request:
#                   $connection $connection_requests $status "$request" "$http_x_volley_test"
#                   "$http_authorization" "$http_host"

NGX_DIR=""
NGX_PID=""
NGX_PORT=""
NGX_CLOSE_PORT=""
NGX_LOG=""
NGX_CLOSE_LOG=""
NGX_SMALL_BYTES=13
NGX_BIG_BYTES=1048576

_nginx_files() {
    local www=$NGX_DIR/www
    mkdir -p "$www" "$NGX_DIR/tmp" "$NGX_DIR/logs"
    printf 'hello volley\n' >"$www/small.txt"
    head -c "$NGX_BIG_BYTES" /dev/zero | tr '\0' 'v' >"$www/big.bin"
    # SSI output has no length known in advance, so nginx sends it chunked over HTTP/1.1.
    {
        printf '<html><body>\n'
        printf '<p>part one</p>\n'
        printf '<!--# echo var="request_method" -->\n'
        printf '<p>part two</p>\n'
        printf '<!--# include virtual="/small.txt" -->\n'
        printf '</body></html>\n'
    } >"$www/chunked.html"
    chmod -R a+rX "$NGX_DIR"
}

_nginx_conf() {
    local user_line=""
    # As root, workers would switch to "nobody"; keep them as the caller instead.
    if [ "$(id -u)" = 0 ]; then
        user_line="user root root;"
    fi
    cat >"$NGX_DIR/nginx.conf" <<EOF
$user_line
worker_processes 1;
daemon off;
pid $NGX_DIR/nginx.pid;
error_log $NGX_DIR/logs/error.log warn;
events {
    worker_connections 4096;
}
http {
    default_type application/octet-stream;
    types {
        text/html html;
        text/plain txt;
    }
    sendfile on;
    gzip off;
    server_tokens off;
    client_body_temp_path $NGX_DIR/tmp/body;
    proxy_temp_path $NGX_DIR/tmp/proxy;
    fastcgi_temp_path $NGX_DIR/tmp/fastcgi;
    uwsgi_temp_path $NGX_DIR/tmp/uwsgi;
    scgi_temp_path $NGX_DIR/tmp/scgi;
    log_format volley '\$connection \$connection_requests \$status "\$request" '
                      '"\$http_x_volley_test" "\$http_authorization" "\$http_host"';
    server {
        listen 127.0.0.1:$NGX_PORT;
        access_log $NGX_LOG volley;
        keepalive_requests 100000000;
        keepalive_timeout 75s;
        root $NGX_DIR/www;
        location = /chunked.html {
            ssi on;
            chunked_transfer_encoding on;
        }
    }
    server {
        listen 127.0.0.1:$NGX_CLOSE_PORT;
        access_log $NGX_CLOSE_LOG volley;
        keepalive_timeout 0;
        root $NGX_DIR/www;
    }
}
EOF
}

# Starts nginx on two free ports; returns 1 (after three tries) when it cannot.
nginx_start() {
    local _try
    NGX_DIR=$T/nginx
    NGX_LOG=$NGX_DIR/logs/access.log
    NGX_CLOSE_LOG=$NGX_DIR/logs/close.log
    mkdir -p "$NGX_DIR"
    _nginx_files
    for _try in 1 2 3; do
        NGX_PORT=$(free_port)
        NGX_CLOSE_PORT=$(free_port)
        _nginx_conf
        nginx -p "$NGX_DIR" -c "$NGX_DIR/nginx.conf" -e "$NGX_DIR/logs/error.log" \
            >"$NGX_DIR/logs/stdout" 2>&1 &
        NGX_PID=$!
        if wait_port 127.0.0.1 "$NGX_PORT" 5 && wait_port 127.0.0.1 "$NGX_CLOSE_PORT" 5; then
            at_exit nginx_stop
            return 0
        fi
        kill "$NGX_PID" 2>/dev/null
        wait "$NGX_PID" 2>/dev/null
    done
    echo "FAIL setup: nginx did not start; its error log:"
    sed 's/^/    /' "$NGX_DIR/logs/error.log" "$NGX_DIR/logs/stdout" 2>/dev/null | tail -n 20
    return 1
}

# Stops nginx (fast shutdown) and waits for it, killing it after five seconds.
nginx_stop() {
    local i
    [ -n "$NGX_PID" ] || return 0
    kill -TERM "$NGX_PID" 2>/dev/null
    for ((i = 0; i < 100; i++)); do
        kill -0 "$NGX_PID" 2>/dev/null || break
        sleep 0.05
    done
    kill -KILL "$NGX_PID" 2>/dev/null
    wait "$NGX_PID" 2>/dev/null
    NGX_PID=""
}

# Empties both access logs (nginx appends, so truncating in place is safe).
nginx_log_clear() {
    : >"$NGX_LOG"
    : >"$NGX_CLOSE_LOG"
}

# Number of requests in an access log (default: the keep-alive server's).
nginx_log_count() {
    wc -l <"${1:-$NGX_LOG}" | tr -d ' '
}

# Number of distinct connections in an access log.
nginx_log_connections() {
    awk '{ print $1 }' "${1:-$NGX_LOG}" | sort -u | wc -l | tr -d ' '
}

# Number of logged requests with a given status.
nginx_log_status_count() {
    awk -v s="$1" '$3 == s' "${2:-$NGX_LOG}" | wc -l | tr -d ' '
}
