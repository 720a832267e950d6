#!/usr/bin/env bash
# test_users.sh: user-style scripts (tests/scripts/users_*.lua) against nginx and userserver.py:
# spawn rate, stages, stop timeout, weights, think time, cookies, checks, retries, redirects,
# gzip, thresholds, request names, script errors, precedence, and the command-line refusals.
set -u
. "$(dirname "$0")/../lib/common.sh"
. "$TESTS_LIB/nginx.sh"
nginx_start || exit 1
cd "$T" || exit 1

SCRIPTS=$(cd "$TESTS_LIB/../scripts" && pwd)
BASE=http://127.0.0.1:$NGX_PORT

# ---- helpers of this file --------------------------------------------------------------------

# Adds the locations of the user tests to the keep-alive server of the shared nginx (fixed
# statuses and bodies, cookies, a redirect, ids in paths, a gzip body) and reloads it; 1 when
# nginx does not serve them within five seconds.
nginx_add_user_locations() {
    local conf=$NGX_DIR/nginx.conf i code
    GZ_FILE=$NGX_DIR/www/gz.txt
    for ((i = 1; i <= 300; i++)); do
        printf 'line %d of a text that nginx compresses for volley\n' "$i"
    done >"$GZ_FILE"
    chmod a+r "$GZ_FILE"
    awk '!added && /^ *root / {
            print "        location = /ok { return 200 \"ok\\n\"; }"
            print "        location = /s404 { return 404 \"nope\\n\"; }"
            print "        location = /s503 { return 503 \"busy\\n\"; }"
            print "        location = /s429 {"
            print "            add_header Retry-After 1 always;"
            print "            return 429 \"slow down\\n\";"
            print "        }"
            print "        location = /set-cookie {"
            print "            add_header Set-Cookie \"sid=abc; Path=/\";"
            print "            return 200 \"set\\n\";"
            print "        }"
            print "        location = /set-cookie-private {"
            print "            add_header Set-Cookie \"sid=abc; Path=/private\";"
            print "            return 200 \"set\\n\";"
            print "        }"
            print "        location = /clear-cookie {"
            print "            add_header Set-Cookie \"sid=abc; Path=/; Max-Age=0\";"
            print "            return 200 \"cleared\\n\";"
            print "        }"
            print "        location = /set-cookie-secure {"
            print "            add_header Set-Cookie \"sid=abc; Path=/; Secure\";"
            print "            return 200 \"secure\\n\";"
            print "        }"
            print "        location = /set-cookie-expired {"
            print "            add_header Set-Cookie"
            print "                \"sid=abc; Path=/; Expires=Thu, 01 Jan 1970 00:00:00 GMT\";"
            print "            return 200 \"expired\\n\";"
            print "        }"
            print "        location = /need-cookie {"
            print "            if ($cookie_sid = \"\") { return 401; }"
            print "            return 200 \"welcome\\n\";"
            print "        }"
            print "        location = /private/need-cookie {"
            print "            if ($cookie_sid = \"\") { return 401; }"
            print "            return 200 \"private\\n\";"
            print "        }"
            print "        location = /redirect { return 302 /target; }"
            print "        location = /target { return 200 \"target\\n\"; }"
            print "        location /item/ { return 200 \"item\\n\"; }"
            print "        location = /gz.txt {"
            print "            gzip on;"
            print "            gzip_types text/plain;"
            print "            gzip_min_length 1;"
            print "        }"
            added = 1
        }
        { print }' "$conf" >"$conf.new" && mv "$conf.new" "$conf" || return 1
    nginx -p "$NGX_DIR" -c "$conf" -e "$NGX_DIR/logs/error.log" -s reload >/dev/null 2>&1 ||
        return 1
    for ((i = 0; i < 100; i++)); do
        code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 2 "$BASE/need-cookie")
        [ "$code" = 401 ] && return 0
        sleep 0.05
    done
    return 1
}

if ! nginx_add_user_locations; then
    echo "FAIL setup: nginx did not serve the user-test locations; its error log:"
    tail -n 10 "$NGX_DIR/logs/error.log" | sed 's/^/    /'
    exit 1
fi

US_PID=""
US_PORT=""
US_LOG=$T/userserver.log

# Starts tests/lib/userserver.py on a kernel-chosen port; 1 when it does not come up.
userserver_start() {
    local i out=$T/userserver.out
    : >"$US_LOG"
    python3 "$TESTS_LIB/userserver.py" --port 0 --log "$US_LOG" >"$out" 2>"$T/userserver.err" &
    US_PID=$!
    for ((i = 0; i < 100; i++)); do
        US_PORT=$(sed -n 's/^listening //p' "$out")
        [ -n "$US_PORT" ] && return 0
        kill -0 "$US_PID" 2>/dev/null || break
        sleep 0.05
    done
    return 1
}

# Stops userserver.py (its threads are daemons: a held /slow request does not keep it alive).
userserver_stop() {
    [ -n "$US_PID" ] || return 0
    kill "$US_PID" 2>/dev/null
    wait "$US_PID" 2>/dev/null
    US_PID=""
}
at_exit userserver_stop

US_READY=0
userserver_start && US_READY=1

# Adds /set-cookie-secure and /need-cookie to the keep-alive TLS server and reloads it; 1 when
# the TLS nginx does not serve them within five seconds.
tls_add_cookie_locations() {
    local conf=$TLS_DIR/nginx.conf i code
    awk '!added && /^ *root / {
            print "        location = /set-cookie-secure {"
            print "            add_header Set-Cookie \"sid=abc; Path=/; Secure\";"
            print "            return 200 \"secure\\n\";"
            print "        }"
            print "        location = /need-cookie {"
            print "            if ($cookie_sid = \"\") { return 401; }"
            print "            return 200 \"welcome\\n\";"
            print "        }"
            added = 1
        }
        { print }' "$conf" >"$conf.new" && mv "$conf.new" "$conf" || return 1
    nginx -p "$TLS_DIR" -c "$conf" -e "$TLS_DIR/logs/error.log" -s reload >/dev/null 2>&1 ||
        return 1
    for ((i = 0; i < 100; i++)); do
        code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 2 --cacert "$TLS_CERTS/ca.pem" \
            "https://127.0.0.1:$TLS_PORT/need-cookie")
        [ "$code" = 401 ] && return 0
        sleep 0.05
    done
    return 1
}

