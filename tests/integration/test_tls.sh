#!/usr/bin/env bash
# test_tls.sh: https:// against a TLS 1.2 nginx with certificates made at test time: verified by
# default, --cacert and -k, each certificate failure with its own reason, servers that are not
# TLS or close mid-handshake, nginx's log against volley's counts, bodies, session resumption.
set -u
# shellcheck source=tests/lib/common.sh
. "$(dirname "$0")/../lib/common.sh"
# shellcheck source=tests/lib/tls_nginx.sh
. "$TESTS_LIB/tls_nginx.sh"
tls_nginx_start || exit 1
tls_cutter_start || exit 1
cd "$T" || exit 1

CA=$TLS_CERTS/ca.pem

# The results file of a run: named on stdout, or the newest in the directory.
result_of() {
    if [ -n "$V_RESULT" ] && [ -f "$V_RESULT" ]; then
        echo "$V_RESULT"
    else
        find "$1" -name '*.json' 2>/dev/null | head -n 1
    fi
}

# A run where every handshake fails: exit 3, one stderr line with the reason, the results file
# counting tls failures only, nothing logged by the server.
expect_tls_failure() { # results-dir host:port reason-regex
    local r
    expect_rc 3
    expect_eq "stderr lines" "$(wc -l <"$V_ERR" | tr -d ' ')" 1
    expect_match "stderr" "$(head -n 1 "$V_ERR")" "^volley: tls handshake with $2 failed: $3\$"
    r=$(result_of "$1")
    if [ -z "$r" ]; then
        fail_reason "no results file in $1"
        return
    fi
    check_result "$r"
    expect_cmp "errors.tls" "$(jget "$r" 'd["errors"]["tls"]')" ">" 0
    expect_eq "errors.connect" "$(jget "$r" 'd["errors"]["connect"]')" 0
    expect_eq "totals.ok" "$(jget "$r" 'd["totals"]["ok"]')" 0
    expect_eq "totals.responses" "$(jget "$r" 'd["totals"]["responses"]')" 0
}

case_begin "default verification rejects the test CA: exit 3, one line, errors.tls"
tls_log_clear
vrun 20 -t2 -c4 -d2s --results "$T/r-untrusted" "https://127.0.0.1:$TLS_PORT/small.txt"
expect_tls_failure "$T/r-untrusted" "127\\.0\\.0\\.1:$TLS_PORT" \
    'certificate not trusted \(use --cacert or -k\)'
R=$(result_of "$T/r-untrusted")
[ -n "$R" ] && expect_eq "config.tls_verify" "$(jget "$R" 'd["config"]["tls_verify"]')" true
settle
expect_eq "requests in nginx's log" "$(tls_log_count)" 0
case_end

case_begin "another CA given with --cacert does not make the certificate trusted"
vrun 20 -t1 -c2 -d2s --cacert "$TLS_CERTS/other-ca.pem" --results "$T/r-other" \
    "https://localhost:$TLS_PORT/small.txt"
expect_tls_failure "$T/r-other" "localhost:$TLS_PORT" \
    'certificate not trusted \(use --cacert or -k\)'
case_end

