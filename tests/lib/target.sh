# target.sh: starts and stops `volley target` for integration tests (source after common.sh).

# Starts the target on a free port with the given flags; sets TARGET_PID and TB (its base URL).
# Returns 1 (and records why) when it does not say it is listening in time.
TARGET_N=0
target_start() {
    # A new file each time: the background shell may not have truncated an old one yet.
    TARGET_N=$((TARGET_N + 1))
    local out=$T/target$TARGET_N.out err=$T/target$TARGET_N.err
    "$VOLLEY" target --listen 127.0.0.1:0 "$@" >"$out" 2>"$err" </dev/null &
    TARGET_PID=$!
    at_exit "kill -9 $TARGET_PID"
    local i line
    for ((i = 0; i < 100 * TOL; i++)); do
        line=$(grep -m1 '^volley target listening on ' "$out" 2>/dev/null)
        if [ -n "$line" ]; then
            TB=${line#volley target listening on }
            return 0
        fi
        sleep 0.1
    done
    fail_reason "target did not start: $(head -c 300 "$err")"
    return 1
}

target_stop() {
    kill "$TARGET_PID" 2>/dev/null
    wait "$TARGET_PID" 2>/dev/null
}