TLS_READY=0
. "$TESTS_LIB/tls_nginx.sh"
tls_nginx_start >"$T/tls-start.out" && tls_add_cookie_locations && TLS_READY=1

# Runs one user script: user_run LIMIT_S NAME VOLLEY_ARGS... (the URL among them). Empties the
# nginx logs first. Sets R to the results file when the run named one that exists, and F to its
# facts (see facts_of).
user_run() {
    local limit=$1 name=$2
    shift 2
    nginx_log_clear
    vrun "$limit" -s "$SCRIPTS/$name.lua" --results "$T/r-$name" "$@"
    R=""
    F=$T/facts.$V_N
    : >"$F"
    if [ -n "$V_RESULT" ] && [ -f "$V_RESULT" ]; then
        R=$V_RESULT
        facts_of "$R" >"$F"
    fi
}

# Flattens a results file into tab-separated lines, one Python start per run instead of one per
# lookup: "v PATH VALUE" for the scalars of the top level, config, totals and errors; "ep NAME
# FIELD VALUE" and "eperr NAME CLASS COUNT" per endpoint; "chk NAME passes|fails N" per check;
# "fail NAME REASON COUNT" per failures row.
facts_of() {
    python3 - "$1" <<'EOF'
import json, sys
try:
    d = json.load(open(sys.argv[1]))
except Exception as e:
    print("v\terror\tresults file unreadable: %s" % e)
    sys.exit(0)
def out(*f):
    print("\t".join(str(x).replace("\t", " ").replace("\n", " ") for x in f))
def scalars(prefix, obj):
    for k, v in obj.items():
        if isinstance(v, bool):
            v = "true" if v else "false"
        elif v is None:
            v = "null"
        elif isinstance(v, float) and v == int(v):
            v = int(v)
        elif isinstance(v, (dict, list)):
            continue
        out("v", prefix + k, v)
scalars("", d)
for part in ("config", "totals", "errors"):
    scalars(part + ".", d.get(part) or {})
for e in d.get("endpoints") or []:
    for k in ("method", "requests", "responses", "ok", "failed"):
        out("ep", e["name"], k, e.get(k))
    for k, v in (e.get("errors") or {}).items():
        out("eperr", e["name"], k, v)
for c in d.get("checks") or []:
    out("chk", c["name"], "passes", c["passes"])
    out("chk", c["name"], "fails", c["fails"])
for f in d.get("failures") or []:
    out("fail", f["name"], f["reason"], f["count"])
EOF
}

# A scalar of the results file by path (totals.requests, errors.script, config.users, users_peak).
fv() {
    awk -F'\t' -v k="$1" '$1 == "v" && $2 == k { print $3; found = 1; exit }
        END { if (!found) print "(no " k " in the results file)" }' "$F"
}

# Results-file value for a Python expression over `d` (shorthand of jget).
rv() {
    jget "$R" "$1"
}

# A field of the endpoint row with this name (method, requests, responses, ok, failed).
ep() { # name field
    awk -F'\t' -v n="$1" -v k="$2" '$1 == "ep" && $2 == n && $3 == k { print $4; found = 1; exit }
        $1 == "ep" && $3 == "method" { names = names (names ? ", " : "") $2 }
        END { if (!found) print "(no endpoint \"" n "\"; endpoints: " names ")" }' "$F"
}

# An error class of the endpoint row with this name.
ep_err() { # name class
    awk -F'\t' -v n="$1" -v k="$2" '$1 == "eperr" && $2 == n && $3 == k {
            print $4; found = 1; exit
        }
        END { if (!found) print "(no endpoint \"" n "\" with class " k ")" }' "$F"
}

# passes or fails of the check with this name.
chk() { # name passes|fails
    awk -F'\t' -v n="$1" -v k="$2" '$1 == "chk" && $2 == n && $3 == k { print $4; found = 1; exit }
        $1 == "chk" && $3 == "passes" { names = names (names ? ", " : "") $2 }
        END { if (!found) print "(no check \"" n "\"; checks: " names ")" }' "$F"
}

# Count of the failures row with this name and a reason matching an extended regex.
failure_count() { # name reason-regex
    awk -F'\t' -v n="$1" -v re="$2" '$1 == "fail" && $2 == n && $3 ~ re {
            print $4; found = 1; exit
        }
        $1 == "fail" { rows = rows (rows ? "; " : "") $2 ": " $3 }
        END { if (!found) print "(no failure \"" n "\" ~ /" re "/; failures: " rows ")" }' "$F"
}

# Number of failures rows with this name.
failure_rows() { # name
    awk -F'\t' -v n="$1" '$1 == "fail" && $2 == n' "$F" | wc -l | tr -d ' '
}

# The partition of a run whose checks fail requests that got a response: every request is ok,
# failed or in flight, the error classes add up to the failures, and each response is ok, a
# status failure, a check failure (check() or r:fail()) or a body that could not be decoded.
check_user_partition() {
    local problems line
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
judged = t["ok"] + sum(e[k] for k in ("status_4xx", "status_429", "status_5xx", "status_503",
                                       "check", "parse"))
if judged != t["responses"]:
    out.append("ok + status + check + parse failures == responses: got %d, responses %d (%s)"
               % (judged, t["responses"], {k: v for k, v in e.items() if v}))
print("\n".join(out))
EOF
)
    while IFS= read -r line; do
        [ -n "$line" ] && fail_reason "$line"
    done <<<"$problems"
}

