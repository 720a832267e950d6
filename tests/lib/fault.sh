# fault.sh: starts and stops tests/lib/faultserver.py for one mode at a time.
# shellcheck shell=bash disable=SC2034
# Sourced after common.sh. After fault_start MODE: FAULT_PORT, FAULT_PID, FAULT_LOG (one line
# per request the server received).

FAULT_PID=""
FAULT_PORT=""
FAULT_LOG=""

# Starts the fault server in MODE on a kernel-chosen port; returns 1 when it does not come up.
fault_start() {
    local mode=$1 i out
    fault_stop
    out=$T/fault-$mode.out
    FAULT_LOG=$T/fault-$mode.log
    : >"$FAULT_LOG"
    : >"$out"
    python3 "$TESTS_LIB/faultserver.py" --mode "$mode" --port 0 --log "$FAULT_LOG" \
        >"$out" 2>"$T/fault-$mode.err" &
    FAULT_PID=$!
    FAULT_PORT=""
    for ((i = 0; i < 100; i++)); do
        FAULT_PORT=$(sed -n 's/^listening //p' "$out")
        [ -n "$FAULT_PORT" ] && return 0
        kill -0 "$FAULT_PID" 2>/dev/null || break
        sleep 0.05
    done
    echo "FAIL setup: fault server ($mode) did not start:"
    sed 's/^/    /' "$T/fault-$mode.err" | tail -n 10
    return 1
}

# Stops the fault server if one runs.
fault_stop() {
    [ -n "$FAULT_PID" ] || return 0
    kill "$FAULT_PID" 2>/dev/null
    wait "$FAULT_PID" 2>/dev/null
    FAULT_PID=""
}

# Number of requests the fault server received since it started.
fault_requests() {
    wc -l <"$FAULT_LOG" | tr -d ' '
}

at_exit fault_stop
