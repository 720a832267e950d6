#!/usr/bin/env bash
# run.sh: runs every unit test binary and every integration test, then prints "N passed, M failed".
#
# Usage: tests/run.sh [WORD...]   (only the unit binaries and integration files whose names
#                                  contain one of the words; all of them without words)
# Environment: VOLLEY (the binary; ./volley, or ./volley-san when SANITIZE=1), SANITIZE=1 (wider
# time tolerances), UNIT_DIR (unit binaries; build/rel/tests or build/san/tests), FILE_TIMEOUT
# (seconds one unit binary or integration file may take, 240 by default).
set -u

cd "$(dirname "$0")/.." || exit 1
SANITIZE=${SANITIZE:-0}
if [ "$SANITIZE" = 1 ]; then
    VOLLEY=${VOLLEY:-./volley-san}
    UNIT_DIR=${UNIT_DIR:-build/san/tests}
else
    VOLLEY=${VOLLEY:-./volley}
    UNIT_DIR=${UNIT_DIR:-build/rel/tests}
fi
case "$VOLLEY" in
    /*) ;;
    *) VOLLEY="$PWD/$VOLLEY" ;;
esac
export VOLLEY SANITIZE
FILE_TIMEOUT=${FILE_TIMEOUT:-240}
[ "$SANITIZE" = 1 ] && FILE_TIMEOUT=$((FILE_TIMEOUT * 2))

passed=0
failed=0
out=$(mktemp "${TMPDIR:-/tmp}/volley-run.XXXXXX")
trap 'rm -f "$out"' EXIT

# True when no words were given or the name contains one of them.
selected() {
    local w
    [ $# -gt 1 ] || return 0
    for w in "${@:2}"; do
        case "$1" in
            *"$w"*) return 0 ;;
        esac
    done
    return 1
}

# A unit binary prints ok/FAIL lines and ends with "unit: N passed, M failed".
run_unit() {
    local bin=$1 name rc summary p f
    name=unit/$(basename "$bin")
    echo "== $name"
    timeout -k 5 "$FILE_TIMEOUT" "$bin" >"$out" 2>&1
    rc=$?
    cat "$out"
    summary=$(grep -E '^unit: [0-9]+ passed, [0-9]+ failed$' "$out" | tail -n 1)
    if [ -z "$summary" ]; then
        echo "FAIL $name: no 'unit: N passed, M failed' line (exit $rc$([ $rc -eq 124 ] && echo ', timed out'))"
        failed=$((failed + 1))
        return
    fi
    p=$(echo "$summary" | awk '{ print $2 }')
    f=$(echo "$summary" | awk '{ print $4 }')
    passed=$((passed + p))
    failed=$((failed + f))
    if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then
        echo "FAIL $name: exit $rc although every case passed"
        failed=$((failed + 1))
    fi
}

# An integration file prints "ok   name" or "FAIL name" per case and exits non-zero on failure.
run_integration() {
    local file=$1 name rc p f
    name=${file#tests/}
    echo "== $name"
    timeout -k 5 "$FILE_TIMEOUT" bash "$file" >"$out" 2>&1
    rc=$?
    cat "$out"
    p=$(grep -c '^ok   ' "$out")
    f=$(grep -c '^FAIL ' "$out")
    passed=$((passed + p))
    failed=$((failed + f))
    if [ "$rc" -eq 124 ] || [ "$rc" -eq 137 ]; then
        echo "FAIL $name: did not finish within ${FILE_TIMEOUT}s"
        failed=$((failed + 1))
    elif [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then
        echo "FAIL $name: exit $rc without a failing case"
        failed=$((failed + 1))
    fi
}

if [ -d "$UNIT_DIR" ]; then
    for bin in "$UNIT_DIR"/test_*; do
        if [ ! -f "$bin" ] || [ ! -x "$bin" ]; then
            continue
        fi
        selected "$(basename "$bin")" "$@" && run_unit "$bin"
    done
else
    echo "note: no unit test directory $UNIT_DIR"
fi

for file in tests/integration/test_*.sh; do
    [ -f "$file" ] || continue
    selected "$(basename "$file")" "$@" && run_integration "$file"
done

if [ $((passed + failed)) -eq 0 ]; then
    echo "FAIL no test ran"
    failed=1
fi
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
