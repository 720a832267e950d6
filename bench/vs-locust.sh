#!/usr/bin/env bash
# vs-locust.sh: volley's virtual users against Locust's (FastHttpUser and HttpUser) on one scenario.
#
# The scenario: one user class, one GET task, no think time, 50 users, against nginx pinned to
# CPU 0; each client pinned to CPU 1 and run in turn. Prints req/s, client CPU per request and
# the ratio to volley. Then memory: volley holding BENCH_MEM_USERS users (default 10000) that
# think between requests, peak RSS per user, beside Locust FastHttpUser at BENCH_LOCUST_MEM_USERS
# (default 2000: Locust spawns slowly). Not a test. BENCH_DURATION (default 10s).
set -euo pipefail

cd "$(dirname "$0")/.."
VOLLEY=${VOLLEY:-$PWD/volley}
DURATION=${BENCH_DURATION:-10}
USERS=${BENCH_USERS:-50}
MEM_USERS=${BENCH_MEM_USERS:-10000}
LOCUST_MEM_USERS=${BENCH_LOCUST_MEM_USERS:-2000}

for tool in nginx locust taskset /usr/bin/time python3; do
    command -v "$tool" >/dev/null || {
        echo "vs-locust: $tool is missing (apt-get install python3-locust nginx-light)" >&2
        exit 1
    }
done
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true

WORK=$(mktemp -d "${TMPDIR:-/tmp}/volley-locust.XXXXXX")
chmod 755 "$WORK"
NGINX_PID=""
cleanup() {
    [ -n "$NGINX_PID" ] && kill "$NGINX_PID" 2>/dev/null && wait "$NGINX_PID" 2>/dev/null
    rm -rf "$WORK"
}
trap cleanup EXIT

PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
mkdir -p "$WORK/www" "$WORK/logs" "$WORK/tmp"
printf 'hello volley\n' >"$WORK/www/index.html"
cat >"$WORK/nginx.conf" <<EOF
$([ "$(id -u)" = 0 ] && echo "user root root;")
worker_processes 1;
worker_rlimit_nofile 30000;
daemon off;
pid $WORK/nginx.pid;
error_log $WORK/logs/error.log crit;
events { worker_connections 25000; }
http {
    access_log off;
    keepalive_requests 100000000;
    keepalive_timeout 300s;
    client_body_temp_path $WORK/tmp/body;
    proxy_temp_path $WORK/tmp/proxy;
    fastcgi_temp_path $WORK/tmp/fastcgi;
    uwsgi_temp_path $WORK/tmp/uwsgi;
    scgi_temp_path $WORK/tmp/scgi;
    server { listen 127.0.0.1:$PORT backlog=16384; root $WORK/www; }
}
EOF
taskset -c 0 nginx -p "$WORK" -c "$WORK/nginx.conf" >"$WORK/logs/out" 2>&1 &
NGINX_PID=$!
for _ in $(seq 100); do (exec 3<>"/dev/tcp/127.0.0.1/$PORT") 2>/dev/null && break; sleep 0.05; done
URL="http://127.0.0.1:$PORT"

cat >"$WORK/fast.py" <<'EOF'
from locust import task, constant
from locust.contrib.fasthttp import FastHttpUser
class U(FastHttpUser):
    wait_time = constant(0)
    @task
    def index(self):
        self.client.get("/")
EOF
cat >"$WORK/slow.py" <<'EOF'
from locust import HttpUser, task, constant
class U(HttpUser):
    wait_time = constant(0)
    @task
    def index(self):
        self.client.get("/")
EOF
cat >"$WORK/think.py" <<'EOF'
from locust import task, constant
from locust.contrib.fasthttp import FastHttpUser
class U(FastHttpUser):
    wait_time = constant(60)
    @task
    def index(self):
        self.client.get("/")
EOF
cat >"$WORK/one.lua" <<'EOF'
local U = user { wait = constant(0) }
U:task(function(self) self:get("/") end)
EOF
cat >"$WORK/think.lua" <<'EOF'
local U = user { wait = constant(60) }
U:task(function(self) self:get("/") end)
EOF

