#!/usr/bin/env bash
# test_scripts.sh: wrk-style Lua scripts (tests/scripts/*.lua) against nginx: the wrk table,
# every callback, pipelining, done() figures against the results file, and broken scripts, each
# with its message and exit code.
set -u
. "$(dirname "$0")/../lib/common.sh"
. "$TESTS_LIB/nginx.sh"
nginx_start || exit 1
cd "$T" || exit 1

SCRIPTS=$(cd "$TESTS_LIB/../scripts" && pwd)
BASE=http://127.0.0.1:$NGX_PORT
HOSTPORT=127.0.0.1:$NGX_PORT

# ---- helpers of this file --------------------------------------------------------------------

# Adds a location answering 200 "ok" to any method at /post on the keep-alive server of the
# shared nginx, and reloads it; 1 when nginx does not answer a POST there within five seconds.
# The old worker must be gone before any load: while it shuts down it still accepts connections
# and then closes them, which a client rightly counts as read errors.
nginx_add_post_location() {
    local conf=$NGX_DIR/nginx.conf i code
    awk '!added && /^ *root / {
            print "        location = /post {"
            print "            return 200 \"ok\";"
            print "        }"
            added = 1
        }
        { print }' "$conf" >"$conf.new" && mv "$conf.new" "$conf" || return 1
    nginx -p "$NGX_DIR" -c "$conf" -e "$NGX_DIR/logs/error.log" -s reload >/dev/null 2>&1 ||
        return 1
    for ((i = 0; i < 100; i++)); do
        code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 2 -X POST -d x "$BASE/post")
        [ "$code" = 200 ] && break
        sleep 0.05
    done
    [ "$code" = 200 ] || return 1
    for ((i = 0; i < 100; i++)); do
        [ "$(ps --ppid "$NGX_PID" -o pid= | wc -l)" -eq 1 ] && return 0
        sleep 0.05
    done
    return 1
}

POST_READY=0
nginx_add_post_location && POST_READY=1

# Runs one script: script_run LIMIT_S NAME VOLLEY_ARGS... (the URL and "-- args" among them).
# Empties both nginx logs first; the script's own output file is $OUT (via $VOLLEY_TEST_OUT).
# Sets R to the results file when the run named one that exists (empty otherwise).
script_run() {
    local limit=$1 name=$2
    shift 2
    OUT=$T/$name.script-out
    rm -f "$OUT"
    export VOLLEY_TEST_OUT=$OUT
    nginx_log_clear
    vrun "$limit" -s "$SCRIPTS/$name.lua" --results "$T/r-$name" "$@"
    R=""
    if [ -n "$V_RESULT" ] && [ -f "$V_RESULT" ]; then
        R=$V_RESULT
    fi
}

# A value written by a script as "key=value" (one per line, or several per line).
out_value() { # key [file]
    grep -o -- "\(^\| \)$1=[^ ]*" "${2:-$OUT}" 2>/dev/null | head -n 1 | sed 's/^ //; s/^[^=]*=//'
}

# A value printed by done() on a "done: ..." line of the last run's stdout.
done_value() {
    grep '^done: ' "$V_OUT" | grep -o -- " $1=[^ ]*" | head -n 1 | sed 's/^ [^=]*=//'
}

# got within rel (a fraction) of want, or within abs, whichever is larger.
expect_close() { # label got want rel abs
    local bound
    if ! _num "$2" || ! _num "$3"; then
        fail_reason "$1: got '$2', expected a number close to '$3'"
        return
    fi
    bound=$(awk -v w="$3" -v r="$4" -v a="$5" 'BEGIN { b = w * r; if (b < 0) b = -b;
        if (b < a) b = a; print b }')
    expect_near "$1" "$2" "$3" "$bound"
}

# Results-file value (shorthand).
rv() {
    jget "$R" "$1"
}

