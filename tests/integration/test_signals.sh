#!/usr/bin/env bash
# test_signals.sh: SIGTERM or SIGINT during a 30 s run stops volley within seconds with exit 130,
# the summary printed and the results file written.
set -u
# shellcheck source=tests/lib/common.sh
. "$(dirname "$0")/../lib/common.sh"
# shellcheck source=tests/lib/nginx.sh
. "$TESTS_LIB/nginx.sh"
nginx_start || exit 1
cd "$T" || exit 1

URL=http://127.0.0.1:$NGX_PORT/small.txt

# Starts a 30 s run, sends it SIG after 2 s and checks how it ends.
signal_case() {
    local sig=$1 pid t0 t1 i limit_s
    case_begin "SIG$sig during a 30s run: exit 130 within seconds, summary and results"
    V_N=$((V_N + 1))
    V_OUT=$T/v$V_N.out
    V_ERR=$T/v$V_N.err
    V_CMD="volley -t2 -c10 -d30s --results $T/r-$sig $URL   (then kill -$sig after 2s)"
    # Background jobs of a script start with SIGINT ignored; reset it as a terminal user has it.
    python3 -c 'import os, signal, sys
signal.signal(signal.SIGINT, signal.SIG_DFL)
os.execv(sys.argv[1], sys.argv[1:])' "$VOLLEY" -t2 -c10 -d30s --results "$T/r-$sig" "$URL" \
        >"$V_OUT" 2>"$V_ERR" </dev/null &
    pid=$!
    sleep 2
    t0=$(date +%s.%N)
    kill "-$sig" "$pid"
    limit_s=$((5 * TOL))
    for ((i = 0; i < limit_s * 20; i++)); do
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.05
    done
    t1=$(date +%s.%N)
    V_SECS=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.2f", b - a }')
    if kill -0 "$pid" 2>/dev/null; then
        fail_reason "still running ${limit_s}s after SIG$sig; killed"
        kill -KILL "$pid" 2>/dev/null
    fi
    wait "$pid"
    V_RC=$?
    check_sanitizers "$V_ERR"
    V_RESULT=$(sed -n 's/^Results: //p' "$V_OUT" | tail -n 1)
    expect_rc 130
    expect_file_has "summary printed" "$V_OUT" '^Requests/sec:'
    if expect_result; then
        check_result "$V_RESULT"
        check_sums "$V_RESULT" 10
        expect_cmp "totals.ok" "$(jget "$V_RESULT" 'd["totals"]["ok"]')" ">" 0
        expect_between "duration_s (stopped after about 2 s)" \
            "$(jget "$V_RESULT" 'd["duration_s"]')" 1.5 "$((2 + limit_s))"
    fi
    case_end
}

signal_case TERM
signal_case INT

tests_done
