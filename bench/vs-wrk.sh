#!/usr/bin/env bash
# vs-wrk.sh: volley against wrk here: req/s, client CPU per request, memory per connection.
#
# Usage: bench/vs-wrk.sh [plain|tls|script|all]   (default all; BENCH_MODE works too)
#
# nginx runs one worker pinned to CPU 0; the client runs on CPU 1. wrk and volley alternate
# (A B A B) with the same -t1 -c50. Not a test: it prints a table per mode.
#   plain   http, a small body and a 100 KB body; then -c10000 for peak RSS per connection
#           (each tool runs until nginx has answered all 10,000 connections, then 2 s more).
#   tls     https pinned to TLS 1.2 and ECDHE-ECDSA-AES128-GCM-SHA256 with a P-256 certificate
#           made here by openssl; the same two bodies; then -c10000 for peak RSS per connection.
#   script  http, the small body, both tools running one request() script that sets a header.
#
# Environment: VOLLEY (default ./volley), BENCH_DURATION (each timed run, default 10s),
# BENCH_ROUNDS (A B pairs per body, default 2), BENCH_CONNECTIONS (default 50),
# BENCH_MEM_CONNECTIONS (default 10000), BENCH_MEM_DURATION (the longest a memory run may last,
# default 45s, also the TLS runs' --timeout; a run stops BENCH_MEM_HOLD, default 2 (seconds),
# after nginx has answered every connection),
# BENCH_TLS_VERIFY (1: volley verifies with --cacert in the throughput runs; default 0, -k,
# since wrk never verifies). Default run time: plain about 95 s, tls about 2 min, script about 50 s.
set -euo pipefail

cd "$(dirname "$0")/.."
MODE=${1:-${BENCH_MODE:-all}}
VOLLEY=${VOLLEY:-./volley}
DURATION=${BENCH_DURATION:-10s}
ROUNDS=${BENCH_ROUNDS:-2}
CONNS=${BENCH_CONNECTIONS:-50}
MEM_CONNS=${BENCH_MEM_CONNECTIONS:-10000}
MEM_DURATION=${BENCH_MEM_DURATION:-45s}
MEM_HOLD=${BENCH_MEM_HOLD:-2}
TLS_VERIFY=${BENCH_TLS_VERIFY:-0}

case "$MODE" in
    plain | tls | script | all) ;;
    *)
        echo "usage: bench/vs-wrk.sh [plain|tls|script|all]" >&2
        exit 2
        ;;
esac
want() {
    [ "$MODE" = all ] || [ "$MODE" = "$1" ]
}

for tool in nginx wrk taskset /usr/bin/time python3 openssl; do
    if ! command -v "$tool" >/dev/null; then
        echo "vs-wrk: $tool is missing (deps/install.sh bench installs what the bench needs)" >&2
        exit 1
    fi
done
if [ ! -x "$VOLLEY" ]; then
    echo "vs-wrk: $VOLLEY is missing; run make first" >&2
    exit 1