# Requests logged by nginx (default log) with a given path ($request's second word).
log_path_count() { # path [log]
    awk -v p="$1" '$5 == p' "${2:-$NGX_LOG}" | wc -l | tr -d ' '
}

# Log lines whose field N differs from a value; prints the count.
log_field_other() { # field value [log]
    awk -v n="$1" -v v="$2" '$n != v' "${3:-$NGX_LOG}" | wc -l | tr -d ' '
}

# The partition without the "ok + status == responses" rule, which a script error raised on a
# received response breaks by design: every request is ok, failed or in flight, and the error
# classes add up to the failures.
check_partition() {
    local problems
    problems=$(python3 - "$1" <<'EOF'
import json, sys
d = json.load(open(sys.argv[1]))
t, e = d["totals"], d["errors"]
out = []
if t["requests"] != t["ok"] + t["failed"] + t["in_flight"]:
    out.append("requests == ok + failed + in_flight: got %d, expected %d + %d + %d"
               % (t["requests"], t["ok"], t["failed"], t["in_flight"]))
if sum(e.values()) != t["failed"]:
    out.append("error classes add up to totals.failed: got %d (%s), expected %d"
               % (sum(e.values()), {k: v for k, v in e.items() if v}, t["failed"]))
print("\n".join(out))
EOF
)
    local line
    while IFS= read -r line; do
        [ -n "$line" ] && fail_reason "$line"
    done <<<"$problems"
}

# The line number of the marker comment in a script ("-- ERROR HERE" or "-- SYNTAX ERROR HERE").
marker_line() {
    grep -n 'ERROR HERE' "$SCRIPTS/$1.lua" | head -n 1 | cut -d: -f1
}

# ---- the wrk table and the callbacks ---------------------------------------------------------

case_begin "rotating paths with wrk.format: nginx logs each path, Host added"
script_run 15 paths -t1 -c2 -d1s "$BASE/small.txt"
expect_rc 0
if expect_result; then
    check_result "$R"
    check_sums "$R" 2
    req=$(rv 'd["totals"]["requests"]')
    expect_cmp "totals.ok" "$(rv 'd["totals"]["ok"]')" ">" 0
    expect_eq "totals.failed" "$(rv 'd["totals"]["failed"]')" 0
    expect_match "config.script" "$(rv 'd["config"]["script"]')" 'paths\.lua$'
    settle
    a=$(log_path_count "/small.txt?rot=a")
    b=$(log_path_count "/small.txt?rot=b")
    c=$(log_path_count "/small.txt?rot=c")
    expect_cmp "nginx requests for ?rot=a" "$a" ">" 0
    expect_cmp "nginx requests for ?rot=b" "$b" ">" 0
    expect_cmp "nginx requests for ?rot=c" "$c" ">" 0
    lo=$(printf '%s\n' "$a" "$b" "$c" | sort -n | head -n 1)
    hi=$(printf '%s\n' "$a" "$b" "$c" | sort -n | tail -n 1)
    expect_cmp "spread of the three path counts (a=$a b=$b c=$c)" "$((hi - lo))" "<=" 3
    expect_near "requests in nginx's log vs totals.requests" "$(nginx_log_count)" "$req" 2
    expect_eq "log lines with another path" \
        "$(awk '$5 !~ /^\/small\.txt\?rot=[abc]$/' "$NGX_LOG" | wc -l | tr -d ' ')" 0
    expect_eq "log lines without X-Volley-Test: rotate" "$(log_field_other 7 '"rotate"')" 0
    expect_eq "log lines whose Host is not $HOSTPORT" "$(log_field_other 9 "\"$HOSTPORT\"")" 0
    expect_eq "log lines with a status other than 200" "$(log_field_other 3 200)" 0
fi
case_end