# Requests logged by nginx with a given path ($request's second word).
log_path_count() { # path [log]
    awk -v p="$1" '$5 == p' "${2:-$NGX_LOG}" | wc -l | tr -d ' '
}

# Requests logged by nginx with a given path and status.
log_path_status_count() { # path status
    awk -v p="$1" -v s="$2" '$5 == p && $3 == s' "$NGX_LOG" | wc -l | tr -d ' '
}

# The per-second users of the results file, space-separated.
series_users() {
    jget "$R" '" ".join(str(p["users"]) for p in d["timeseries"])'
}

# The line number of the "-- ERROR HERE" marker of a script.
marker_line() {
    grep -n 'ERROR HERE' "$SCRIPTS/$1.lua" | head -n 1 | cut -d: -f1
}

# Scaled tolerance: a number of seconds times TOL.
tol() {
    awk -v a="$1" -v t="$TOL" 'BEGIN { print a * t }'
}

# ---- the closed model: spawn rate, stages, stop ----------------------------------------------

case_begin "spawn rate: -u 6 -r 2 gives 1, 3, 5, 6 users in seconds 0..3, one connection each"
user_run 20 users_think -u 6 -r 2 -d 4s "$BASE/"
expect_rc 0
if expect_result; then
    check_result "$R"
    check_sums "$R" 3
    expect_eq "config.mode" "$(fv config.mode)" users
    expect_eq "config.users" "$(fv config.users)" 6
    expect_eq "users_peak" "$(fv users_peak)" 6
    expect_match "results file name" "$(basename "$R")" '_u6\.json$'
    users=$(series_users)
    read -r -a u <<<"$users"
    expect_cmp "seconds in the series ($users)" "${#u[@]}" ">=" 4
    want=(1 3 5 6)
    for k in 0 1 2 3; do
        expect_near "users at second $k (series: $users)" "${u[$k]:-none}" "${want[$k]}" "$TOL"
    done
    expect_cmp "users at second 1 > second 0 (series: $users)" "${u[1]:-0}" ">" "${u[0]:-0}"
    expect_cmp "users at second 2 > second 1 (series: $users)" "${u[2]:-0}" ">" "${u[1]:-0}"
    settle
    expect_eq "distinct connections in nginx's log (one per user)" "$(nginx_log_connections)" 6
    expect_eq "totals.connections_opened" "$(fv totals.connections_opened)" 6
    expect_near "requests in nginx's log vs totals.requests" "$(nginx_log_count)" \
        "$(fv totals.requests)" 2
fi
case_end

case_begin "stages: 0 -> 6 users in 2s, hold 1s, -> 0 in 2s; the ramp up and down in the series"
user_run 25 users_stages "$BASE/"
expect_rc 0
if expect_result; then
    check_result "$R"
    check_sums "$R" 3
    expect_near "duration_s (the stages add up to 5 s)" "$(fv duration_s)" 5 "$(tol 1.5)"
    expect_eq "users_peak" "$(fv users_peak)" 6
    users=$(series_users)
    read -r -a u <<<"$users"
    peak=0
    peak_at=0
    for i in "${!u[@]}"; do
        if [ "${u[$i]}" -gt "$peak" ]; then
            peak=${u[$i]}
            peak_at=$i
        fi
    done
    expect_between "highest users in the series ($users)" "$peak" 5 6
    expect_between "second of the peak ($users)" "$peak_at" 1 3
    expect_cmp "users at second 0 < peak ($users)" "${u[0]:-99}" "<" "$peak"
    expect_cmp "seconds in the series ($users)" "${#u[@]}" ">=" 5
    expect_cmp "users at second 4 < peak ($users)" "${u[4]:-99}" "<" "$peak"
    expect_cmp "users at the last second < peak ($users)" "${u[${#u[@]} - 1]:-99}" "<" "$peak"
    settle
    expect_eq "distinct connections in nginx's log (6 users, one each)" \
        "$(nginx_log_connections)" 6
fi
case_end

case_begin "stages ramping down: users leaving in the middle of a task finish it first"
user_run 20 users_retire "$BASE/"
expect_rc 0
expect_between "wall time of the run (stages add up to 2.5 s)" "$V_SECS" 2.3 "$(tol 4.5)"
if expect_result; then
    check_result "$R"
    expect_eq "totals.in_flight" "$(fv totals.in_flight)" 0
    expect_eq "totals.failed" "$(fv totals.failed)" 0
    users=$(series_users)
    read -r -a u <<<"$users"
    # A second's users are the most that were active in it: a user may still end its task early
    # in the last second.
    expect_cmp "users at the last second (series: $users)" "${u[${#u[@]} - 1]:-99}" "<" 4
    settle
    first=$(log_path_count /ok)
    expect_cmp "tasks started (/ok in nginx's log)" "$first" ">=" 4
    expect_eq "tasks finished (/target in nginx's log) vs tasks started" \
        "$(log_path_count /target)" "$first"
fi
case_end

case_begin "stop timeout: a task asleep for 30 s is cancelled after --stop-timeout 1s"
user_run 20 users_stop -u 2 -r 100 -d 1s --stop-timeout 1s "$BASE/"
expect_rc 0
expect_between "wall time of the run (1 s + 1 s stop timeout)" "$V_SECS" 1.8 "$(tol 6)"
if expect_result; then
    check_result "$R"
    expect_eq "totals.requests (one /ok per user; the sleep is no request)" \
        "$(fv totals.requests)" 2
    expect_eq "totals.failed" "$(fv totals.failed)" 0
    expect_eq "totals.in_flight (a sleep is not a request)" "$(fv totals.in_flight)" 0
    expect_eq "errors.script (cancelling is not a script error)" \
        "$(fv errors.script)" 0
    settle
    expect_eq "/target requests in nginx's log (after the cancelled sleep)" \
        "$(log_path_count /target)" 0
fi
case_end

