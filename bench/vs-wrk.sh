#!/usr/bin/env bash
# vs-wrk.sh: volley against wrk on this machine: req/s, client CPU per request, memory per connection.
#
# nginx runs one worker pinned to CPU 0; the client runs on CPU 1. wrk and volley alternate
# (A B A B) with the same -t1 -c50 against a small body and a 100 KB body; then each holds
# -c10000 connections for a few seconds to measure peak RSS. Not a test: it prints a table.
#
# Environment: VOLLEY (default ./volley), BENCH_DURATION (each timed run, default 10s),
# BENCH_ROUNDS (A B pairs per body, default 2), BENCH_CONNECTIONS (default 50),
# BENCH_MEM_CONNECTIONS (default 10000), BENCH_MEM_DURATION (default 3s).
# Default total run time: about 95 seconds.
set -euo pipefail

cd "$(dirname "$0")/.."
VOLLEY=${VOLLEY:-./volley}
DURATION=${BENCH_DURATION:-10s}
ROUNDS=${BENCH_ROUNDS:-2}
CONNS=${BENCH_CONNECTIONS:-50}
MEM_CONNS=${BENCH_MEM_CONNECTIONS:-10000}
MEM_DURATION=${BENCH_MEM_DURATION:-3s}

for tool in nginx wrk taskset /usr/bin/time python3; do
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

start_nginx() {
    local user_line="" i
    mkdir -p "$WORK/www" "$WORK/logs" "$WORK/tmp"
    printf 'hello volley\n' >"$WORK/www/small.txt"
    head -c 102400 /dev/zero | tr '\0' 'b' >"$WORK/www/100k.bin"
    [ "$(id -u)" = 0 ] && user_line="user root root;"
    PORT=$(free_port)
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
        if (d ~ /ms$/) { n = n / 1000 } else if (d ~ /m$/) { n = n * 60 } else if (d ~ /h$/) { n = n * 3600 }
        print int(n) + 1
    }'
}

# Runs one client on the client CPU; prints "req_per_s requests cpu_s peak_rss_kb" (or "fail").
measure() {
    local tool=$1 conns=$2 dur=$3 url=$4 out=$WORK/run.out tfile=$WORK/run.time limit cmd
    limit=$(($(seconds_of "$dur") + 30))
    if [ "$tool" = wrk ]; then
        cmd=(wrk -t1 -c"$conns" -d"$dur" "$url")
    else
        cmd=("$VOLLEY" -t1 -c"$conns" -d"$dur" --no-save "$url")
    fi
    if ! timeout -k 5 "$limit" /usr/bin/time -f '%U %S %M' -o "$tfile" \
        "${CLIENT_CPU[@]}" "${cmd[@]}" >"$out" 2>"$WORK/run.err"; then
        echo "fail"
        {
            echo "vs-wrk: ${cmd[*]} failed:"
            tail -n 5 "$out" "$WORK/run.err"
        } >>"$WORK/failures"
        return 0
    fi
    awk -v tf="$tfile" '
        /^Requests\/sec:/ { rps = $2 }
        /^ +[0-9]+ requests in / { n = $1 }
        END {
            while ((getline line < tf) > 0) { if (line ~ /^[0-9.]+ [0-9.]+ [0-9]+$/) { t = line } }
            split(t, f, " ")
            printf "%s %s %.3f %s\n", rps, n, f[1] + f[2], f[3]
        }' "$out"
}

# Mean of the numbers on stdin ("-" when there are none).
mean() {
    awk '{ s += $1; n++ } END { if (n) { printf "%.2f", s / n } else { print "-" } }'
}

ratio() {
    awk -v a="$1" -v b="$2" 'BEGIN { if (a == "-" || b == "-" || b == 0) { print "-" } else { printf "%.2f", a / b } }'
}

start_nginx
echo "volley vs wrk: nginx 1.x with 1 worker, $PINNING"
echo "$("$VOLLEY" -v 2>&1 | head -n 1); $(wrk -v 2>&1 | head -n 1 | awk '{ print $1, $2 }')"
echo "throughput runs: -t1 -c$CONNS -d$DURATION, $ROUNDS rounds of wrk then volley per body"
echo
printf '%-6s %-7s %5s %12s %12s %11s %10s\n' body tool round req/s requests cpu_us/req rss_kb
: >"$WORK/rows"
for body in small:small.txt 100k:100k.bin; do
    name=${body%%:*}
    url=http://127.0.0.1:$PORT/${body#*:}
    for ((r = 1; r <= ROUNDS; r++)); do
        for tool in wrk volley; do
            res=$(measure "$tool" "$CONNS" "$DURATION" "$url")
            if [ "$res" = fail ]; then
                printf '%-6s %-7s %5s %12s\n' "$name" "$tool" "$r" failed
                continue
            fi
            read -r rps n cpu rss <<<"$res"
            us=$(awk -v c="$cpu" -v n="$n" 'BEGIN { if (n > 0) { printf "%.2f", c * 1e6 / n } else { print "-" } }')
            printf '%-6s %-7s %5s %12s %12s %11s %10s\n' "$name" "$tool" "$r" "$rps" "$n" "$us" "$rss"
            echo "$name $tool $rps $us $rss" >>"$WORK/rows"
        done
    done
done

echo
echo "means over rounds (ratio = volley / wrk; the goal: cpu ratio <= 0.85, req/s ratio >= 1)"
printf '%-6s %12s %12s %7s %12s %12s %7s\n' body wrk_req/s volley_req/s ratio wrk_us/req \
    volley_us/req ratio
for name in small 100k; do
    wr=$(awk -v b="$name" '$1 == b && $2 == "wrk" { print $3 }' "$WORK/rows" | mean)
    vr=$(awk -v b="$name" '$1 == b && $2 == "volley" { print $3 }' "$WORK/rows" | mean)
    wu=$(awk -v b="$name" '$1 == b && $2 == "wrk" && $4 != "-" { print $4 }' "$WORK/rows" | mean)
    vu=$(awk -v b="$name" '$1 == b && $2 == "volley" && $4 != "-" { print $4 }' "$WORK/rows" | mean)
    printf '%-6s %12s %12s %7s %12s %12s %7s\n' "$name" "$wr" "$vr" "$(ratio "$vr" "$wr")" \
        "$wu" "$vu" "$(ratio "$vu" "$wu")"
done

echo
echo "memory: -t1 -c$MEM_CONNS -d$MEM_DURATION against the small body (peak RSS of the client)"
printf '%-7s %12s %12s %14s %20s\n' tool peak_rss_kb requests kb_per_conn "kb_per_conn_over_c$CONNS"
for tool in wrk volley; do
    base=$(awk -v t="$tool" '$1 == "small" && $2 == t { print $5 }' "$WORK/rows" | mean)
    res=$(measure "$tool" "$MEM_CONNS" "$MEM_DURATION" "http://127.0.0.1:$PORT/small.txt")
    if [ "$res" = fail ]; then
        printf '%-7s %12s\n' "$tool" failed
        continue
    fi
    read -r _ n _ rss <<<"$res"
    printf '%-7s %12s %12s %14s %20s\n' "$tool" "$rss" "$n" \
        "$(awk -v r="$rss" -v c="$MEM_CONNS" 'BEGIN { printf "%.2f", r / c }')" \
        "$(awk -v r="$rss" -v b="$base" -v c="$MEM_CONNS" -v c0="$CONNS" \
            'BEGIN { if (b == "-") { print "-" } else { printf "%.2f", (r - b) / (c - c0) } }')"
done

if [ -s "$WORK/failures" ]; then
    echo
    cat "$WORK/failures"
fi