case_begin "POST from top-level wrk.method, wrk.body, wrk.headers: nginx logs POSTs"
[ "$POST_READY" = 1 ] || fail_reason "setup: nginx did not answer POST /post with 200"
post_body='{"user":"volley","shots":[1,2,3]}'
script_run 15 post -t1 -c2 -d1s "$BASE/post"
expect_rc 0
if expect_result; then
    check_result "$R"
    req=$(rv 'd["totals"]["requests"]')
    expect_cmp "totals.ok" "$(rv 'd["totals"]["ok"]')" ">" 0
    expect_eq "totals.failed" "$(rv 'd["totals"]["failed"]')" 0
    expect_cmp "totals.bytes_out (body of ${#post_body} bytes in each request)" \
        "$(rv 'd["totals"]["bytes_out"]')" ">=" "$((req * ${#post_body}))"
    settle
    expect_cmp "requests in nginx's log" "$(nginx_log_count)" ">" 0
    expect_near "requests in nginx's log vs totals.requests" "$(nginx_log_count)" "$req" 2
    expect_eq "log lines that are not POST" "$(log_field_other 4 '"POST')" 0
    expect_eq "log lines with another path than /post" "$(log_field_other 5 /post)" 0
    # A wrong Content-Length would make nginx read the body as the next request: a 400.
    expect_eq "log lines with a status other than 200" "$(log_field_other 3 200)" 0
    expect_eq "log lines without X-Volley-Test: post-top-level" \
        "$(log_field_other 7 '"post-top-level"')" 0
fi
case_end

case_begin "response() counts statuses, bodies and headers; done() sums them over threads"
script_run 15 status -t2 -c2 -d1s "$BASE/small.txt"
expect_rc 0
if expect_result; then
    check_result "$R"
    ok=$(rv 'd["totals"]["ok"]')
    expect_cmp "totals.ok" "$ok" ">" 0
    expect_eq "threads seen by done()" "$(out_value threads)" 2
    expect_eq "response() calls with 200 vs totals.ok" "$(out_value c200)" "$ok"
    expect_eq "response() calls with 404 vs errors.status_4xx" "$(out_value c404)" \
        "$(rv 'd["errors"]["status_4xx"]')"
    expect_eq "response() calls with another status" "$(out_value cother)" 0
    expect_eq "200 bodies equal to small.txt's" "$(out_value good_body)" "$ok"
    expect_eq "200 responses with headers[\"Content-Length\"] == \"13\"" \
        "$(out_value has_len)" "$ok"
    settle
    expect_cmp "404s in nginx's log" "$(nginx_log_status_count 404)" ">" 0
    expect_cmp "200s in nginx's log" "$(nginx_log_status_count 200)" ">" 0
fi
case_end

case_begin "thread:set in setup, read in init and by thread:get in done; thread.addr settable"
export VOLLEY_TEST_ALT_PORT=$NGX_CLOSE_PORT
script_run 15 threads -t2 -c2 -d1s "$BASE/small.txt"
expect_rc 0
if [ -s "$OUT" ]; then
    expect_eq "lines written by done()" "$(wc -l <"$OUT" | tr -d ' ')" 2
    l1=$(grep '^thread 1 ' "$OUT")
    l2=$(grep '^thread 2 ' "$OUT")
    expect_match "thread 1" "$l1" " seen=thread-1/10 "
    expect_match "thread 2" "$l2" " seen=thread-2/20 "
    expect_match "thread 1 addr read in setup" "$l1" " addr_seen=$HOSTPORT "
    expect_match "thread 2 addr read in setup" "$l2" " addr_seen=$HOSTPORT "
    expect_match "thread 2 addr after setting it" "$l2" " addr_now=127\.0\.0\.1:$NGX_CLOSE_PORT "
    expect_match "thread 1 wrk.thread set in init" "$l1" " wrk\.thread=true$"
    id1=$(echo "$l1" | sed -n 's/.* id=\([^ ]*\) .*/\1/p')
    id2=$(echo "$l2" | sed -n 's/.* id=\([^ ]*\) .*/\1/p')
    expect_ne "thread 1 id" "$id1" nil
    expect_ne "thread 2 id (distinct from thread 1's)" "$id2" "$id1"