case_begin "--cacert: verified by IP, keep-alive, nginx logged == volley's counts"
tls_log_clear
vrun 20 -t2 -c6 -d2s --cacert "$CA" --results "$T/r-ok" "https://127.0.0.1:$TLS_PORT/small.txt"
expect_rc 0
if expect_result; then
    check_result "$V_RESULT"
    check_sums "$V_RESULT" 6
    settle
    requests=$(jget "$V_RESULT" 'd["totals"]["requests"]')
    responses=$(jget "$V_RESULT" 'd["totals"]["responses"]')
    expect_cmp "totals.ok" "$(jget "$V_RESULT" 'd["totals"]["ok"]')" ">" 0
    expect_eq "totals.failed" "$(jget "$V_RESULT" 'd["totals"]["failed"]')" 0
    expect_between "requests in nginx's log (responses..requests)" "$(tls_log_count)" \
        "$responses" "$requests"
    expect_eq "config.tls_verify" "$(jget "$V_RESULT" 'd["config"]["tls_verify"]')" true
    # One handshake per connection: nginx saw exactly -c TLS connections.
    expect_eq "distinct \$connection values in nginx's log" \
        "$(awk '{ print $1 }' "$TLS_LOG" | sort -u | wc -l | tr -d ' ')" 6
    expect_eq "totals.connections_opened" \
        "$(jget "$V_RESULT" 'd["totals"]["connections_opened"]')" 6
    expect_eq "lines not TLSv1.2 in nginx's log" "$(awk '$(NF - 1) != "TLSv1.2"' "$TLS_LOG" | wc -l)" 0
    # No SNI for an IP literal: nginx logs an empty server name as "".
    expect_eq "lines with an SNI name" "$(awk '$NF != "\"\"" && $NF != "-"' "$TLS_LOG" | wc -l)" 0
    hs_mean=$(jget "$V_RESULT" 'd["totals"]["tls_handshake_ms"]["mean"]')
    hs_p99=$(jget "$V_RESULT" 'd["totals"]["tls_handshake_ms"]["p99"]')
    expect_cmp "totals.tls_handshake_ms.mean" "$hs_mean" ">" 0
    expect_cmp "totals.tls_handshake_ms.p99" "$hs_p99" ">=" "$(jget "$V_RESULT" \
        'd["totals"]["tls_handshake_ms"]["min"]')"
    expect_cmp "totals.tls_handshake_ms.p99 (well under the 2s timeout)" "$hs_p99" "<" 2000
    expect_file_has "summary shows the handshake time" "$V_OUT" '[Hh]andshake'
fi
case_end

case_begin "--cacert with a name: SNI sent, name checked"
tls_log_clear
vrun 20 -t1 -c2 -n 50 --cacert "$CA" --results "$T/r-name" \
    "https://localhost:$TLS_PORT/small.txt"
expect_rc 0
if expect_result; then
    check_result "$V_RESULT"
    settle
    expect_eq "totals.ok" "$(jget "$V_RESULT" 'd["totals"]["ok"]')" 50
    expect_eq "requests in nginx's log" "$(tls_log_count)" 50
    expect_eq "lines whose SNI is not localhost" "$(awk '$NF != "localhost"' "$TLS_LOG" | wc -l)" 0
fi
case_end

case_begin "-k: an expired certificate is accepted and the results say verification was off"
tls_log_clear
vrun 20 -t1 -c2 -n 40 -k --results "$T/r-insecure" "https://127.0.0.1:$TLS_EXPIRED_PORT/small.txt"
expect_rc 0
if expect_result; then
    check_result "$V_RESULT"
    expect_eq "config.tls_verify" "$(jget "$V_RESULT" 'd["config"]["tls_verify"]')" false
    expect_eq "totals.ok" "$(jget "$V_RESULT" 'd["totals"]["ok"]')" 40
    expect_eq "errors.tls" "$(jget "$V_RESULT" 'd["errors"]["tls"]')" 0
    expect_file_has "summary says verification is off" "$V_OUT" '[Vv]erification.*off|not verified'
fi
case_end

case_begin "expired certificate: exit 3, certificate expired"
vrun 20 -t1 -c2 -d2s --cacert "$CA" --results "$T/r-expired" \
    "https://localhost:$TLS_EXPIRED_PORT/small.txt"
expect_tls_failure "$T/r-expired" "localhost:$TLS_EXPIRED_PORT" 'certificate expired'
case_end

case_begin "certificate for another name: exit 3, hostname mismatch (by name and by IP)"
vrun 20 -t1 -c2 -d2s --cacert "$CA" --results "$T/r-wrong" \
    "https://localhost:$TLS_WRONG_PORT/small.txt"