fi
case "$VOLLEY" in
    /*) ;;
    *) VOLLEY="$PWD/$VOLLEY" ;;
esac

# Pin the server and the client apart when there are two CPUs or more.
if [ "$(nproc)" -ge 2 ]; then
    SERVER_CPU=(taskset -c 0)
    CLIENT_CPU=(taskset -c 1)
    PINNING="nginx on CPU 0, client on CPU 1"
else
    SERVER_CPU=()
    CLIENT_CPU=()
    PINNING="one CPU only: nothing pinned, figures are not comparable with a 2-CPU run"
fi

# File descriptors for -c10000: the client and nginx both need one per connection.
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
fd_limit=$(ulimit -n)
if [ "$fd_limit" != unlimited ] && [ "$MEM_CONNS" -gt $((fd_limit - 100)) ]; then
    echo "vs-wrk: open-file limit $fd_limit; memory runs use -c$((fd_limit - 100))" >&2
    MEM_CONNS=$((fd_limit - 100))
fi

WORK=$(mktemp -d "${TMPDIR:-/tmp}/volley-bench.XXXXXX")
chmod 755 "$WORK"
NGINX_PID=""
cleanup() {
    if [ -n "$NGINX_PID" ]; then
        kill "$NGINX_PID" 2>/dev/null || true
        wait "$NGINX_PID" 2>/dev/null || true
    fi
    rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

free_port() {
    python3 -c 'import socket
s = socket.socket()
s.bind(("127.0.0.1", 0))
print(s.getsockname()[1])'
}

# A CA and a server certificate for 127.0.0.1, both ECDSA P-256, valid for two days.
make_certs() {
    local d=$WORK/tls
    mkdir -p "$d"
    {
        openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -sha256 -days 2 \
            -subj "/CN=volley bench CA" -keyout "$d/ca.key" -out "$d/ca.pem" \
            -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign"
        openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -sha256 \
            -subj "/CN=127.0.0.1" -keyout "$d/server.key" -out "$d/server.csr"
        printf '%s\n' "subjectAltName=IP:127.0.0.1,DNS:localhost" "basicConstraints=CA:FALSE" \
            "keyUsage=critical,digitalSignature" "extendedKeyUsage=serverAuth" >"$d/ext.cnf"
        openssl x509 -req -in "$d/server.csr" -CA "$d/ca.pem" -CAkey "$d/ca.key" \
            -CAcreateserial -days 2 -sha256 -extfile "$d/ext.cnf" -out "$d/server.pem"
    } >"$d/openssl.log" 2>&1 || {
        echo "vs-wrk: openssl could not make the certificates:" >&2
        cat "$d/openssl.log" >&2
        exit 1
    }
}

# Four servers on one worker: plain and TLS, each without a log (timed runs) and with a log of
# each connection's first request (memory runs count the connections that got an answer and the
# resumed TLS sessions; script mode checks that the header arrived).
start_nginx() {
    local user_line="" tls_servers="" i
    mkdir -p "$WORK/www" "$WORK/logs" "$WORK/tmp"
    printf 'hello volley\n' >"$WORK/www/small.txt"
    head -c 102400 /dev/zero | tr '\0' 'b' >"$WORK/www/100k.bin"
    [ "$(id -u)" = 0 ] && user_line="user root root;"
    PORT=$(free_port)
    LOG_PORT=$(free_port)
    TLS_PORT=$(free_port)
    TLS_LOG_PORT=$(free_port)
    if want tls; then
        make_certs
        tls_servers="
    ssl_certificate $WORK/tls/server.pem;
    ssl_certificate_key $WORK/tls/server.key;
    ssl_protocols TLSv1.2;
    ssl_ciphers ECDHE-ECDSA-AES128-GCM-SHA256;
    ssl_prefer_server_ciphers on;
    server {
        listen 127.0.0.1:$TLS_PORT ssl backlog=16384;
        root $WORK/www;
    }
    server {
        listen 127.0.0.1:$TLS_LOG_PORT ssl backlog=16384;
        access_log $WORK/logs/conn.log conn buffer=16k flush=500ms if=\$conn_first;
        root $WORK/www;
    }"
    fi
    cat >"$WORK/nginx.conf" <<EOF
$user_line
worker_processes 1;
worker_rlimit_nofile $((MEM_CONNS + 1000));
daemon off;
pid $WORK/nginx.pid;
error_log $WORK/logs/error.log crit;
events {
    worker_connections $((MEM_CONNS + 1000));
}
http {
    access_log off;
    log_format conn '\$connection \$http_x_counter \$ssl_session_reused';
    map \$connection_requests \$conn_first {
        1 1;
        default 0;
    }
    default_type application/octet-stream;
    sendfile on;
    tcp_nopush on;
    keepalive_requests 100000000;
    keepalive_timeout 75s;
    client_body_temp_path $WORK/tmp/body;
    proxy_temp_path $WORK/tmp/proxy;
    fastcgi_temp_path $WORK/tmp/fastcgi;
    uwsgi_temp_path $WORK/tmp/uwsgi;
    scgi_temp_path $WORK/tmp/scgi;
    server {
        listen 127.0.0.1:$PORT backlog=16384;
        root $WORK/www;
    }
    server {
        listen 127.0.0.1:$LOG_PORT backlog=16384;
        access_log $WORK/logs/conn.log conn buffer=16k flush=500ms if=\$conn_first;
        root $WORK/www;
    }$tls_servers
}
EOF
    "${SERVER_CPU[@]}" nginx -p "$WORK" -c "$WORK/nginx.conf" -e "$WORK/logs/error.log" \
        >"$WORK/logs/stdout" 2>&1 &
    NGINX_PID=$!
    for ((i = 0; i < 100; i++)); do
        if (exec 3<>"/dev/tcp/127.0.0.1/$PORT") 2>/dev/null; then
            return 0
        fi
        sleep 0.05
    done
    echo "vs-wrk: nginx did not start:" >&2
    cat "$WORK/logs/error.log" "$WORK/logs/stdout" >&2
    exit 1
}

# Seconds of a duration such as 10s, 500ms or 1m, for the outer timeout.
seconds_of() {
    awk -v d="$1" 'BEGIN {
        n = d + 0
        if (d ~ /ms$/) { n = n / 1000 }
        else if (d ~ /m$/) { n = n * 60 }
        else if (d ~ /h$/) { n = n * 3600 }
        print int(n) + 1
    }'
}

# Options each tool gets on top of -t1 -c -d (set per mode).
WRK_OPTS=()
VOLLEY_OPTS=()

# The command line of one client run: tool, connections, duration, url.
client_cmd() {
    if [ "$1" = wrk ]; then
        CMD=(wrk -t1 -c"$2" -d"$3" "${WRK_OPTS[@]}" "$4")
    else
        CMD=("$VOLLEY" -t1 -c"$2" -d"$3" --no-save "${VOLLEY_OPTS[@]}" "$4")
    fi
}

# Runs one client on the client CPU; prints "req_per_s requests cpu_s peak_rss_kb" (or "fail").
measure() {
    local tool=$1 conns=$2 dur=$3 url=$4 limit
    limit=$(($(seconds_of "$dur") + 30))
    client_cmd "$tool" "$conns" "$dur" "$url"
    if ! timeout -k 5 "$limit" /usr/bin/time -f '%U %S %M' -o "$WORK/run.time" \
        "${CLIENT_CPU[@]}" "${CMD[@]}" >"$WORK/run.out" 2>"$WORK/run.err"; then
        run_failed
        return 0
    fi
    run_figures
}

run_failed() {
    echo "fail"
    {
        echo "vs-wrk: ${CMD[*]} failed:"
        tail -n 5 "$WORK/run.out" "$WORK/run.err"
    } >>"$WORK/failures"
}

# "req_per_s requests cpu_s peak_rss_kb" from the client's output and /usr/bin/time's line.
run_figures() {
    awk -v tf="$WORK/run.time" '
        /^Requests\/sec:/ { rps = $2 }
        /^ +[0-9]+ requests in / { n = $1 }
        END {
            while ((getline line < tf) > 0) { if (line ~ /^[0-9.]+ [0-9.]+ [0-9]+$/) { t = line } }
            split(t, f, " ")
            printf "%s %s %.3f %s\n", rps, n, f[1] + f[2], f[3]
        }' "$WORK/run.out"
}

# Runs one client against the logged server until nginx has answered every connection once,
# then MEM_HOLD seconds more, and interrupts it (both tools print their figures on SIGINT); the
# duration is only the upper bound. Prints "req_per_s requests cpu_s peak_rss_kb up_s up_rss_kb":
# up_s is when the last connection got its first answer and up_rss_kb the client's resident size
# just before the interrupt ("-" for both if not every connection was answered in time).
measure_up() {
    local tool=$1 conns=$2 cap=$3 url=$4 limit bg pid="" t0 now up=- up_rss=- rc=0
    limit=$(($(seconds_of "$cap") + 30))
    client_cmd "$tool" "$conns" "$cap" "$url"
    log_reset
    t0=$(date +%s.%N)
    timeout -k 5 "$limit" /usr/bin/time -f '%U %S %M' -o "$WORK/run.time" \
        "${CLIENT_CPU[@]}" "${CMD[@]}" >"$WORK/run.out" 2>"$WORK/run.err" &
    bg=$!
    while kill -0 "$bg" 2>/dev/null; do
        sleep 0.25
        # timeout's child is /usr/bin/time, whose child is the client (taskset execs it).
        if [ -z "$pid" ]; then
            pid=$(pgrep -P "$(pgrep -P "$bg" | head -n 1)" 2>/dev/null | head -n 1 || true)
        fi
        if [ -n "$pid" ] && [ "$(wc -l <"$WORK/logs/conn.log")" -ge "$conns" ]; then
            now=$(date +%s.%N)
            up=$(awk -v a="$t0" -v b="$now" 'BEGIN { printf "%.1f", b - a }')
            sleep "$MEM_HOLD"
            up_rss=$(awk '/^VmRSS:/ { print $2 }' "/proc/$pid/status" 2>/dev/null || true)
            kill -INT "$pid" 2>/dev/null || true
            break
        fi
    done
    wait "$bg" || rc=$?
    # volley exits 130 when interrupted; that is the stop asked for here.
    if [ "$rc" -ne 0 ] && ! { [ "$rc" -eq 130 ] && [ "$up" != - ]; }; then
        run_failed
        return 0
    fi
    echo "$(run_figures) $up ${up_rss:--}"
}

# Mean of the numbers on stdin ("-" when there are none).
mean() {
    awk '{ s += $1; n++ } END { if (n) { printf "%.2f", s / n } else { print "-" } }'
}

# a / b with two decimals ("-" when either is missing or b is 0).
ratio() {
    awk -v a="$1" -v b="$2" 'BEGIN {
        if (a == "-" || b == "-" || b == 0) { print "-" } else { printf "%.2f", a / b }
    }'
}

# Microseconds per request of $1 CPU seconds over $2 requests.
us_per() {
    ratio "$(awk -v c="$1" 'BEGIN { print c * 1e6 }')" "$2"
}

# "met" or "MISSED" for value <= limit, or value >= limit with a third argument "min" ("-" when
# there is no value).
verdict() {
    awk -v v="$1" -v l="$2" -v dir="${3:-max}" 'BEGIN {
        if (v == "-") { print "-" }
        else if (dir == "min" ? v + 0 >= l + 0 : v + 0 <= l + 0) { print "met" }
        else { print "MISSED" }
    }'
}

# Empties the connection log, and after a run reads it once nginx has flushed it (flush=500ms).
log_reset() {
    : >"$WORK/logs/conn.log"
}
log_wait() {
    sleep 1
}

# Timed runs of one mode: wrk then volley, ROUNDS times per body. Arguments: mode, then
# name:url pairs. Rows go to $WORK/rows as "mode body tool req/s us/req rss_kb".
throughput() {
    local mode=$1 pair name url r tool res rps n cpu rss us
    shift
    printf '%-6s %-7s %5s %12s %12s %11s %10s\n' body tool round req/s requests cpu_us/req rss_kb
    for pair in "$@"; do
        name=${pair%%=*}
        url=${pair#*=}
        for ((r = 1; r <= ROUNDS; r++)); do
            for tool in wrk volley; do
                res=$(measure "$tool" "$CONNS" "$DURATION" "$url")
                if [ "$res" = fail ]; then
                    printf '%-6s %-7s %5s %12s\n' "$name" "$tool" "$r" failed
                    continue
                fi
                read -r rps n cpu rss <<<"$res"
                us=$(us_per "$cpu" "$n")
                printf '%-6s %-7s %5s %12s %12s %11s %10s\n' "$name" "$tool" "$r" "$rps" "$n" \
                    "$us" "$rss"
                echo "$mode $name $tool $rps $us $rss" >>"$WORK/rows"
            done
        done
    done
}

# Mean over rounds of column $4 (req/s), $5 (us/req) or $6 (rss) for one mode, body and tool.
col_mean() {
    awk -v m="$1" -v b="$2" -v t="$3" -v c="$4" \
        '$1 == m && $2 == b && $3 == t && $c != "-" { print $c }' "$WORK/rows" | mean
}

# The means table of one mode; sets CPU_RATIO_<body> for the goal lines.
means() {
    local mode=$1 name wr vr wu vu
    shift
    echo
    echo "means over rounds (ratio = volley / wrk)"
    printf '%-6s %12s %12s %7s %12s %12s %7s\n' body wrk_req/s volley_req/s ratio wrk_us/req \
        volley_us/req ratio
    for name in "$@"; do
        wr=$(col_mean "$mode" "$name" wrk 4)
        vr=$(col_mean "$mode" "$name" volley 4)
        wu=$(col_mean "$mode" "$name" wrk 5)
        vu=$(col_mean "$mode" "$name" volley 5)
        printf '%-6s %12s %12s %7s %12s %12s %7s\n' "$name" "$wr" "$vr" "$(ratio "$vr" "$wr")" \
            "$wu" "$vu" "$(ratio "$vu" "$wu")"
        printf -v "CPU_RATIO_$name" '%s' "$(ratio "$vu" "$wu")"
        printf -v "RPS_RATIO_$name" '%s' "$(ratio "$vr" "$wr")"
    done
}

# Memory of each tool holding MEM_CONNS connections against the logged server. Arguments:
# mode, longest duration, url. "served" counts the connections nginx answered at least once (all
# of them unless the run hit its upper bound first), "up_s" when the last of them was, "resumed"
# those whose TLS session was resumed (an abbreviated handshake). "peak" is the client's peak
# RSS over the whole run, exit included; "up" its RSS with every connection answered, MEM_HOLD
# seconds later. Sets VOLLEY_KB_PER_CONN (peak).
memory() {
    local mode=$1 dur=$2 url=$3 tool base res n rss up up_rss served resumed
    echo
    echo "memory: -t1 -c$MEM_CONNS (volley ${VOLLEY_OPTS[*]:+${VOLLEY_OPTS[*]} }--no-save)" \
        "against the small body;"
    echo "each run stops ${MEM_HOLD}s after nginx has answered every connection (at most $dur)"
    printf '%-7s %9s %7s %6s %7s %10s %9s %13s %10s %9s\n' tool requests served up_s resumed \
        peak_kb kb/conn "over_c$CONNS/conn" up_kb kb/conn
    VOLLEY_KB_PER_CONN=-
    for tool in wrk volley; do
        base=$(col_mean "$mode" small "$tool" 6)
        res=$(measure_up "$tool" "$MEM_CONNS" "$dur" "$url")
        log_wait
        if [ "$res" = fail ]; then
            printf '%-7s %9s\n' "$tool" failed
            continue
        fi
        read -r _ n _ rss up up_rss <<<"$res"
        served=$(wc -l <"$WORK/logs/conn.log")
        resumed=$(awk '$3 == "r" { n++ } END { print n + 0 }' "$WORK/logs/conn.log")
        [ "$mode" = tls ] || resumed=-
        printf '%-7s %9s %7s %6s %7s %10s %9s %13s %10s %9s\n' "$tool" "$n" "$served" "$up" \
            "$resumed" "$rss" "$(ratio "$rss" "$MEM_CONNS")" \
            "$(ratio "$(awk -v r="$rss" -v b="$base" 'BEGIN { print b == "-" ? "-" : r - b }')" \
                $((MEM_CONNS - CONNS)))" \
            "$up_rss" "$(ratio "$up_rss" "$MEM_CONNS")"
        if [ "$tool" = volley ]; then
            VOLLEY_KB_PER_CONN=$(ratio "$rss" "$MEM_CONNS")
            if [ "$served" -lt "$MEM_CONNS" ]; then
                VOLLEY_KB_PER_CONN="-"
                echo "vs-wrk: volley had $served of $MEM_CONNS connections answered by the end;" \
                    "raise BENCH_MEM_DURATION" >&2
            fi
        fi
    done
}

# A short run of each tool with the script against the logged server: the header must arrive.
script_check() {
    local tool res got
    for tool in wrk volley; do
        log_reset
        res=$(measure "$tool" 2 1s "http://127.0.0.1:$LOG_PORT/small.txt")
        log_wait
        got=$(awk '$2 ~ /^[0-9]+$/ { n++ } END { print n + 0 }' "$WORK/logs/conn.log")
        if [ "$res" = fail ] || [ "$got" -eq 0 ]; then
            echo "vs-wrk: $tool did not send X-Counter with the script" \
                "(check run: $res; $got requests logged with it)" >&2
            exit 1
        fi
    done
}

# "load average a, b, c" from the kernel.
load_average() {
    awk '{ print "load average " $1 ", " $2 ", " $3 }' /proc/loadavg
}

start_nginx
: >"$WORK/rows"
echo "volley vs wrk: nginx $(nginx -v 2>&1 | sed 's|.*/||') with 1 worker, $PINNING"
echo "$("$VOLLEY" -v 2>&1 | head -n 1); $(wrk -v 2>&1 | head -n 1 | awk '{ print $1, $2 }')"
echo "$(nproc) CPUs, $(load_average) at the start"
echo "timed runs: -t1 -c$CONNS -d$DURATION, $ROUNDS rounds of wrk then volley per body"
GOALS=()
CPU_RATIO_small=-
CPU_RATIO_100k=-
RPS_RATIO_small=-
# Adds one line, its arguments joined by spaces, to the goals printed at the end.
goal() {
    GOALS+=("$*")
}

