# tls_nginx.sh: a private TLS 1.2 nginx with certificates made at test time, and a server that
# drops connections in the middle of the TLS handshake. Sourced after common.sh.
#
# After tls_nginx_start (certificates from tests/lib/certs.sh in $TLS_CERTS):
#   TLS_PORT          keep-alive, valid certificate for IP:127.0.0.1 and DNS:localhost:
#                     /small.txt, /big.bin (1 MiB), /chunked.html (SSI, so chunked)
#   TLS_CLOSE_PORT    the same files and certificate, every response with Connection: close
#   TLS_EXPIRED_PORT  an expired certificate for the same names
#   TLS_WRONG_PORT    a valid certificate for wrong.example only
#   TLS_PLAIN_PORT    plain HTTP (no TLS at all)
#   TLS_LOG, TLS_CLOSE_LOG  access logs, one line per request:
#                     $connection $connection_requests $status "$request" $ssl_session_reused
#                     $ssl_protocol $ssl_server_name
# After tls_cutter_start: TLS_CUT_PORT, a server that reads the ClientHello and closes.

TLS_DIR=""
TLS_CERTS=""
TLS_PID=""
TLS_CUT_PID=""
TLS_PORT=""
TLS_CLOSE_PORT=""
TLS_EXPIRED_PORT=""
TLS_WRONG_PORT=""
TLS_PLAIN_PORT=""
TLS_CUT_PORT=""
TLS_LOG=""
TLS_CLOSE_LOG=""
TLS_BIG_BYTES=1048576

_tls_files() {
    local www=$TLS_DIR/www
    mkdir -p "$www" "$TLS_DIR/tmp" "$TLS_DIR/logs"
    printf 'hello volley\n' >"$www/small.txt"
    head -c "$TLS_BIG_BYTES" /dev/zero | tr '\0' 'v' >"$www/big.bin"
    {
        printf '<html><body>\n<p>part one</p>\n'
        printf '<!--# echo var="request_method" -->\n'
        printf '<p>part two</p>\n<!--# include virtual="/small.txt" -->\n'
        printf '</body></html>\n'
    } >"$www/chunked.html"
    chmod -R a+rX "$TLS_DIR"
}

# One TLS server block: port, certificate name, access log, keepalive_timeout.
_tls_server() {
    cat <<EOF
    server {
        listen 127.0.0.1:$1 ssl;
        ssl_certificate $TLS_CERTS/$2.pem;
        ssl_certificate_key $TLS_CERTS/$2.key;
        access_log $3 volley_tls;
        keepalive_timeout $4;
        keepalive_requests 100000000;
        root $TLS_DIR/www;
        location = /chunked.html {
            ssi on;
            chunked_transfer_encoding on;
        }
    }
EOF
}

_tls_conf() {
    local user_line=""
    if [ "$(id -u)" = 0 ]; then
        user_line="user root root;"
    fi
    cat >"$TLS_DIR/nginx.conf" <<EOF
$user_line
worker_processes 1;
daemon off;
pid $TLS_DIR/nginx.pid;
error_log $TLS_DIR/logs/error.log warn;
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
    client_body_temp_path $TLS_DIR/tmp/body;
    proxy_temp_path $TLS_DIR/tmp/proxy;
    fastcgi_temp_path $TLS_DIR/tmp/fastcgi;
    uwsgi_temp_path $TLS_DIR/tmp/uwsgi;
    scgi_temp_path $TLS_DIR/tmp/scgi;
    ssl_protocols TLSv1.2;
    ssl_session_tickets on;
    log_format volley_tls '\$connection \$connection_requests \$status "\$request" '
                          '\$ssl_session_reused \$ssl_protocol \$ssl_server_name';
$(_tls_server "$TLS_PORT" server "$TLS_LOG" 75s)
$(_tls_server "$TLS_CLOSE_PORT" server "$TLS_CLOSE_LOG" 0)
$(_tls_server "$TLS_EXPIRED_PORT" expired "$TLS_DIR/logs/expired.log" 75s)
$(_tls_server "$TLS_WRONG_PORT" wrongname "$TLS_DIR/logs/wrong.log" 75s)
    server {
        listen 127.0.0.1:$TLS_PLAIN_PORT;
        access_log $TLS_DIR/logs/plain.log volley_tls;
        root $TLS_DIR/www;
    }
}
EOF
}