case_begin "stop timeout: a request held 30 s by the server is in flight, not failed"
[ "$US_READY" = 1 ] || fail_reason "setup: userserver.py did not start"
user_run 20 users_stuck -u 3 -r 100 -d 1s --stop-timeout 1s "http://127.0.0.1:$US_PORT/"
expect_rc 0
expect_between "wall time of the run (1 s + 1 s stop timeout)" "$V_SECS" 1.8 "$(tol 6)"
if expect_result; then
    check_result "$R"
    expect_eq "totals.requests" "$(fv totals.requests)" 3
    expect_eq "totals.in_flight" "$(fv totals.in_flight)" 3
    expect_eq "totals.failed" "$(fv totals.failed)" 0
    expect_eq "errors.timeout" "$(fv errors.timeout)" 0
    expect_eq "rows in the failures table" "$(grep -c '^fail' "$F")" 0
    expect_eq "requests userserver.py received" "$(wc -l <"$US_LOG" | tr -d ' ')" 3
fi
case_end

case_begin "end of -d: tasks finish (1.5 s sleep in the task), think times (60 s) are cut short"
user_run 20 users_finish -u 2 -r 100 -d 1s --stop-timeout 5s "$BASE/"
expect_rc 0
expect_between "wall time of the run (task ends at ~1.5 s)" "$V_SECS" 1.3 "$(tol 4.5)"
if expect_result; then
    check_result "$R"
    expect_eq "totals.requests (two per user)" "$(fv totals.requests)" 4
    expect_eq "totals.in_flight" "$(fv totals.in_flight)" 0
    expect_eq "totals.failed" "$(fv totals.failed)" 0
    settle
    expect_eq "/target requests in nginx's log (second step of each task)" \
        "$(log_path_count /target)" 2
fi
case_end

# ---- weights, think time, randomness ---------------------------------------------------------

case_begin "task weights 3:1 with --seed 7: heavy/light within 20% of 3 over thousands of picks"
user_run 20 users_weights -u 2 -r 100 -d 1s --seed 7 "$BASE/"
expect_rc 0
if expect_result; then
    check_result "$R"
    check_sums "$R" 3
    heavy=$(ep heavy requests)
    light=$(ep light requests)
    expect_cmp "heavy + light picks" "$((${heavy//[!0-9]/} + ${light//[!0-9]/}))" ">=" 2000
    if _num "$heavy" && _num "$light" && [ "$light" -gt 0 ]; then
        ratio=$(awk -v a="$heavy" -v b="$light" 'BEGIN { printf "%.3f", a / b }')
        expect_between "heavy/light ($heavy/$light)" "$ratio" 2.4 3.6
    else
        fail_reason "heavy '$heavy', light '$light': expected two positive counts"
    fi
    expect_eq "totals.failed" "$(fv totals.failed)" 0
    settle
    expect_near "requests in nginx's log vs totals.requests" "$(nginx_log_count)" \
        "$(fv totals.requests)" 2
fi
case_end

case_begin "user classes 3:1: 4 users give 3 readers and 1 writer, 5 give 4 and 1"
for n in 4 5; do
    user_run 15 users_classes -u "$n" -r 100 -d 1s "$BASE/"
    expect_rc 0
    if expect_result; then
        check_result "$R"
        expect_eq "-u $n: users that started as readers" "$(ep 'start reader' requests)" \
            "$((n - 1))"
        expect_eq "-u $n: users that started as writers" "$(ep 'start writer' requests)" 1
        expect_eq "-u $n: readers that stopped (on_stop)" "$(ep 'stop reader' requests)" \
            "$((n - 1))"
        expect_eq "-u $n: writers that stopped (on_stop)" "$(ep 'stop writer' requests)" 1
    fi
done
case_end

case_begin "think time constant(0.2): 2 users for 2 s send about 20 requests"
user_run 15 users_think -u 2 -r 100 -d 2s "$BASE/"
expect_rc 0
if expect_result; then
    check_result "$R"
    req=$(fv totals.requests)
    expect_between "totals.requests" "$req" "$(awk -v t="$TOL" 'BEGIN { print int(14 / t) }')" 26
    settle
    expect_eq "requests in nginx's log vs totals.requests" "$(nginx_log_count)" "$req"
fi
case_end

case_begin "think time between(0.1, 0.3): 2 users for 2 s send about 20 requests"
user_run 15 users_between -u 2 -r 100 -d 2s "$BASE/"
expect_rc 0
if expect_result; then
    expect_between "totals.requests" "$(fv totals.requests)" \
        "$(awk -v t="$TOL" 'BEGIN { print int(12 / t) }')" 30
fi
case_end

case_begin "pacing(0.3) with tasks of 0.25 s: a task starts every 0.3 s, not every 0.55 s"
user_run 15 users_pacing -u 1 -d 1.8s "$BASE/"
expect_rc 0
if expect_result; then
    # pacing: tasks at 0, 0.3, ..., 1.5 s (6); a think time of 0.3 s after each task would give 4
    expect_between "tasks in 1.8 s (GET /ok requests)" "$(fv totals.requests)" 5 7
fi
case_end

case_begin "--think-scale 0.25 shortens constant(0.2): 2 users for 1 s send about 40 requests"
user_run 15 users_think -u 2 -r 100 -d 1s --think-scale 0.25 "$BASE/"
expect_rc 0
if expect_result; then
    # unscaled, the same run sends about 10
    expect_between "totals.requests (think 50 ms)" "$(fv totals.requests)" \
        "$(awk -v t="$TOL" 'BEGIN { print int(22 / t) }')" 45
fi
case_end

