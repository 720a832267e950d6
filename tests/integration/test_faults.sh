#!/usr/bin/env bash
# test_faults.sh: volley against tests/lib/faultserver.py, one misbehaviour at a time: it never
# crashes or hangs, counts the right error class, and keeps requests == ok + failed + in_flight.
set -u
# shellcheck source=tests/lib/common.sh
. "$(dirname "$0")/../lib/common.sh"
# shellcheck source=tests/lib/fault.sh
. "$TESTS_LIB/fault.sh"
cd "$T" || exit 1

# Starts the fault server in MODE and runs volley at it with the given options; sets R to the
# results file (empty when there is none) after the common checks.
fault_run() {
    local mode=$1
    shift
    R=""
    if ! fault_start "$mode"; then
        fail_reason "fault server ($mode) did not start"
        return
    fi
    vrun 20 "$@" --results "$T/r-$mode" "http://127.0.0.1:$FAULT_PORT/$mode"
    fault_stop
    expect_rc 0
    if expect_result; then
        R=$V_RESULT
        check_result "$R"
    fi
}

# Shorthands for the figures of the last results file.
tot() { jget "$R" "d[\"totals\"][\"$1\"]"; }
err() { jget "$R" "d[\"errors\"][\"$1\"]"; }

case_begin "close: Connection: close answered by reconnecting, no errors"
fault_run close -t1 -c2 -d1s
if [ -n "$R" ]; then
    expect_cmp "totals.ok" "$(tot ok)" ">" 0
    expect_eq "totals.failed" "$(tot failed)" 0
    expect_cmp "totals.connections_opened" "$(tot connections_opened)" ">=" "$(tot ok)"
fi
case_end

case_begin "stall: --timeout 500ms counts timeouts, run ends on time"
fault_run stall -t1 -c4 -d2s --timeout 500ms
if [ -n "$R" ]; then
    expect_cmp "errors.timeout" "$(err timeout)" ">=" 4
    expect_eq "totals.ok" "$(tot ok)" 0
    expect_cmp "latency max of timed-out requests (ms)" \
        "$(jget "$R" 'd["totals"]["latency_ms"]["max"]')" ">=" 450
    expect_eq "config.timeout_ms" "$(jget "$R" 'd["config"]["timeout_ms"]')" 500
    expect_eq "timeout in the Socket errors line" \
        "$(sed -nE 's/^  Socket errors: connect [0-9]+, read [0-9]+, write [0-9]+, timeout ([0-9]+)$/\1/p' "$V_OUT")" \
        "$(err timeout)"
    expect_file_has "Errors line" "$V_OUT" "^  Errors: .*timeout $(err timeout)"
fi
expect_cmp "wall time (s) for -d2s --timeout 500ms" "$V_SECS" "<=" "$((3 + 2 * TOL))"
case_end

case_begin "garbage: counted as parse errors, no crash"
fault_run garbage -t1 -c2 -d1s
if [ -n "$R" ]; then
    expect_cmp "errors.parse" "$(err parse)" ">" 0
    expect_eq "totals.ok" "$(tot ok)" 0
fi
case_end

case_begin "chunked with extensions and trailers: every response ok"
fault_run chunked -t1 -c2 -d1s
if [ -n "$R" ]; then
    expect_cmp "totals.ok" "$(tot ok)" ">" 0
    expect_eq "totals.failed" "$(tot failed)" 0
    expect_cmp "totals.bytes_in" "$(tot bytes_in)" ">=" "$(($(tot responses) * 37))"
    expect_near "responses vs requests the server got" "$(tot responses)" "$(fault_requests)" 2
fi
case_end

case_begin "HTTP/1.0 close-delimited body: every response ok"
fault_run http10 -t1 -c2 -d1s
if [ -n "$R" ]; then
    expect_cmp "totals.ok" "$(tot ok)" ">" 0
    expect_eq "totals.failed" "$(tot failed)" 0
    expect_cmp "totals.bytes_in" "$(tot bytes_in)" ">=" "$(($(tot ok) * 1000))"
    expect_cmp "totals.connections_opened" "$(tot connections_opened)" ">=" "$(tot ok)"
fi
case_end

case_begin "interim 100 and 103 before the 200: one response per request"
fault_run interim -t1 -c2 -d1s
if [ -n "$R" ]; then
    expect_cmp "totals.ok" "$(tot ok)" ">" 0
    expect_eq "totals.failed" "$(tot failed)" 0
    expect_near "responses vs requests the server got" "$(tot responses)" "$(fault_requests)" 2
fi
case_end

case_begin "204 and 304 (with Content-Length) carry no body"
fault_run nocontent -t1 -c2 -d1s --timeout 1s
if [ -n "$R" ]; then
    expect_cmp "totals.ok" "$(tot ok)" ">" 10
    expect_eq "totals.failed" "$(tot failed)" 0
    expect_eq "errors.timeout" "$(err timeout)" 0
    expect_near "responses vs requests the server got" "$(tot responses)" "$(fault_requests)" 2
    expect_file_lacks "Non-2xx line (204 and 304 are not errors)" "$V_OUT" 'Non-2xx'
fi
case_end

case_begin "header block over 64 KiB: parse error, no crash"
fault_run bigheaders -t1 -c2 -d1s
if [ -n "$R" ]; then
    expect_cmp "errors.parse" "$(err parse)" ">" 0
    expect_eq "totals.ok" "$(tot ok)" 0
fi
case_end

case_begin "Content-Length 100 MB with --max-body 1M: parse error, not allocated"
if fault_start bigbody; then
    R=""
    vrun_rss 20 -t1 -c2 -d2s --max-body 1M --results "$T/r-bigbody" \
        "http://127.0.0.1:$FAULT_PORT/bigbody"
    fault_stop
    expect_rc 0
    if expect_result; then
        R=$V_RESULT
        check_result "$R"
        expect_cmp "errors.parse" "$(err parse)" ">" 0
        expect_eq "totals.ok" "$(tot ok)" 0
    fi
    # 100 MB per response must never be held: peak RSS stays far below one body.
    expect_cmp "peak RSS (KiB)" "$V_RSS_KB" "<" "$((TOL == 1 ? 60000 : 250000))"
else
    fail_reason "fault server (bigbody) did not start"
fi
case_end

case_begin "reset after half a body: counted as read errors"
fault_run reset -t1 -c2 -d1s
if [ -n "$R" ]; then
    expect_cmp "errors.read" "$(err read)" ">" 0
    expect_eq "totals.ok" "$(tot ok)" 0
fi
case_end

if python3 -c 'import socket; socket.socket(socket.AF_INET6).bind(("::1", 0))' 2>/dev/null; then
    case_begin "IPv6 literal http://[::1]:port/"
    out=$T/v6.out
    : >"$out"
    python3 "$TESTS_LIB/faultserver.py" --mode ok --host ::1 --port 0 >"$out" 2>&1 &
    v6_pid=$!
    at_exit "kill $v6_pid"
    for ((i = 0; i < 100; i++)); do
        v6_port=$(sed -n 's/^listening //p' "$out")
        [ -n "$v6_port" ] && break
        sleep 0.05
    done
    vrun 15 -t1 -c2 -d1s --results "$T/r-v6" "http://[::1]:${v6_port:-1}/"
    kill "$v6_pid" 2>/dev/null
    expect_rc 0
    if expect_result; then
        R=$V_RESULT
        check_result "$R"
        expect_cmp "totals.ok" "$(tot ok)" ">" 0
        expect_eq "totals.failed" "$(tot failed)" 0
    fi
    case_end
else
    echo "skip IPv6 literal: ::1 is not available here"
fi

tests_done