expect_tls_failure "$T/r-wrong" "localhost:$TLS_WRONG_PORT" 'hostname mismatch'
vrun 20 -t1 -c2 -d2s --cacert "$CA" --results "$T/r-wrong-ip" \
    "https://127.0.0.1:$TLS_WRONG_PORT/small.txt"
expect_tls_failure "$T/r-wrong-ip" "127\\.0\\.0\\.1:$TLS_WRONG_PORT" 'hostname mismatch'
case_end

case_begin "plain HTTP on the TLS port: exit 3, counted as tls, not tls (plain http?)"
vrun 20 -t2 -c4 -d2s --cacert "$CA" --results "$T/r-plain" "https://127.0.0.1:$TLS_PLAIN_PORT/"
expect_tls_failure "$T/r-plain" "127\\.0\\.0\\.1:$TLS_PLAIN_PORT" 'not tls \(plain http\?\)'
case_end

case_begin "server closes mid-handshake: exit 3, counted as tls, no crash"
vrun 20 -t2 -c4 -d2s --cacert "$CA" --results "$T/r-cut" "https://127.0.0.1:$TLS_CUT_PORT/"
expect_tls_failure "$T/r-cut" "127\\.0\\.0\\.1:$TLS_CUT_PORT" 'connection closed during handshake'
case_end

case_begin "chunked bodies over TLS"
tls_log_clear
vrun 20 -t1 -c2 -n 30 --cacert "$CA" --results "$T/r-chunked" \
    "https://127.0.0.1:$TLS_PORT/chunked.html"
expect_rc 0
if expect_result; then
    check_result "$V_RESULT"
    expect_eq "totals.ok" "$(jget "$V_RESULT" 'd["totals"]["ok"]')" 30
    expect_eq "totals.failed" "$(jget "$V_RESULT" 'd["totals"]["failed"]')" 0
    settle
    expect_eq "requests in nginx's log" "$(tls_log_count)" 30
    expect_eq "nginx statuses other than 200" "$(awk '$3 != 200' "$TLS_LOG" | wc -l)" 0
fi
case_end

case_begin "1 MiB bodies over TLS: every byte arrives"
vrun 30 -t1 -c2 -n 20 --cacert "$CA" --results "$T/r-big" "https://127.0.0.1:$TLS_PORT/big.bin"
expect_rc 0
if expect_result; then
    check_result "$V_RESULT"
    expect_eq "totals.ok" "$(jget "$V_RESULT" 'd["totals"]["ok"]')" 20
    expect_cmp "totals.bytes_in" "$(jget "$V_RESULT" 'd["totals"]["bytes_in"]')" ">=" \
        $((20 * TLS_BIG_BYTES))
    expect_cmp "totals.bytes_in" "$(jget "$V_RESULT" 'd["totals"]["bytes_in"]')" "<" \
        $((20 * TLS_BIG_BYTES + 20 * 1024))
fi
case_end

case_begin "Connection: close: a handshake per request, later ones resumed"
tls_log_clear
vrun 20 -t2 -c4 -n 200 --cacert "$CA" --results "$T/r-close" \
    "https://localhost:$TLS_CLOSE_PORT/small.txt"
expect_rc 0
if expect_result; then
    check_result "$V_RESULT"
    settle
    expect_eq "totals.ok" "$(jget "$V_RESULT" 'd["totals"]["ok"]')" 200
    expect_eq "requests in nginx's log" "$(tls_log_count "$TLS_CLOSE_LOG")" 200
    expect_eq "distinct \$connection values (one per request)" \
        "$(awk '{ print $1 }' "$TLS_CLOSE_LOG" | sort -u | wc -l | tr -d ' ')" 200
    # Only the first handshakes of each thread, before a session exists, may be full ones.
    reused=$(tls_log_reused "$TLS_CLOSE_LOG")
    expect_cmp "requests on resumed sessions (\$ssl_session_reused r)" "$reused" ">=" 196
fi
case_end

tests_done