else
    fail_reason "done() wrote nothing to $OUT"
fi
settle
expect_cmp "requests tagged thread-1 on the first address" \
    "$(awk '$7 == "\"thread-1\""' "$NGX_LOG" | wc -l | tr -d ' ')" ">" 0
expect_eq "requests on the first address not tagged thread-1" "$(log_field_other 7 '"thread-1"')" 0
expect_cmp "requests tagged thread-2 on the address set in setup" \
    "$(awk '$7 == "\"thread-2\""' "$NGX_CLOSE_LOG" | wc -l | tr -d ' ')" ">" 0
expect_eq "requests on the second address not tagged thread-2" \
    "$(log_field_other 7 '"thread-2"' "$NGX_CLOSE_LOG")" 0
case_end

case_begin "init(args): args[0] is the URL, the words after -- are args[1..]"
script_run 15 args -t2 -c2 -d1s "$BASE/small.txt" -- alpha "two words"
expect_rc 0
want="n=2|0=$BASE/small.txt|1=alpha|2=two words|3=nil"
expect_eq "lines written by init() (one per thread)" "$(wc -l <"$OUT" 2>/dev/null | tr -d ' ')" 2
expect_eq "init line 1" "$(sed -n 1p "$OUT" 2>/dev/null)" "$want"
expect_eq "init line 2" "$(sed -n 2p "$OUT" 2>/dev/null)" "$want"
case_end

case_begin "delay() of 100 ms: -c2 -d2s sends far fewer requests than without it"
script_run 15 delay -t1 -c2 -d2s "$BASE/small.txt"
expect_rc 0
if expect_result; then
    check_result "$R"
    req=$(rv 'd["totals"]["requests"]')
    # Two connections, one request each per 100 ms for 2 s: about 40; 60 allows 1.5x.
    expect_between "totals.requests" "$req" 2 60
    expect_eq "totals.failed" "$(rv 'd["totals"]["failed"]')" 0
    # The wait comes before the request starts: it is not latency.
    expect_cmp "totals.latency_ms.p50 (delay not counted)" \
        "$(rv 'd["totals"]["latency_ms"]["p50"]')" "<" 90
    settle
    expect_near "requests in nginx's log vs totals.requests" "$(nginx_log_count)" "$req" 2
fi
case_end

case_begin "pipelining: three requests per request() call, each one counted"
script_run 15 pipeline -t1 -c2 -d1s "$BASE/small.txt"
expect_rc 0
calls=$(out_value calls)
_num "$calls" || fail_reason "done() wrote no call count: '$calls'"
if expect_result && _num "$calls"; then
    check_result "$R"
    check_sums "$R" 6
    expect_cmp "request() calls" "$calls" ">" 0
    expect_between "totals.requests (3 x $calls calls, less the last batch per connection)" \
        "$(rv 'd["totals"]["requests"]')" "$((3 * calls - 6))" "$((3 * calls))"
    expect_between "totals.responses" "$(rv 'd["totals"]["responses"]')" \
        "$((3 * calls - 6))" "$((3 * calls))"
    expect_eq "totals.failed" "$(rv 'd["totals"]["failed"]')" 0
    settle
    for i in 1 2 3; do
        expect_between "nginx requests for ?pipe=$i ($calls calls)" \
            "$(log_path_count "/small.txt?pipe=$i")" "$((calls - 2))" "$calls"
    done
    expect_between "nginx requests in all" "$(nginx_log_count)" "$((3 * calls - 6))" \
        "$((3 * calls))"
fi
case_end