case_begin "--seed: the same seed gives the same random streams, another seed others"
seed_run() { # seed out-file
    export VOLLEY_TEST_OUT=$2
    rm -f "$2"
    user_run 15 users_seed -t 1 -u 3 -r 100 -d 0.5s --seed "$1" "$BASE/"
    expect_rc 0
    sort -o "$2" "$2" 2>/dev/null
}
seed_run 11 "$T/seed-a"
seed_run 11 "$T/seed-b"
seed_run 12 "$T/seed-c"
expect_eq "lines written by on_start" "$(wc -l <"$T/seed-a" 2>/dev/null | tr -d ' ')" 3
expect_eq "random numbers with seed 11, run 1 vs run 2" \
    "$(sed 's/ uuid=.*//' "$T/seed-a")" "$(sed 's/ uuid=.*//' "$T/seed-b")"
expect_ne "random numbers with seed 11 vs seed 12" \
    "$(sed 's/ uuid=.*//' "$T/seed-a")" "$(sed 's/ uuid=.*//' "$T/seed-c")"
expect_eq "distinct random streams among the 3 users" \
    "$(sed 's/.* r=//; s/ uuid=.*//' "$T/seed-a" | sort -u | wc -l | tr -d ' ')" 3
expect_eq "uuids of the form 8-4-4-4-12 (version 4)" \
    "$(grep -Ec 'uuid=[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$' \
        "$T/seed-a")" 3
case_end

# ---- cookies ---------------------------------------------------------------------------------

case_begin "cookies kept per user, not shared: setters get 200, the others 401 (one thread)"
user_run 15 users_cookies -t 1 -u 4 -r 100 -d 1s "$BASE/"
expect_rc 0
if expect_result; then
    check_result "$R"
    setter=$(ep 'need-cookie (setter)' requests)
    stranger=$(ep 'need-cookie (stranger)' requests)
    expect_cmp "requests of the setters" "$setter" ">" 4
    expect_cmp "requests of the strangers" "$stranger" ">" 4
    expect_eq "ok among the setters' requests" "$(ep 'need-cookie (setter)' ok)" "$setter"
    expect_eq "ok among the strangers' requests (401 expected)" \
        "$(ep 'need-cookie (stranger)' ok)" "$stranger"
    expect_eq "check 'setter gets 200' fails" "$(chk 'setter gets 200' fails)" 0
    expect_eq "check 'stranger gets 401' fails" "$(chk 'stranger gets 401' fails)" 0
    expect_eq "check 'setter gets 200' passes" "$(chk 'setter gets 200' passes)" "$setter"
    settle
    expect_eq "/set-cookie requests in nginx's log (once per setter)" \
        "$(log_path_count /set-cookie)" 2
    expect_eq "200s on /need-cookie in nginx's log" "$(log_path_status_count /need-cookie 200)" \
        "$setter"
    expect_eq "401s on /need-cookie in nginx's log" "$(log_path_status_count /need-cookie 401)" \
        "$stranger"
fi
case_end

case_begin "cookie attributes: Path scopes the cookie, Max-Age=0 and a past Expires drop it"
user_run 15 users_cookie_attrs -t 1 -u 3 -r 100 -d 1s "$BASE/"
expect_rc 0
if expect_result; then
    check_result "$R"
    for c in "cookie of /private not sent to /need-cookie" \
        "cookie of /private sent to /private/need-cookie" "cookie sent before Max-Age=0" \
        "cookie dropped after Max-Age=0" "cookie with a past Expires not sent"; do
        expect_cmp "check '$c' passes" "$(chk "$c" passes)" ">" 0
        expect_eq "check '$c' fails" "$(chk "$c" fails)" 0
    done
fi
case_end

case_begin "Secure cookies: not sent over http"
user_run 15 users_secure -u 2 -r 100 -d 1s "$BASE/"
expect_rc 0
if expect_result; then
    expect_cmp "check 'secure cookie sent' fails (over http)" "$(chk 'secure cookie sent' fails)" \
        ">" 0
    expect_eq "check 'secure cookie sent' passes (over http)" \
        "$(chk 'secure cookie sent' passes)" 0
fi
case_end

case_begin "Secure cookies: sent over https"
if [ "$TLS_READY" = 1 ]; then
    user_run 15 users_secure -u 2 -r 100 -d 1s --cacert "$TLS_CERTS/ca.pem" \
        "https://127.0.0.1:$TLS_PORT/"
    expect_rc 0
    if expect_result; then
        expect_cmp "check 'secure cookie sent' passes (over https)" \
            "$(chk 'secure cookie sent' passes)" ">" 0
        expect_eq "check 'secure cookie sent' fails (over https)" \
            "$(chk 'secure cookie sent' fails)" 0
    fi
else
    fail_reason "setup: the TLS nginx did not serve /set-cookie-secure and /need-cookie"
fi
case_end

case_begin "csv(): each user takes the next row (3 rows, 3 users on 2 threads: 3 tokens)"
printf 'user,token\nann,tok-ann\nbob,tok-bob\ncid,tok-cid\n' >"$T/accounts.csv"
export CSV_FILE=$T/accounts.csv
user_run 15 users_csv -t 2 -u 3 -r 100 -d 1s "$BASE/"
expect_rc 0
if expect_result; then
    settle
    expect_eq "distinct connections in nginx's log" "$(nginx_log_connections)" 3
    expect_eq "tokens sent on the 3 connections" \
        "$(awk '{ print $1, $8, $9 }' "$NGX_LOG" | sort -u | cut -d' ' -f2- | sort | tr '\n' ' ')" \
        '"Bearer tok-ann" "Bearer tok-bob" "Bearer tok-cid" '
fi
case_end

case_begin "a server that closes after every response: each user reconnects, nothing fails"
user_run 15 users_close -u 2 -r 100 -d 1s "http://127.0.0.1:$NGX_CLOSE_PORT/"
expect_rc 0
if expect_result; then
    check_result "$R"
    req=$(fv totals.requests)
    expect_cmp "totals.requests" "$req" ">" 10
    expect_eq "totals.failed" "$(fv totals.failed)" 0
    expect_eq "check 'body of small.txt' passes" "$(chk 'body of small.txt' passes)" "$req"
    expect_eq "totals.connections_opened (one per request)" "$(fv totals.connections_opened)" \
        "$req"
    settle
    expect_eq "requests in nginx's log" "$(nginx_log_count "$NGX_CLOSE_LOG")" "$req"
    expect_eq "distinct connections in nginx's log" \
        "$(nginx_log_connections "$NGX_CLOSE_LOG")" "$req"