# Makes the certificates and starts nginx on five free ports; returns 1 when it cannot.
tls_nginx_start() {
    local try p ok
    TLS_DIR=$T/tls-nginx
    TLS_CERTS=$T/certs
    TLS_LOG=$TLS_DIR/logs/access.log
    TLS_CLOSE_LOG=$TLS_DIR/logs/close.log
    mkdir -p "$TLS_DIR"
    if ! "$TESTS_LIB/certs.sh" "$TLS_CERTS"; then
        echo "FAIL setup: tests/lib/certs.sh could not make the certificates"
        return 1
    fi
    chmod -R a+rX "$TLS_CERTS"
    _tls_files
    for try in 1 2 3; do
        TLS_PORT=$(free_port)
        TLS_CLOSE_PORT=$(free_port)
        TLS_EXPIRED_PORT=$(free_port)
        TLS_WRONG_PORT=$(free_port)
        TLS_PLAIN_PORT=$(free_port)
        _tls_conf
        nginx -p "$TLS_DIR" -c "$TLS_DIR/nginx.conf" -e "$TLS_DIR/logs/error.log" \
            >"$TLS_DIR/logs/stdout" 2>&1 &
        TLS_PID=$!
        ok=1
        for p in "$TLS_PORT" "$TLS_CLOSE_PORT" "$TLS_EXPIRED_PORT" "$TLS_WRONG_PORT" \
            "$TLS_PLAIN_PORT"; do
            wait_port 127.0.0.1 "$p" 5 || ok=0
        done
        if [ "$ok" = 1 ]; then
            at_exit tls_nginx_stop
            return 0
        fi
        tls_nginx_stop
    done
    echo "FAIL setup: TLS nginx did not start; its error log:"
    sed 's/^/    /' "$TLS_DIR/logs/error.log" "$TLS_DIR/logs/stdout" 2>/dev/null | tail -n 20
    return 1
}

# Stops nginx (fast shutdown) and waits for it, killing it after five seconds.
tls_nginx_stop() {
    local i
    [ -n "$TLS_PID" ] || return 0
    kill -TERM "$TLS_PID" 2>/dev/null
    for ((i = 0; i < 100; i++)); do
        kill -0 "$TLS_PID" 2>/dev/null || break
        sleep 0.05
    done
    kill -KILL "$TLS_PID" 2>/dev/null
    wait "$TLS_PID" 2>/dev/null
    TLS_PID=""
}

# Empties both access logs (nginx appends, so truncating in place is safe).
tls_log_clear() {
    : >"$TLS_LOG"
    : >"$TLS_CLOSE_LOG"
}

# Number of requests in an access log (default: the keep-alive server's).
tls_log_count() {
    wc -l <"${1:-$TLS_LOG}" | tr -d ' '
}

# Number of logged requests on resumed sessions ($ssl_session_reused is "r").
tls_log_reused() {
    awk '$(NF - 2) == "r"' "${1:-$TLS_LOG}" | wc -l | tr -d ' '
}

# Starts a server that reads one ClientHello record per connection and then closes cleanly,
# in the middle of the handshake. Returns 1 when it does not come up.
tls_cutter_start() {
    local out=$T/tls-cutter.out i
    python3 -u - >"$out" 2>"$T/tls-cutter.err" <<'EOF' &
import socket
import struct

srv = socket.socket()
srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
srv.bind(("127.0.0.1", 0))
srv.listen(512)
print("listening %d" % srv.getsockname()[1], flush=True)
while True:
    conn, _ = srv.accept()
    conn.settimeout(5)
    try:
        head = b""
        while len(head) < 5:
            part = conn.recv(5 - len(head))
            if not part:
                break
            head += part
        if len(head) == 5:
            need = struct.unpack("!H", head[3:5])[0]
            while need > 0:
                part = conn.recv(need)
                if not part:
                    break
                need -= len(part)
    except OSError:
        pass
    conn.close()
EOF
    TLS_CUT_PID=$!
    for ((i = 0; i < 100; i++)); do
        TLS_CUT_PORT=$(sed -n 's/^listening //p' "$out")
        if [ -n "$TLS_CUT_PORT" ]; then
            at_exit tls_cutter_stop
            return 0
        fi
        kill -0 "$TLS_CUT_PID" 2>/dev/null || break
        sleep 0.05
    done
    echo "FAIL setup: the handshake-cutting server did not start:"
    sed 's/^/    /' "$T/tls-cutter.err" | tail -n 10
    return 1
}

# Stops the handshake-cutting server if it runs.
tls_cutter_stop() {
    [ -n "$TLS_CUT_PID" ] || return 0
    kill "$TLS_CUT_PID" 2>/dev/null
    wait "$TLS_CUT_PID" 2>/dev/null
    TLS_CUT_PID=""
}