if want plain; then
    echo
    echo "== plain: http =="
    WRK_OPTS=()
    VOLLEY_OPTS=()
    throughput plain "small=http://127.0.0.1:$PORT/small.txt" "100k=http://127.0.0.1:$PORT/100k.bin"
    means plain small 100k
    memory plain "$MEM_DURATION" "http://127.0.0.1:$LOG_PORT/small.txt"
    goal "plain  small body: volley cpu/req <= 0.85 x wrk: ratio $CPU_RATIO_small," \
        "$(verdict "$CPU_RATIO_small" 0.85)"
    goal "plain  small body: volley req/s >= 1.0 x wrk: ratio $RPS_RATIO_small," \
        "$(verdict "$RPS_RATIO_small" 1.0 min)"
fi

if want tls; then
    echo
    echo "== tls: https, TLS 1.2, ECDHE-ECDSA-AES128-GCM-SHA256, P-256 certificate =="
    WRK_OPTS=()
    if [ "$TLS_VERIFY" = 1 ]; then
        VOLLEY_OPTS=(--cacert "$WORK/tls/ca.pem")
        echo "volley verifies the certificate (--cacert); wrk never does"
    else
        VOLLEY_OPTS=(-k)
        echo "volley runs with -k (no verification), as wrk does; BENCH_TLS_VERIFY=1 verifies"
    fi
    throughput tls "small=https://127.0.0.1:$TLS_PORT/small.txt" \
        "100k=https://127.0.0.1:$TLS_PORT/100k.bin"
    means tls small 100k
    # Handshakes queue at 10,000 connections: both tools get a timeout as long as the run, so
    # that no connection still waiting for its handshake expires and starts over.
    WRK_OPTS=(--timeout "$MEM_DURATION")
    VOLLEY_OPTS=(-k --timeout "$MEM_DURATION")
    memory tls "$MEM_DURATION" "https://127.0.0.1:$TLS_LOG_PORT/small.txt"
    goal "tls    small body: volley cpu/req <= 1.0 x wrk: ratio $CPU_RATIO_small," \
        "$(verdict "$CPU_RATIO_small" 1.0)"
    goal "tls    100k body:  no goal; cpu/req ratio $CPU_RATIO_100k"
    goal "tls    peak RSS per connection at -c$MEM_CONNS <= 40 KB: $VOLLEY_KB_PER_CONN KB," \
        "$(verdict "$VOLLEY_KB_PER_CONN" 40)"
fi

if want script; then
    echo
    echo "== script: http, small body, one request() script run by both =="
    cat >"$WORK/counter.lua" <<'EOF'
-- One changing header per request, the request rebuilt by wrk.format() each time.
local n = 0
request = function()
    n = n + 1
    wrk.headers["X-Counter"] = tostring(n)
    return wrk.format()
end
EOF
    WRK_OPTS=(-s "$WORK/counter.lua")
    VOLLEY_OPTS=(-s "$WORK/counter.lua")
    script_check
    throughput script "small=http://127.0.0.1:$PORT/small.txt"
    means script small
    goal "script small body: volley cpu/req <= 0.8 x wrk: ratio $CPU_RATIO_small," \
        "$(verdict "$CPU_RATIO_small" 0.8)"
fi

echo
echo "goals ($(load_average) at the end)"
for g in "${GOALS[@]}"; do
    echo "  $g"
done

if [ -s "$WORK/failures" ]; then
    echo
    cat "$WORK/failures"
fi
