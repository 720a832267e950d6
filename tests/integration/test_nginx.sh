#!/usr/bin/env bash
# test_nginx.sh: volley against a real nginx: nginx's log agrees with volley's counts, keep-alive
# reuses -c connections, -n bounds the run, headers reach the server, wrk's summary labels.
set -u
# shellcheck source=tests/lib/common.sh
. "$(dirname "$0")/../lib/common.sh"
# shellcheck source=tests/lib/nginx.sh
. "$TESTS_LIB/nginx.sh"
nginx_start || exit 1
cd "$T" || exit 1

URL=http://127.0.0.1:$NGX_PORT/small.txt

case_begin "duration run: nginx logged == totals.requests within -c"
nginx_log_clear
vrun 15 -t2 -c10 -d2s --results "$T/r-duration" "$URL"
expect_rc 0
if expect_result; then
    DUR_RESULT=$V_RESULT
    DUR_OUT=$V_OUT
    check_result "$V_RESULT"
    check_sums "$V_RESULT" 10
    settle
    requests=$(jget "$V_RESULT" 'd["totals"]["requests"]')
    expect_near "requests in nginx's log vs totals.requests" "$(nginx_log_count "$NGX_LOG")" "$requests" 10
    expect_cmp "totals.ok" "$(jget "$V_RESULT" 'd["totals"]["ok"]')" ">" 0
    expect_eq "totals.failed" "$(jget "$V_RESULT" 'd["totals"]["failed"]')" 0
    expect_eq "nginx statuses other than 200" "$(awk '$3 != 200' "$NGX_LOG" | wc -l)" 0
    expect_between "duration_s for -d2s" "$(jget "$V_RESULT" 'd["duration_s"]')" 1.8 \
        "$((2 + TOL))"
    expect_cmp "wall time of a -d2s run (s)" "$V_SECS" "<=" "$((2 + 4 * TOL))"
    expect_eq "config.threads" "$(jget "$V_RESULT" 'd["config"]["threads"]')" 2
    expect_eq "config.connections" "$(jget "$V_RESULT" 'd["config"]["connections"]')" 10
    expect_eq "config.url" "$(jget "$V_RESULT" 'd["config"]["url"]')" "$URL"
fi
case_end
cp "$NGX_LOG" "$T/duration.log"

case_begin "keep-alive: nginx sees -c connections, not one per request"
if [ -n "${DUR_RESULT:-}" ]; then
    expect_eq "distinct \$connection values in nginx's log" \
        "$(nginx_log_connections "$T/duration.log")" 10
    expect_eq "totals.connections_opened" \
        "$(jget "$DUR_RESULT" 'd["totals"]["connections_opened"]')" 10
    expect_cmp "highest \$connection_requests" \
        "$(awk 'BEGIN { m = 0 } $2 > m { m = $2 } END { print m }' "$T/duration.log")" ">" 1
else
    fail_reason "no results from the duration run"
fi
case_end

case_begin "summary: wrk's labels, requests line, Results: last"
if [ -n "${DUR_RESULT:-}" ]; then
    V_OUT=$DUR_OUT
    expect_file_has "Requests/sec line" "$V_OUT" '^Requests/sec:[[:space:]]+[0-9]+(\.[0-9]+)?$'
    expect_file_has "Transfer/sec line" "$V_OUT" '^Transfer/sec:[[:space:]]+[0-9]+(\.[0-9]+)?[KMGT]?B$'
    expect_file_has "requests line" "$V_OUT" \
        '^  [0-9]+ requests in [0-9]+(\.[0-9]+)?(us|ms|s|m), [0-9]+(\.[0-9]+)?[KMGT]?B read$'
    expect_file_has "Latency row" "$V_OUT" '^ +Latency +[0-9]'
    expect_file_lacks "no Socket errors line when all are zero" "$V_OUT" 'Socket errors:'
    expect_file_lacks "no Non-2xx line when all are 2xx" "$V_OUT" 'Non-2xx or 3xx responses:'
    expect_eq "last stdout line" "$(tail -n 1 "$V_OUT")" "Results: $DUR_RESULT"
    rps_text=$(stdout_value 'Requests/sec:')
    rps_json=$(jget "$DUR_RESULT" 'd["totals"]["rps"]')
    expect_near "Requests/sec: vs totals.rps" "$rps_text" "$rps_json" \
        "$(awk -v r="$rps_json" 'BEGIN { print r * 0.01 + 1 }')"
    n_text=$(sed -nE 's/^  ([0-9]+) requests in .*/\1/p' "$V_OUT")
    resp=$(jget "$DUR_RESULT" 'd["totals"]["responses"]')
    req=$(jget "$DUR_RESULT" 'd["totals"]["requests"]')
    expect_between "N of 'N requests in' (between responses and requests)" "$n_text" "$resp" "$req"
else
    fail_reason "no results from the duration run"
fi
case_end

case_begin "--latency prints p50 p75 p90 p99 p99.9 p99.99"
vrun 10 -t1 -c2 -d1s --latency --no-save "$URL"
expect_rc 0
for p in '50' '75' '90' '99' '99\.9' '99\.99'; do
    expect_file_has "percentile row $p%" "$V_OUT" "^ +$p(\\.0+)?% +[0-9]+(\\.[0-9]+)?(us|ms|s)\$"
done
vrun 10 -t1 -c2 -d1s --no-save "$URL"
expect_file_lacks "no 99.99% row without --latency" "$V_OUT" '99\.99%'
case_end

case_begin "-n 1000: nginx logged within [1000, 1000+c]"
nginx_log_clear
vrun 30 -t2 -c10 -n 1000 --results "$T/r-n" "$URL"
expect_rc 0
if expect_result; then
    check_result "$V_RESULT"
    settle
    expect_between "requests in nginx's log" "$(nginx_log_count "$NGX_LOG")" 1000 1010
    expect_between "totals.responses" "$(jget "$V_RESULT" 'd["totals"]["responses"]')" 1000 1010
    expect_between "totals.requests" "$(jget "$V_RESULT" 'd["totals"]["requests"]')" 1000 1010
fi
case_end

case_begin "'run' command, -H reaches the server, query string sent but not in the endpoint name"
nginx_log_clear
vrun 15 run -t1 -c2 -n 50 -H "X-Volley-Test: marker-42" --results "$T/r-run" "$URL?a=1&b=2"
expect_rc 0
if expect_result; then
    check_result "$V_RESULT"
    settle
    expect_cmp "requests in nginx's log" "$(nginx_log_count "$NGX_LOG")" ">=" 50
    expect_eq "log lines without the -H header" "$(grep -vc '"marker-42"' "$NGX_LOG")" 0
    expect_eq "log lines without the query string" "$(grep -vc 'GET /small.txt?a=1&b=2 HTTP/1.1' "$NGX_LOG")" 0
    expect_eq "endpoints" "$(jget "$V_RESULT" '[(e["method"], e["name"]) for e in d["endpoints"]]')" \
        '[["GET", "/small.txt"]]'
    expect_eq "Host header" "$(awk -F'"' 'NR == 1 { print $8 }' "$NGX_LOG")" "127.0.0.1:$NGX_PORT"
fi
case_end

case_begin "-d 1500ms runs about 1.5 s"
vrun 10 -t1 -c2 -d 1500ms --results "$T/r-ms" "$URL"
expect_rc 0
if expect_result; then
    expect_between "duration_s" "$(jget "$V_RESULT" 'd["duration_s"]')" 1.3 "$((2 + TOL))"
fi
case_end

tests_done