case_begin "done(): summary, latency and requests agree with the results file"
script_run 15 summary -t2 -c2 -d1s "$BASE/small.txt"
expect_rc 0
if expect_result; then
    check_result "$R"
    expect_eq "summary.requests vs totals.responses" "$(done_value requests)" \
        "$(rv 'd["totals"]["responses"]')"
    expect_eq "summary.bytes vs totals.bytes_in" "$(done_value bytes)" \
        "$(rv 'd["totals"]["bytes_in"]')"
    expect_close "summary.duration (us) vs duration_s" "$(done_value duration_us)" \
        "$(rv 'd["duration_s"] * 1e6')" 0.05 50000
    for k in connect read write status timeout; do
        expect_eq "summary.errors.$k" "$(done_value "$k")" 0
    done
    for k in min max mean stdev p50 p99; do
        expect_close "latency.$k (us) vs totals.latency_ms.$k" "$(done_value "lat_$k")" \
            "$(rv "d['totals']['latency_ms']['$k'] * 1000")" 0.01 2
    done
    expect_eq "latency[1] vs latency(1)" "$(done_value lat_index1)" "$(done_value lat_call1)"
    expect_close "latency(1) vs latency.min" "$(done_value lat_call1)" "$(done_value lat_min)" \
        0.01 2
    expect_cmp "count returned by latency(1)" "$(done_value lat_call1_count)" ">=" 1
    expect_cmp "latency(2) vs latency(1)" "$(done_value lat_call2)" ">" \
        "$(done_value lat_call1)"
    expect_cmp "requests.max" "$(done_value req_max)" ">" 0
    expect_cmp "requests.mean vs requests.max" "$(done_value req_mean)" "<=" \
        "$(done_value req_max)"
    expect_cmp "requests.mean vs requests.min" "$(done_value req_mean)" ">=" \
        "$(done_value req_min)"
    expect_between "requests:percentile(50)" "$(done_value req_p50)" "$(done_value req_min)" \
        "$(done_value req_max)"
fi
case_end

case_begin "done(): summary.errors.status counts the 404s"
script_run 15 summary -t1 -c2 -d1s "$BASE/missing.txt"
expect_rc 0
if expect_result; then
    check_result "$R"
    resp=$(rv 'd["totals"]["responses"]')
    expect_cmp "totals.responses" "$resp" ">" 0
    expect_eq "summary.requests vs totals.responses" "$(done_value requests)" "$resp"
    expect_eq "summary.errors.status vs errors.status_4xx" "$(done_value status)" \
        "$(rv 'd["errors"]["status_4xx"]')"
    expect_eq "summary.errors.status vs totals.responses" "$(done_value status)" "$resp"
fi
case_end

case_begin "wrk table: URL parts, -H header in wrk.headers, wrk.format defaults, lookup, connect"
export VOLLEY_TEST_CLOSED_PORT
VOLLEY_TEST_CLOSED_PORT=$(free_port)
script_run 15 fields -t1 -c1 -d1s -H "X-Volley-Test: from-cli" "$BASE/small.txt?q=1"
expect_rc 0
while IFS='|' read -r key want; do
    expect_eq "$key" "$(grep -m1 "^$key=" "$OUT" 2>/dev/null | cut -d= -f2-)" "$want"
done <<EOF
setup.top_header|from-cli
init.top_header|from-cli
setup.thread_addr|$HOSTPORT
lookup.first|$HOSTPORT
connect.open|true
connect.closed|false
scheme|http
host|127.0.0.1
port|$NGX_PORT
method|GET
path|/small.txt?q=1
body|nil
format.default_line|GET /small.txt?q=1 HTTP/1.1
format.default_host|$HOSTPORT
format.default_header|from-cli
format.default_end|true
format.post_line|POST /form HTTP/1.1
format.post_host|$HOSTPORT
format.post_length|4
format.post_xa|1
format.post_end|true
EOF
expect_cmp "lookup.count" "$(grep -m1 '^lookup.count=' "$OUT" 2>/dev/null | cut -d= -f2)" ">=" 1
settle
expect_cmp "requests in nginx's log" "$(nginx_log_count)" ">" 0
expect_eq "log lines without X-Volley-Test: from-cli" "$(log_field_other 7 '"from-cli"')" 0
expect_eq "log lines with another path" "$(log_field_other 5 '/small.txt?q=1')" 0
case_end