fi
case_end

# ---- checks, retries, redirects, gzip --------------------------------------------------------

case_begin "checks: passes and fails counted, failed checks and r:fail() fail their request"
user_run 15 users_checks -u 2 -r 100 -d 1s "$BASE/"
expect_rc 0
if expect_result; then
    check_user_partition "$R"
    n=$(ep checked requests)
    expect_cmp "requests named 'checked'" "$n" ">" 2
    expect_eq "check 'status is 200' passes" "$(chk 'status is 200' passes)" "$n"
    expect_eq "check 'status is 200' fails" "$(chk 'status is 200' fails)" 0
    expect_eq "check 'body is nope' passes" "$(chk 'body is nope' passes)" 0
    expect_eq "check 'body is nope' fails" "$(chk 'body is nope' fails)" "$n"
    expect_eq "failed requests named 'checked'" "$(ep checked failed)" "$n"
    expect_eq "errors.check of 'checked'" "$(ep_err checked check)" "$n"
    expect_eq "failures row (checked, check failed: body is nope)" \
        "$(failure_count checked 'body is nope')" "$n"
    expect_eq "failed requests named 'failed by hand'" "$(ep 'failed by hand' failed)" "$n"
    expect_eq "failures row (failed by hand, wrong flavour)" \
        "$(failure_count 'failed by hand' '^wrong flavour$')" "$n"
    expect_eq "ok among 'expected 404' (expect = {404})" "$(ep 'expected 404' ok)" "$n"
    expect_eq "check 'expected 404 is ok' fails" "$(chk 'expected 404 is ok' fails)" 0
    expect_eq "status_4xx of 'plain 404'" "$(ep_err 'plain 404' status_4xx)" "$n"
    expect_eq "check 'plain 404 is not ok' fails" "$(chk 'plain 404 is not ok' fails)" 0
    expect_eq "errors.check (totals)" "$(fv errors.check)" "$((2 * n))"
    expect_file_has "summary has a Checks table" "$V_OUT" '^ *Checks'
    expect_file_has "summary has a Failures table with 'wrong flavour'" "$V_OUT" \
        "failed by hand.*wrong flavour"
    expect_file_has "summary lists 'body is nope' with 0 passes" "$V_OUT" \
        "body is nope +0 +$n\$"
fi
case_end

case_begin "retries: a 503 with attempts = 3 sends 3 requests per task, all in the statistics"
user_run 15 users_retry -u 2 -r 100 -d 1s "$BASE/"
expect_rc 0
if expect_result; then
    check_result "$R"
    tasks=$(ep tasks requests)
    expect_cmp "tasks run" "$tasks" ">" 2
    expect_eq "requests of GET /s503 (3 per task)" "$(ep 'GET /s503' requests)" "$((tasks * 3))"
    expect_eq "status_503 of GET /s503" "$(ep_err 'GET /s503' status_503)" "$((tasks * 3))"
    expect_eq "errors.status_503" "$(fv errors.status_503)" "$((tasks * 3))"
    expect_eq "check 'last attempt is a 503' fails" "$(chk 'last attempt is a 503' fails)" 0
    settle
    expect_eq "503s in nginx's log" "$(log_path_status_count /s503 503)" "$((tasks * 3))"
    expect_eq "requests in nginx's log vs totals.requests" "$(nginx_log_count)" \
        "$(fv totals.requests)"
fi
case_end

case_begin "retries from options.retry (attempts = 2): 2 requests for the task of each user"
user_run 15 users_retry_opts -u 2 -r 100 -d 0.5s "$BASE/"
expect_rc 0
if expect_result; then
    check_result "$R"
    expect_eq "requests of GET /s503" "$(ep 'GET /s503' requests)" 4
    settle
    expect_eq "503s in nginx's log" "$(log_path_status_count /s503 503)" 4
fi
case_end

case_begin "retries honour Retry-After (1 s) over a 10 ms backoff: 3 attempts take >= 2 s"
user_run 15 users_retry_after -u 1 -d 0.5s "$BASE/"
expect_rc 0
expect_cmp "wall time of the run (the task waits 2 x 1 s)" "$V_SECS" ">=" 1.9
expect_cmp "wall time of the run" "$V_SECS" "<" "$(tol 6)"
if expect_result; then
    expect_eq "requests of GET /s429" "$(ep 'GET /s429' requests)" 3
    expect_eq "errors.status_429" "$(fv errors.status_429)" 3
    settle
    expect_eq "429s in nginx's log" "$(log_path_status_count /s429 429)" 3
fi
case_end

case_begin "redirects: a 302 is followed, both hops sent and counted; follow_redirects = false"
user_run 15 users_redirect -u 2 -r 100 -d 1s "$BASE/"
expect_rc 0
if expect_result; then
    check_result "$R"
    check_sums "$R" 3
    expect_eq "check 'redirect followed to 200' fails" "$(chk 'redirect followed to 200' fails)" 0
    expect_eq "check 'body of the target' fails" "$(chk 'body of the target' fails)" 0
    expect_eq "check '302 seen when not following' fails" \
        "$(chk '302 seen when not following' fails)" 0
    nf=$(ep 'not followed' requests)
    expect_cmp "requests named 'not followed'" "$nf" ">" 2
    req=$(fv totals.requests)
    expect_eq "totals.requests (3 hops per task)" "$req" "$((nf * 3))"
    settle
    expect_eq "/target requests in nginx's log (one per followed redirect)" \
        "$(log_path_count /target)" "$nf"
    expect_eq "/redirect requests in nginx's log" "$(log_path_count /redirect)" "$((nf * 2))"
    expect_eq "requests in nginx's log vs totals.requests" "$(nginx_log_count)" "$req"
