#!/usr/bin/env bash
# test_badinput.sh: usage errors exit 2 with one "volley: " line and no load and no file; a run
# that cannot start (no such host, port closed) exits 3 with its cause and still saves results.
set -u
# shellcheck source=tests/lib/common.sh
. "$(dirname "$0")/../lib/common.sh"
# shellcheck source=tests/lib/nginx.sh
. "$TESTS_LIB/nginx.sh"
nginx_start || exit 1
mkdir -p "$T/cwd" && cd "$T/cwd" || exit 1

URL=http://127.0.0.1:$NGX_PORT/small.txt

# One usage error: exit 2, exactly one stderr line starting "volley: ", no results anywhere.
usage_error() {
    local name=$1
    shift
    case_begin "usage error exits 2: $name"
    vrun 10 -d1s --results "$T/r-usage" "$@"
    expect_rc 2
    expect_eq "stderr lines" "$(wc -l <"$V_ERR" | tr -d ' ')" 1
    expect_match "stderr" "$(head -n 1 "$V_ERR")" '^volley: .+'
    expect_eq "results written" "$(find "$T/r-usage" "$T/cwd" -type f 2>/dev/null | wc -l)" 0
    case_end
}

nginx_log_clear
usage_error "unknown flag" --bogus "$URL"
usage_error "scheme htp://x" "htp://x"
usage_error "no host http://" "http://"
usage_error "no URL at all"
usage_error "-c1 -t2 (fewer connections than threads)" -c1 -t2 "$URL"
usage_error "-d0" -d0 "$URL"
usage_error "-d with an unknown unit" -d 5y "$URL"
usage_error "--max-body with an unknown unit" --max-body 1Q "$URL"
usage_error "-c not a number" -c many "$URL"
usage_error "header without ': '" -H "X-NoColon" "$URL"

case_begin "no usage error sent a request"
settle
expect_eq "requests in nginx's log" "$(nginx_log_count "$NGX_LOG")" 0
case_end

case_begin "-h prints the usage and exits 0"
vrun 5 -h
expect_rc 0
expect_file_has "usage mentions --connections" "$V_OUT" '--connections'
expect_file_has "usage mentions --duration" "$V_OUT" '--duration'
case_end

case_begin "-v prints the version and exits 0"
vrun 5 -v
expect_rc 0
expect_file_has "version" "$V_OUT" '[0-9]+\.[0-9]+\.[0-9]+'
case_end

# The results file of a run that could not start: named on stdout, or the only file in dir.
result_of() {
    if [ -n "$V_RESULT" ] && [ -f "$V_RESULT" ]; then
        echo "$V_RESULT"
    else
        find "$1" -name '*.json' 2>/dev/null | head -n 1
    fi
}

case_begin "unresolvable host exits 3, names it, saves errors.dns"
vrun 20 -t1 -c2 -d2s --results "$T/r-dns" "http://nonexistent.invalid/"
expect_rc 3
expect_eq "stderr lines" "$(wc -l <"$V_ERR" | tr -d ' ')" 1
expect_match "stderr" "$(head -n 1 "$V_ERR")" '^volley: .*nonexistent\.invalid'
R=$(result_of "$T/r-dns")
if [ -n "$R" ]; then
    check_result "$R"
    expect_cmp "errors.dns" "$(jget "$R" 'd["errors"]["dns"]')" ">" 0
    expect_eq "totals.ok" "$(jget "$R" 'd["totals"]["ok"]')" 0
else
    fail_reason "no results file in $T/r-dns"
fi
case_end

case_begin "closed port on 127.0.0.1 exits 3, says so, saves errors.connect"
port=$(free_port)
vrun 20 -t1 -c2 -d2s --results "$T/r-refused" "http://127.0.0.1:$port/"
expect_rc 3
expect_eq "stderr lines" "$(wc -l <"$V_ERR" | tr -d ' ')" 1
expect_match "stderr" "$(head -n 1 "$V_ERR")" '^volley: .*([Rr]efused|[Cc]onnect)'
expect_cmp "wall time (s), -d2s" "$V_SECS" "<=" "$((2 + 3 * TOL))"
R=$(result_of "$T/r-refused")
if [ -n "$R" ]; then
    check_result "$R"
    expect_cmp "errors.connect" "$(jget "$R" 'd["errors"]["connect"]')" ">" 0
    expect_eq "totals.ok" "$(jget "$R" 'd["totals"]["ok"]')" 0
else
    fail_reason "no results file in $T/r-refused"
fi
case_end

tests_done
