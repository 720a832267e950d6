#!/usr/bin/env bash
# test_bodies.sh: what nginx serves reaches volley whole: small and 1 MiB files, a chunked
# answer, a 404 counted as status_4xx, and Connection: close answered by reconnecting.
set -u
# shellcheck source=tests/lib/common.sh
. "$(dirname "$0")/../lib/common.sh"
# shellcheck source=tests/lib/nginx.sh
. "$TESTS_LIB/nginx.sh"
nginx_start || exit 1
cd "$T" || exit 1

BASE=http://127.0.0.1:$NGX_PORT

# Runs a short load against one path and checks the invariants; sets R to the results file.
load() {
    R=""
    vrun 15 -t1 -c2 -d1s --results "$T/r-$1" "$2"
    expect_rc 0
    if expect_result; then
        R=$V_RESULT
        check_result "$R"
        check_sums "$R" 2
    fi
}

case_begin "small file: every response ok, body bytes counted"
load small "$BASE/small.txt"
if [ -n "$R" ]; then
    resp=$(jget "$R" 'd["totals"]["responses"]')
    expect_cmp "totals.ok" "$(jget "$R" 'd["totals"]["ok"]')" ">" 0
    expect_eq "totals.failed" "$(jget "$R" 'd["totals"]["failed"]')" 0
    expect_cmp "totals.bytes_in" "$(jget "$R" 'd["totals"]["bytes_in"]')" ">=" \
        "$((resp * NGX_SMALL_BYTES))"
    expect_cmp "totals.bytes_out" "$(jget "$R" 'd["totals"]["bytes_out"]')" ">=" \
        "$((resp * 20))"
fi
case_end

case_begin "1 MiB file: bytes_in >= 1 MiB x responses"
load big "$BASE/big.bin"
if [ -n "$R" ]; then
    resp=$(jget "$R" 'd["totals"]["responses"]')
    expect_cmp "totals.responses" "$resp" ">" 0
    expect_eq "totals.failed" "$(jget "$R" 'd["totals"]["failed"]')" 0
    expect_cmp "totals.bytes_in" "$(jget "$R" 'd["totals"]["bytes_in"]')" ">=" \
        "$((resp * NGX_BIG_BYTES))"
    expect_eq "endpoint name" "$(jget "$R" 'd["endpoints"][0]["name"]')" "/big.bin"
fi
case_end

case_begin "chunked answer (nginx SSI): every response ok"
# The case means nothing unless nginx really answers chunked; check that with curl first.
head_file=$T/chunked.head
body_len=$(curl -s --max-time 5 -D "$head_file" -o - "$BASE/chunked.html" | wc -c)
if ! grep -qi '^transfer-encoding: chunked' "$head_file"; then
    fail_reason "setup: nginx did not answer /chunked.html chunked: $(tr -d '\r' <"$head_file" | tr '\n' '|')"
fi
load chunked "$BASE/chunked.html"
if [ -n "$R" ]; then
    resp=$(jget "$R" 'd["totals"]["responses"]')
    expect_cmp "totals.ok" "$(jget "$R" 'd["totals"]["ok"]')" ">" 0
    expect_eq "totals.failed" "$(jget "$R" 'd["totals"]["failed"]')" 0
    expect_eq "errors.parse" "$(jget "$R" 'd["errors"]["parse"]')" 0
    expect_cmp "totals.bytes_in" "$(jget "$R" 'd["totals"]["bytes_in"]')" ">=" \
        "$((resp * body_len))"
fi
case_end

case_begin "404: counted as status_4xx, Non-2xx line printed, exit 0"
nginx_log_clear
load missing "$BASE/missing.txt"
if [ -n "$R" ]; then
    resp=$(jget "$R" 'd["totals"]["responses"]')
    expect_cmp "totals.responses" "$resp" ">" 0
    expect_eq "errors.status_4xx" "$(jget "$R" 'd["errors"]["status_4xx"]')" "$resp"
    expect_eq "totals.ok" "$(jget "$R" 'd["totals"]["ok"]')" 0
    expect_eq "Non-2xx or 3xx responses:" "$(stdout_value 'Non-2xx or 3xx responses:')" "$resp"
    settle
    expect_eq "nginx statuses other than 404" "$(awk '$3 != 404' "$NGX_LOG" | wc -l)" 0
    expect_eq "distinct connections (404 keeps the connection)" "$(nginx_log_connections "$NGX_LOG")" 2
fi
case_end

case_begin "Connection: close: the run succeeds, one connection per request"
load close "http://127.0.0.1:$NGX_CLOSE_PORT/small.txt"
if [ -n "$R" ]; then
    resp=$(jget "$R" 'd["totals"]["responses"]')
    req=$(jget "$R" 'd["totals"]["requests"]')
    expect_cmp "totals.ok" "$(jget "$R" 'd["totals"]["ok"]')" ">" 0
    expect_eq "totals.failed" "$(jget "$R" 'd["totals"]["failed"]')" 0
    expect_between "totals.connections_opened (responses..requests+c)" \
        "$(jget "$R" 'd["totals"]["connections_opened"]')" "$resp" "$((req + 2))"
    settle
    expect_eq "nginx log lines with \$connection_requests > 1" \
        "$(awk '$2 > 1' "$NGX_CLOSE_LOG" | wc -l)" 0
    expect_near "requests in nginx's log vs totals.requests" "$(nginx_log_count "$NGX_CLOSE_LOG")" \
        "$req" 2
fi
case_end

tests_done