# "requests cpu_seconds peak_rss_kb" of one client run.
run_locust() {
    local file=$1 users=$2 secs=$3
    taskset -c 1 /usr/bin/time -f "%U %S %M" -o "$WORK/time" \
        locust -f "$file" --headless -u "$users" -r "$users" -t "${secs}s" -H "$URL" \
        --csv "$WORK/lc" --only-summary >"$WORK/out" 2>&1 || true
    local reqs
    reqs=$(python3 -c "import csv; r=[x for x in csv.DictReader(open('$WORK/lc_stats.csv')) if x['Name']=='Aggregated']; print(r[0]['Request Count'])")
    awk -v r="$reqs" '{ print r, $1 + $2, $3 }' "$WORK/time"
}

run_volley() {
    local file=$1 users=$2 secs=$3
    taskset -c 1 /usr/bin/time -f "%U %S %M" -o "$WORK/time" \
        "$VOLLEY" -t1 -s "$file" -u "$users" -r "$users" -d "${secs}s" --results "$WORK/res" \
        "$URL" >"$WORK/out" 2>&1 || true
    local reqs
    reqs=$(python3 -c "import json,glob; d=json.load(open(sorted(glob.glob('$WORK/res/*.json'))[-1])); print(d['totals']['requests'])")
    awk -v r="$reqs" '{ print r, $1 + $2, $3 }' "$WORK/time"
}

printf '%-22s %12s %12s %14s %14s\n' client requests "req/s" "CPU us/req" "vs volley"
read -r v_req v_cpu _ < <(run_volley "$WORK/one.lua" "$USERS" "$DURATION")
v_us=$(awk -v c="$v_cpu" -v r="$v_req" 'BEGIN { printf "%.2f", c * 1e6 / r }')
printf '%-22s %12s %12.0f %14s %14s\n' volley "$v_req" "$(awk -v r="$v_req" -v d="$DURATION" 'BEGIN{print r/d}')" "$v_us" "1.00"
for kind in fast slow; do
    read -r l_req l_cpu _ < <(run_locust "$WORK/$kind.py" "$USERS" "$DURATION")
    l_us=$(awk -v c="$l_cpu" -v r="$l_req" 'BEGIN { printf "%.2f", c * 1e6 / r }')
    name=$([ "$kind" = fast ] && echo "locust FastHttpUser" || echo "locust HttpUser")
    printf '%-22s %12s %12.0f %14s %14s\n' "$name" "$l_req" \
        "$(awk -v r="$l_req" -v d="$DURATION" 'BEGIN{print r/d}')" "$l_us" \
        "$(awk -v a="$l_us" -v b="$v_us" 'BEGIN { printf "%.1fx", a / b }')"
done

echo
echo "memory: users connected and thinking (constant(60)), peak RSS"
read -r _ _ v_rss < <(run_volley "$WORK/think.lua" "$MEM_USERS" 8)
read -r _ _ v_base < <(run_volley "$WORK/think.lua" 10 3)
read -r _ _ l_rss < <(run_locust "$WORK/think.py" "$LOCUST_MEM_USERS" 15)
printf 'volley  %6d users: %8d KB peak, %.2f KB per user (over a 10-user run: %.2f KB)\n' \
    "$MEM_USERS" "$v_rss" "$(awk -v a="$v_rss" -v n="$MEM_USERS" 'BEGIN{print a/n}')" \
    "$(awk -v a="$v_rss" -v b="$v_base" -v n="$MEM_USERS" 'BEGIN{print (a-b)/(n-10)}')"
printf 'locust  %6d users: %8d KB peak, %.2f KB per user\n' "$LOCUST_MEM_USERS" "$l_rss" \
    "$(awk -v a="$l_rss" -v n="$LOCUST_MEM_USERS" 'BEGIN{print a/n}')"
