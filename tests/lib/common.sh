# common.sh: shared helpers of the integration tests: named cases, assertions that print both
# shellcheck shell=bash disable=SC2034
# values, volley run under a timeout, results-file reading, free ports and cleanup on exit.
# Sourced (not run) by tests/integration/test_*.sh, which run under bash with `set -u`.

TESTS_LIB=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)

SANITIZE=${SANITIZE:-0}
if [ "$SANITIZE" = 1 ]; then
    VOLLEY=${VOLLEY:-./volley-san}
    TOL=2 # every time tolerance doubles under ASan and UBSan
else
    VOLLEY=${VOLLEY:-./volley}
    TOL=1
fi
case "$VOLLEY" in
    /*) ;;
    *) VOLLEY="$PWD/$VOLLEY" ;;
esac
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}

# Every test file gets one scratch directory, removed at exit with everything started.
T=$(mktemp -d "${TMPDIR:-/tmp}/volley-test.XXXXXX")
chmod 755 "$T"
_cleanups=()
_passed=0
_failed=0

# Registers a command to run when the test file exits (last registered runs first).
at_exit() {
    _cleanups=("$1" "${_cleanups[@]}")
}

_run_cleanups() {
    local c
    for c in "${_cleanups[@]}"; do
        eval "$c" >/dev/null 2>&1 || true
    done
    rm -rf "$T"
}
trap _run_cleanups EXIT
trap 'exit 143' TERM
trap 'exit 130' INT

# ---- cases -----------------------------------------------------------------------------------

CASE=""
_case_reasons=()

# Starts a named case; its assertions collect failure reasons until case_end.
case_begin() {
    CASE=$1
    _case_reasons=()
    V_CMD=""
    V_ERR=""
}

# Records one failure reason in the current case.
fail_reason() {
    _case_reasons+=("$1")
}

# Ends the case: prints "ok   NAME" or "FAIL NAME" and the reasons, with the last command run.
case_end() {
    local r
    if [ ${#_case_reasons[@]} -eq 0 ]; then
        printf 'ok   %s\n' "$CASE"
        _passed=$((_passed + 1))
        return 0
    fi
    printf 'FAIL %s\n' "$CASE"
    for r in "${_case_reasons[@]}"; do
        printf '    %s\n' "$r"
    done
    if [ -n "$V_CMD" ]; then
        printf '    last command: %s\n' "$V_CMD"
        printf '    its exit code: %s, after %ss\n' "$V_RC" "$V_SECS"
        if [ -s "$V_OUT" ]; then
            printf '    its stdout (last 8 lines):\n'
            tail -n 8 "$V_OUT" | sed 's/^/      | /'
        fi
        if [ -s "$V_ERR" ]; then
            printf '    its stderr (first 8 lines):\n'
            head -n 8 "$V_ERR" | sed 's/^/      | /'
        fi
    fi
    _failed=$((_failed + 1))
    return 1
}

# Last call of a test file: exits non-zero when a case failed.
tests_done() {
    [ "$_failed" -eq 0 ]
    exit $?
}

# ---- assertions (each prints both values when it fails) --------------------------------------

_num() {
    [[ "$1" =~ ^-?[0-9]+(\.[0-9]+)?([eE][-+]?[0-9]+)?$ ]]
}

expect_eq() { # label got want
    [ "$2" == "$3" ] || fail_reason "$1: got '$2', expected '$3'"
}

expect_ne() { # label got unwanted
    [ "$2" != "$3" ] || fail_reason "$1: got '$2', expected anything else"
}

# Numeric comparison with awk, so floats work: expect_cmp label got op want (op: < <= > >= ==).
expect_cmp() {
    if ! _num "$2" || ! _num "$4"; then
        fail_reason "$1: got '$2', expected a number $3 '$4'"
        return
    fi
    if ! awk -v a="$2" -v b="$4" -v op="$3" 'BEGIN {
            r = 0
            if (op == "<") { r = a < b }
            if (op == "<=") { r = a <= b }
            if (op == ">") { r = a > b }
            if (op == ">=") { r = a >= b }
            if (op == "==") { r = a == b }
            exit !r
        }'; then
        fail_reason "$1: got $2, expected $3 $4"
    fi
}

expect_between() { # label got lo hi (inclusive)
    if ! _num "$2" || ! awk -v a="$2" -v lo="$3" -v hi="$4" 'BEGIN { exit !(a >= lo && a <= hi) }'
    then
        fail_reason "$1: got '$2', expected within [$3, $4]"
    fi
}

expect_match() { # label string extended-regex
    [[ "$2" =~ $3 ]] || fail_reason "$1: got '$2', expected to match /$3/"
}

expect_file_has() { # label file extended-regex
    if ! grep -Eq -- "$3" "$2" 2>/dev/null; then
        fail_reason "$1: no line of $(basename "$2") matches /$3/ ($(wc -l <"$2" 2>/dev/null || echo 0) lines)"
    fi
}

expect_file_lacks() { # label file extended-regex
    local hit
    hit=$(grep -Em1 -- "$3" "$2" 2>/dev/null)
    [ -z "$hit" ] || fail_reason "$1: found '$hit', expected no line matching /$3/"
}

# Absolute difference within a bound: expect_near label got want max_diff.
expect_near() {
    if ! _num "$2" || ! _num "$3" ||
        ! awk -v a="$2" -v b="$3" -v d="$4" 'BEGIN { x = a - b; if (x < 0) x = -x; exit !(x <= d) }'
    then
        fail_reason "$1: got $2, expected $3 within +-$4"
    fi
}

# ---- running volley --------------------------------------------------------------------------

V_N=0
V_RC=0
V_SECS=0
V_OUT=""
V_ERR=""
V_CMD=""
V_RESULT=""

# Runs volley with a hard time limit (seconds, scaled by TOL), from the current directory.
# Sets V_RC, V_SECS, V_OUT and V_ERR (files), V_RESULT (the path after "Results: ", or empty).
# A run that hits the limit, or any sanitizer report, is a failure of the current case.
vrun() {
    local limit_s
    limit_s=$(awk -v a="$1" -v t="$TOL" 'BEGIN { print a * t }')
    shift
    V_N=$((V_N + 1))
    V_OUT="$T/v$V_N.out"
    V_ERR="$T/v$V_N.err"
    V_CMD="volley $*"
    local t0 t1
    t0=$(date +%s.%N)
    timeout -k 3 "$limit_s" "${VRUN_PREFIX[@]}" "$VOLLEY" "$@" >"$V_OUT" 2>"$V_ERR" </dev/null
    V_RC=$?
    t1=$(date +%s.%N)
    V_SECS=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.2f", b - a }')
    if [ "$V_RC" -eq 124 ] || [ "$V_RC" -eq 137 ]; then
        fail_reason "volley did not finish within ${limit_s}s (killed by timeout, exit $V_RC)"
    fi
    check_sanitizers "$V_ERR"
    V_RESULT=$(sed -n 's/^Results: //p' "$V_OUT" | tail -n 1)
}

# Commands put before volley by vrun (set by vrun_rss).
VRUN_PREFIX=()

# vrun with the peak RSS of volley (KiB) measured by /usr/bin/time into V_RSS_KB.
vrun_rss() {
    local f=$T/rss.$((V_N + 1))
    VRUN_PREFIX=(/usr/bin/time -f '%M' -o "$f")
    vrun "$@"
    VRUN_PREFIX=()
    V_RSS_KB=$(tail -n 1 "$f" 2>/dev/null)
}

# Fails the case when a sanitizer or a crash left its mark in a stderr file.
check_sanitizers() {
    local hit
    hit=$(grep -Em1 'ERROR: (Address|Leak|Thread|Memory)Sanitizer|runtime error:|Segmentation fault|core dumped' "$1" 2>/dev/null)
    [ -z "$hit" ] || fail_reason "sanitizer or crash report on stderr: $hit"
    if [ "$V_RC" -ge 128 ] && [ "$V_RC" -ne 130 ] && [ "$V_RC" -ne 137 ]; then
        fail_reason "volley died from signal $((V_RC - 128)) (exit $V_RC)"
    fi
}

# The run's exit code must be want.
expect_rc() {
    expect_eq "exit code" "$V_RC" "$1"
}

# The results file the last run named must exist; echoes nothing, fails the case otherwise.
expect_result() {
    if [ -z "$V_RESULT" ]; then
        fail_reason "no 'Results: <path>' line on stdout"
        return 1
    fi
    if [ ! -f "$V_RESULT" ]; then
        fail_reason "results file '$V_RESULT' named on stdout does not exist"
        return 1
    fi
    return 0
}

# ---- the results file ------------------------------------------------------------------------

# Prints the value of a Python expression over the results file, loaded as `d`; lists and dicts
# as JSON. Prints "ERROR: ..." and returns 1 when the file or the expression fails.
jget() {
    python3 - "$1" "$2" <<'EOF'
import json, sys
try:
    with open(sys.argv[1]) as f:
        d = json.load(f)
    v = eval(sys.argv[2], {"d": d, "sum": sum, "len": len, "set": set})
except Exception as e:
    print("ERROR: %s: %s" % (type(e).__name__, e))
    sys.exit(1)
if isinstance(v, (dict, list)):
    print(json.dumps(v, sort_keys=True))
elif isinstance(v, bool):
    print("true" if v else "false")
elif isinstance(v, float) and v == int(v) and abs(v) < 1e15:
    print(int(v))
else:
    print(v)
EOF
}

# Checks what every results file must hold and records each violation in the current case:
# schema, every error class present, requests == ok + failed + in_flight, the classes
# partitioning the failures, responses split into ok and status failures, ordered percentiles.
check_result() {
    local problems
    problems=$(python3 - "$1" <<'EOF'
import json, sys
CLASSES = ["dns", "connect", "tls", "write", "read", "timeout", "parse", "status_4xx",
           "status_429", "status_5xx", "status_503", "check", "script"]
PCTS = ["min", "p50", "p75", "p90", "p95", "p99", "p99_9", "p99_99", "max"]
out = []
try:
    with open(sys.argv[1]) as f:
        d = json.load(f)
except Exception as e:
    print("results file is not JSON: %s" % e)
    sys.exit(0)

def get(obj, *path):
    for k in path:
        if not isinstance(obj, dict) or k not in obj:
            out.append("results file lacks %s" % ".".join(path))
            return None
        obj = obj[k]
    return obj

if d.get("schema") != "volley.result/1":
    out.append("schema: got %r, expected 'volley.result/1'" % d.get("schema"))
for k in ["url", "threads", "connections", "timeout_ms", "headers", "tls_verify"]:
    get(d, "config", k)
t = get(d, "totals") or {}
tk = ["requests", "responses", "ok", "failed", "in_flight", "bytes_in", "bytes_out", "rps",
      "connections_opened"]
for k in tk:
    get(d, "totals", k)
errs = get(d, "errors") or {}
for k in CLASSES:
    if k not in errs:
        out.append("errors lacks class %s (has %s)" % (k, sorted(errs)))
lat = get(d, "totals", "latency_ms") or {}
for k in ["min", "mean", "stdev"] + PCTS[1:]:
    if k not in lat:
        out.append("totals.latency_ms lacks %s" % k)
if all(k in t for k in tk):
    r, ok, fl, inf = t["requests"], t["ok"], t["failed"], t["in_flight"]
    if r != ok + fl + inf:
        out.append("requests == ok + failed + in_flight: got %d, expected %d + %d + %d = %d"
                   % (r, ok, fl, inf, ok + fl + inf))
    if t["responses"] > r:
        out.append("responses <= requests: got responses %d, requests %d" % (t["responses"], r))
    if all(k in errs for k in CLASSES):
        s = sum(errs[k] for k in CLASSES)
        if s != fl:
            out.append("error classes partition failures: sum of errors %d, totals.failed %d (%s)"
                       % (s, fl, {k: v for k, v in errs.items() if v}))
        st = sum(errs[k] for k in ["status_4xx", "status_429", "status_5xx", "status_503"])
        # A response may still fail a check, a script callback or decoding (gzip).
        judged = errs["check"] + errs["script"] + errs["parse"]
        if not (ok + st <= t["responses"] <= ok + st + judged):
            out.append("ok + status failures (+ check/script/parse) == responses: got %d + %d"
                       " (+ %d), responses %d" % (ok, st, judged, t["responses"]))
    if t["responses"] > 0 and all(k in lat for k in PCTS):
        vals = [lat[k] for k in PCTS]
        if any(a > b + 1e-9 for a, b in zip(vals, vals[1:])):
            out.append("latency_ms not ordered min<=p50<=...<=max: %s" % vals)
if not isinstance(d.get("endpoints"), list):
    out.append("endpoints is not a list")
if not isinstance(d.get("timeseries"), list):
    out.append("timeseries is not a list")
print("\n".join(out))
EOF
)
    local line
    while IFS= read -r line; do
        [ -n "$line" ] && fail_reason "$line"
    done <<<"$problems"
}

# For runs against a working server: the endpoint rows and the per-second points add up to
# the totals (requests within `slack`, for a point that may still be open at the stop).
check_sums() {
    local problems
    problems=$(python3 - "$1" "$2" <<'EOF'
import json, sys
d = json.load(open(sys.argv[1]))
slack = int(sys.argv[2])
t = d["totals"]
out = []
eps = d.get("endpoints") or []
er = sum(e.get("requests", 0) for e in eps)
if er != t["requests"]:
    out.append("sum of endpoints[].requests %d != totals.requests %d" % (er, t["requests"]))
ts = d.get("timeseries") or []
tr = sum(p.get("requests", 0) for p in ts)
if abs(tr - t["requests"]) > slack:
    out.append("sum of timeseries[].requests %d, totals.requests %d (allowed +-%d)"
               % (tr, t["requests"], slack))
secs = [p.get("second") for p in ts]
if secs != sorted(secs) or (secs and secs[0] != 0):
    out.append("timeseries seconds not ascending from 0: %s" % secs[:10])
print("\n".join(out))
EOF
)
    local line
    while IFS= read -r line; do
        [ -n "$line" ] && fail_reason "$line"
    done <<<"$problems"
}

# Value after a label in the last run's stdout, e.g. stdout_value 'Requests/sec:'.
stdout_value() {
    awk -v l="$1" 'index($0, l) { sub(".*" l "[ \t]*", ""); print $1; exit }' "$V_OUT"
}

# ---- ports -----------------------------------------------------------------------------------

# Prints a TCP port on 127.0.0.1 that nothing listens on right now.
free_port() {
    python3 -c 'import socket
s = socket.socket()
s.bind(("127.0.0.1", 0))
print(s.getsockname()[1])'
}

# Waits until host:port accepts connections, up to a number of seconds; 1 when it never does.
wait_port() {
    local host=$1 port=$2 secs=${3:-10} i
    for ((i = 0; i < secs * 20; i++)); do
        if (exec 3<>"/dev/tcp/$host/$port") 2>/dev/null; then
            return 0
        fi
        sleep 0.05
    done
    return 1
}

# Lets a server finish logging requests that were in flight when the client stopped.
settle() {
    sleep "$(awk -v t="$TOL" 'BEGIN { print 0.4 * t }')"
}

if [ ! -x "$VOLLEY" ]; then
    echo "FAIL setup: volley binary $VOLLEY is missing or not executable"
    exit 1
fi