case_begin "require \"json\" and \"cjson\": lua-cjson in init (threads) and done (main)"
script_run 15 json -t2 -c2 -d1s "$BASE/small.txt"
expect_rc 0
expect_eq "init lines" "$(grep -c '^init shots=3 title=volley null=true back=10,20,x$' "$OUT" \
    2>/dev/null)" 2
expect_eq "done lines" "$(grep -c '^done shots=3 title=volley null=true back=10,20,x$' "$OUT" \
    2>/dev/null)" 1
case_end

# As in wrk, a stopped thread sends nothing more; the run itself may still last its duration.
case_begin "wrk.thread:stop() in response(): the thread sends no more requests"
script_run 15 stop -t1 -c1 -d2s "$BASE/small.txt"
expect_rc 0
if expect_result; then
    check_result "$R"
    expect_between "totals.responses" "$(rv 'd["totals"]["responses"]')" 10 11
fi
settle
expect_between "requests in nginx's log" "$(nginx_log_count)" 10 11
case_end

# ---- broken scripts --------------------------------------------------------------------------

case_begin "syntax error: exit 2, one stderr line with file:line, no load, no results"
line=$(marker_line err_syntax)
script_run 10 err_syntax -t1 -c2 -d1s "$BASE/small.txt"
expect_rc 2
expect_eq "stderr lines" "$(wc -l <"$V_ERR" | tr -d ' ')" 1
expect_file_has "stderr names the file and line" "$V_ERR" "err_syntax\.lua:$line([^0-9]|$)"
expect_eq "results files" "$(find "$T/r-err_syntax" -type f 2>/dev/null | wc -l | tr -d ' ')" 0
settle
expect_eq "requests in nginx's log" "$(nginx_log_count)" 0
case_end

case_begin "error in setup(): exit 2 with file:line, no load"
line=$(marker_line err_setup)
script_run 10 err_setup -t2 -c2 -d1s "$BASE/small.txt"
expect_rc 2
expect_file_has "stderr names the file and line" "$V_ERR" "err_setup\.lua:$line([^0-9]|$)"
expect_file_has "stderr has the message" "$V_ERR" 'setup failed on purpose'
settle
expect_eq "requests in nginx's log" "$(nginx_log_count)" 0
case_end

case_begin "error in init(): exit 2 with file:line, no load"
line=$(marker_line err_init)
script_run 10 err_init -t2 -c2 -d1s "$BASE/small.txt"
expect_rc 2
expect_file_has "stderr names the file and line" "$V_ERR" "err_init\.lua:$line([^0-9]|$)"
expect_file_has "stderr has Lua's message" "$V_ERR" "attempt to index"
settle
expect_eq "requests in nginx's log" "$(nginx_log_count)" 0
case_end

# A run whose callback fails now and then: it goes on (exit 0), errors.script is counted, and
# the summary shows the first error with file:line.
run_error_case() { # script message-regex
    local name=$1 msg=$2 line req script
    line=$(marker_line "$name")
    script_run 15 "$name" -t1 -c2 -d1s "$BASE/small.txt"
    expect_rc 0
    if expect_result; then
        req=$(rv 'd["totals"]["requests"]')
        script=$(rv 'd["errors"]["script"]')
        expect_cmp "totals.ok (the run went on)" "$(rv 'd["totals"]["ok"]')" ">" 0
        expect_cmp "errors.script" "$script" ">" 0
        RUN_REQ=$req
        RUN_SCRIPT=$script
    fi
    expect_file_has "summary shows the first error with file:line" "$V_OUT" \
        "$name\.lua:$line([^0-9]|$)"
    expect_file_has "summary shows the message" "$V_OUT" "$msg"
}

case_begin "error in request(): the run goes on, errors.script, file:line in the summary"
RUN_REQ="" RUN_SCRIPT=""
run_error_case err_request 'request failed on purpose'
if [ -n "$RUN_REQ" ]; then
    check_result "$R"
    expect_near "errors.script vs totals.requests / 5" "$RUN_SCRIPT" "$((RUN_REQ / 5))" 4