fi
case_end

case_begin "gzip: Accept-Encoding sent, the body decoded to the file, headers case-insensitive"
export GZ_FILE
user_run 15 users_gzip -u 2 -r 100 -d 1s "$BASE/"
expect_rc 0
if expect_result; then
    check_result "$R"
    n=$(ep 'GET /gz.txt' requests)
    expect_cmp "requests of GET /gz.txt" "$n" ">" 2
    for c in "sent gzip" "header names case-insensitive" "body decoded"; do
        expect_eq "check '$c' passes" "$(chk "$c" passes)" "$n"
        expect_eq "check '$c' fails" "$(chk "$c" fails)" 0
    done
    size=$(wc -c <"$GZ_FILE" | tr -d ' ')
    expect_cmp "bytes_in per request (compressed; the file has $size bytes)" \
        "$(rv 'd["totals"]["bytes_in"] // max(d["totals"]["responses"], 1)')" "<" "$((size / 2))"
fi
case_end

case_begin "requests, headers, JSON bodies and timeouts (userserver.py /echo and /slow)"
[ "$US_READY" = 1 ] || fail_reason "setup: userserver.py did not start"
: >"$US_LOG"
user_run 20 users_echo -u 2 -r 100 -d 1s "http://127.0.0.1:$US_PORT/"
expect_rc 0
if expect_result; then
    check_result "$R"
    expect_eq "checks that failed" \
        "$(awk -F'\t' '$1 == "chk" && $3 == "fails" && $4 != 0 { printf "%s ", $2 }' "$F")" ""
    expect_eq "checks recorded" "$(awk -F'\t' '$1 == "chk" && $3 == "fails"' "$F" | wc -l)" 14
    expect_cmp "passes of 'json body sent'" "$(chk 'json body sent' passes)" ">" 0
    expect_eq "endpoint of the PATCH (named 'patch')" "$(ep patch method)" PATCH
    expect_eq "errors.timeout of 'timed out' (timeout = 0.3 s)" \
        "$(ep_err 'timed out' timeout)" "$(ep 'timed out' requests)"
    expect_eq "config.timeout_ms (60 s default in user mode)" \
        "$(fv config.timeout_ms)" 60000
fi
case_end

# ---- thresholds ------------------------------------------------------------------------------

case_begin "thresholds from options and --threshold pass: exit 0, listed as passed"
user_run 15 users_thresholds -u 2 -r 100 -d 1s --threshold '"GET /ok".p99 < 30s' \
    --threshold '5xx == 0' "$BASE/"
expect_rc 0
if expect_result; then
    expect_eq "thresholds in the results file" "$(rv 'len(d["thresholds"])')" 4
    expect_eq "thresholds that failed" \
        "$(rv '[t["expr"] for t in d["thresholds"] if not t["pass"]]')" "[]"
    expect_eq "expressions" "$(rv 'sorted(t["expr"] for t in d["thresholds"])')" \
        '["\"GET /ok\".p99 < 30s", "5xx == 0", "p99 < 30s", "success >= 99%"]'
fi
expect_file_lacks "no FAIL line in the summary" "$V_OUT" '^ *FAIL '
case_end

case_begin "broken thresholds: exit 1, FAIL lines in the summary and pass false in the file"
user_run 15 users_thresholds -u 2 -r 100 -d 1s --threshold 'requests > 100000000' \
    --threshold '"GET /ok".max < 0ms' "$BASE/"
expect_rc 1
if expect_result; then
    expect_eq "thresholds that failed" \
        "$(rv 'sorted(t["expr"] for t in d["thresholds"] if not t["pass"])')" \
        '["\"GET /ok\".max < 0ms", "requests > 100000000"]'
    expect_eq "measured value of 'requests > 100000000'" \
        "$(rv 'next(t["value"] for t in d["thresholds"] if t["expr"].startswith("requests"))')" \
        "$(fv totals.requests)"
fi
expect_file_has "summary lists the Thresholds" "$V_OUT" '^ *Thresholds'
expect_file_has "summary has a FAIL line for requests" "$V_OUT" 'FAIL +requests > 100000000'
expect_file_has "summary has a FAIL line for GET /ok max" "$V_OUT" 'FAIL +"GET /ok"\.max < 0ms'
case_end

case_begin "a 5xx threshold broken by 503s; success rate below its bound"
user_run 15 users_retry -u 1 -d 1s --threshold '5xx < 1' --threshold 'success >= 99%' "$BASE/"
expect_rc 1
if expect_result; then
    expect_eq "thresholds that failed" \
        "$(rv 'sorted(t["expr"] for t in d["thresholds"] if not t["pass"])')" \
        '["5xx < 1", "success >= 99%"]'
fi
case_end

case_begin "an unparseable threshold: exit 2 before any load, message names it"
user_run 15 users_thresholds -u 1 -d 1s --threshold 'p99 <' "$BASE/"
expect_rc 2
expect_file_has "stderr quotes the threshold" "$V_ERR" 'p99 <'
expect_eq "requests in nginx's log" "$(nginx_log_count)" 0
case_end

# ---- names, script errors --------------------------------------------------------------------

case_begin "request names: /item/1, /item/2, /item/345?q, /item/<uuid> share 'GET /item/:id'"
user_run 15 users_names -u 2 -r 100 -d 1s "$BASE/"
expect_rc 0
if expect_result; then
    check_result "$R"
    check_sums "$R" 3
    expect_eq "endpoint names" "$(rv '[e["name"] for e in d["endpoints"]]')" '["GET /item/:id"]'
    req=$(fv totals.requests)
    expect_eq "requests of GET /item/:id" "$(ep 'GET /item/:id' requests)" "$req"
    expect_eq "requests divisible by 4 (four per task)" "$((req % 4))" 0
    settle
    expect_eq "/item/2 in nginx's log (paths sent unchanged)" "$(log_path_count /item/2)" \
        "$((req / 4))"
    expect_eq "/item/345?view=full in nginx's log" "$(log_path_count '/item/345?view=full')" \
        "$((req / 4))"
fi
case_end

case_begin "a Lua error in a task: errors.script under the task's name with file:line, run goes on"
user_run 15 users_task_error -u 2 -r 100 -d 1s --seed 3 "$BASE/"
line=$(marker_line users_task_error)
expect_rc 0
if expect_result; then
    check_result "$R"
    boom=$(ep boom requests)
    expect_cmp "errors recorded under 'boom'" "$boom" ">" 2
    expect_eq "method of 'boom'" "$(ep boom method)" TASK
    expect_eq "errors.script of 'boom'" "$(ep_err boom script)" "$boom"
    expect_eq "failures row (boom, users_task_error.lua:$line: boom in a task)" \
        "$(failure_count boom "users_task_error\\.lua:$line: boom in a task")" "$boom"
    decode=$(ep decode requests)
    expect_cmp "errors recorded under 'decode' (json() of a text body)" "$decode" ">" 0
    expect_eq "errors.script of 'decode'" "$(ep_err decode script)" "$decode"
    expect_eq "failures row (decode, not JSON)" "$(failure_count decode 'not JSON')" "$decode"
    expect_eq "errors.script (totals)" "$(fv errors.script)" "$((boom + decode))"
    expect_cmp "GET /ok requests (users carried on after errors)" "$(ep 'GET /ok' requests)" \
        ">" "$boom"
    expect_eq "failed GET /ok requests (the request before the error stays ok)" \
        "$(ep 'GET /ok' failed)" 0
    expect_cmp "script_errors" "$(fv script_errors)" ">=" "$((boom + decode))"
fi
expect_file_has "stdout has 'Script errors' with file:line" "$V_OUT" \
    "Script errors: [0-9]+, first: .*users_task_error\\.lua:[0-9]+:"
case_end

case_begin "a Lua error in on_start stops that user (not replaced), reported once with its count"
user_run 15 users_start_error -u 4 -r 100 -d 1s "$BASE/"
line=$(marker_line users_start_error)
expect_rc 0
if expect_result; then
    check_result "$R"
    expect_eq "errors.script" "$(fv errors.script)" 2
    expect_eq "failures rows for on_start" \
        "$(failure_rows on_start)" 1
    expect_eq "failures row (on_start, users_start_error.lua:$line: cannot sign in)" \
        "$(failure_count on_start "users_start_error\\.lua:$line: cannot sign in")" 2
    expect_cmp "GET /ok requests (the two other users walk)" "$(ep 'GET /ok' requests)" ">" 2
    settle
    expect_eq "distinct connections in nginx's log (2 users left)" "$(nginx_log_connections)" 2
fi
case_end

# ---- precedence and the command line ---------------------------------------------------------

case_begin "precedence: options.users 2 < --preset light (3) < -u 4"
user_run 15 users_precedence "$BASE/"
expect_rc 0
[ -n "$R" ] && expect_eq "users from options" "$(fv config.users)" 2
expect_near "duration from options (0.5s)" "$(fv duration_s)" 0.5 "$(tol 0.3)"
user_run 15 users_precedence --preset light "$BASE/"
expect_rc 0
[ -n "$R" ] && expect_eq "users from --preset light" "$(fv config.users)" 3
[ -n "$R" ] && expect_eq "config.preset" "$(fv config.preset)" light
settle
expect_eq "distinct connections in nginx's log with the preset" "$(nginx_log_connections)" 3
user_run 15 users_precedence --preset light -u 4 --run-time 1s --headless "$BASE/"
expect_rc 0
[ -n "$R" ] && expect_eq "users from -u" "$(fv config.users)" 4
expect_near "duration from --run-time 1s" "$(fv duration_s)" 1 "$(tol 0.3)"
user_run 15 users_precedence --preset heavy "$BASE/"
expect_rc 2
expect_file_has "an unknown preset is named" "$V_ERR" 'heavy'
case_end

case_begin "a request count the server agrees with: no think time, 4 users, 1 s"
user_run 15 users_weights -u 4 -r 100 -d 1s "$BASE/"
expect_rc 0
if expect_result; then
    check_result "$R"
    check_sums "$R" 3
    req=$(fv totals.requests)
    expect_cmp "totals.requests" "$req" ">" 100
    settle
    expect_near "requests in nginx's log vs totals.requests" "$(nginx_log_count)" "$req" 2
    expect_eq "non-200 lines in nginx's log" "$(awk '$3 != 200' "$NGX_LOG" | wc -l | tr -d ' ')" 0
    expect_eq "distinct connections in nginx's log" "$(nginx_log_connections)" 4
fi
case_end

case_begin "refusals: no user class with -u, a class without tasks, both styles, -t 300s (exit 2)"
user_run 10 users_noclass -u 2 -d 1s "$BASE/"
expect_rc 2
expect_file_has "stderr says there is no user class" "$V_ERR" 'no user class'
user_run 10 users_notask -u 2 -d 1s "$BASE/"
expect_rc 2
expect_file_has "stderr says the class has no task" "$V_ERR" 'task'
user_run 10 users_both -d 1s "$BASE/"
expect_rc 2
expect_file_has "stderr says both styles" "$V_ERR" 'both'
user_run 10 users_think -t 300s "$BASE/"
expect_rc 2
expect_file_has "stderr points to -d" "$V_ERR" '(^|[^a-z-])-d([^a-z]|$)'
expect_file_has "stderr points to --run-time" "$V_ERR" '--run-time'
expect_eq "requests in nginx's log" "$(nginx_log_count)" 0
case_end

tests_done