fi
case_end

case_begin "error in response(): the run goes on, errors.script, file:line in the summary"
RUN_REQ="" RUN_SCRIPT=""
run_error_case err_response 'attempt to perform arithmetic'
if [ -n "$RUN_REQ" ]; then
    check_partition "$R"
    resp=$(rv 'd["totals"]["responses"]')
    expect_near "errors.script vs totals.responses / 3" "$RUN_SCRIPT" "$((resp / 3))" 4
    expect_eq "totals.ok + errors.script vs totals.responses (every status 200)" \
        "$(rv 'd["totals"]["ok"] + d["errors"]["script"]')" "$resp"
fi
case_end

case_begin "error in delay(): the run goes on, errors.script, file:line in the summary"
RUN_REQ="" RUN_SCRIPT=""
run_error_case err_delay 'delay failed on purpose'
if [ -n "$RUN_REQ" ]; then
    check_result "$R"
    expect_near "errors.script vs totals.requests / 4" "$RUN_SCRIPT" "$((RUN_REQ / 4))" 4
fi
case_end

# request() returning something other than a string, every second call.
bad_return_case() { # mode
    local req script
    script_run 15 bad_return -t1 -c2 -d1s "$BASE/small.txt" -- "$1"
    expect_rc 0
    if expect_result; then
        check_result "$R"
        req=$(rv 'd["totals"]["requests"]')
        script=$(rv 'd["errors"]["script"]')
        expect_cmp "totals.ok (the run went on)" "$(rv 'd["totals"]["ok"]')" ">" 0
        expect_cmp "errors.script" "$script" ">" 0
        expect_near "errors.script vs totals.requests / 2" "$script" "$((req / 2))" 4
    fi
    expect_file_has "summary says request() must return a string" "$V_OUT" \
        'request.*[Ss]tring|[Ss]tring.*request'
}

case_begin "request() returning 42: counted as a script error, message says so"
bad_return_case number
case_end

case_begin "request() returning nil: counted as a script error, message says so"
bad_return_case nil
case_end

# A callback that never returns before the load starts: exit 2 soon after --init-timeout.
loop_case() { # script callback
    script_run 15 "$1" -t1 -c2 -d1s --init-timeout 1s "$BASE/small.txt"
    expect_rc 2
    expect_cmp "seconds taken with --init-timeout 1s" "$V_SECS" "<=" "$((1 + 3 * TOL))"
    expect_file_has "stderr names $2" "$V_ERR" "(^|[^a-z_])$2([^a-z_]|$)"
    settle
    expect_eq "requests in nginx's log" "$(nginx_log_count)" 0
}

case_begin "infinite loop in init(): exit 2 naming init within --init-timeout 1s"
loop_case loop_init init
case_end

case_begin "infinite loop in setup(): exit 2 naming setup within --init-timeout 1s"
loop_case loop_setup setup
case_end

case_begin "response() stuck in a loop: exit 4 after the grace, results incomplete, names response"
script_run 20 stuck_response -t1 -c2 -d1s "$BASE/small.txt"
expect_rc 4
expect_cmp "seconds taken by a -d1s run (1 s plus a few seconds of grace)" "$V_SECS" "<=" \
    "$((1 + 8 * TOL))"
expect_file_has "stderr names the stuck callback" "$V_ERR" '(^|[^a-z_])response([^a-z_s]|$)'
if [ -z "$R" ]; then
    R=$(find "$T/r-stuck_response" -name '*.json' 2>/dev/null | head -n 1)
fi
if [ -n "$R" ]; then
    check_result "$R"
    expect_eq "incomplete" "$(rv 'd["incomplete"]')" true
else
    fail_reason "no results file (stdout names none, none in $T/r-stuck_response)"
fi
case_end

tests_done
