#!/usr/bin/env bash
# test_results.sh: where and how volley saves a run: the file name pattern, results/ by default,
# -2 and -3 suffixes instead of overwriting, --no-save, redacted secrets, the recorded config.
set -u
# shellcheck source=tests/lib/common.sh
. "$(dirname "$0")/../lib/common.sh"
# shellcheck source=tests/lib/nginx.sh
. "$TESTS_LIB/nginx.sh"
nginx_start || exit 1
cd "$T" || exit 1

URL=http://127.0.0.1:$NGX_PORT/small.txt
NAME_RE='^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}-[0-9]{2}-[0-9]{2}Z_127\.0\.0\.1_c2(-[0-9]+)?\.json$'

# Lists the files of a directory, one name a line (nothing when it does not exist).
files_in() {
    [ -d "$1" ] && ls -A "$1"
}

# Pre-creates, for every second from 3 s ago to 12 s ahead, the names a run starting then would
# take, with the given suffixes ("" for the plain name), each holding "sentinel".
precreate() {
    local dir=$1 now s stamp suffix
    shift
    mkdir -p "$dir"
    now=$(date -u +%s)
    for ((s = now - 3; s <= now + 12; s++)); do
        stamp=$(date -u -d "@$s" +%Y-%m-%dT%H-%M-%SZ)
        for suffix in "$@"; do
            echo sentinel >"$dir/${stamp}_127.0.0.1_c2$suffix.json"
        done
    done
}

case_begin "file name <UTC stamp>_<host>_c<N>.json, written atomically"
dir=$T/r-name
vrun 15 -t1 -c2 -n 20 --results "$dir" "$URL"
expect_rc 0
if expect_result; then
    check_result "$V_RESULT"
    expect_eq "files in --results dir" "$(files_in "$dir" | wc -l)" 1
    name=$(basename "$V_RESULT")
    expect_match "file name" "$name" "$NAME_RE"
    expect_eq "directory of the Results: path" "$(cd "$(dirname "$V_RESULT")" && pwd)" "$dir"
    stamp=${name%%Z_*}
    file_s=$(date -u -d "$(echo "$stamp" | sed -E 's/T([0-9]{2})-([0-9]{2})-/ \1:\2:/')" +%s 2>/dev/null)
    expect_near "file name time vs now (s)" "${file_s:-none}" "$(date -u +%s)" 60
    expect_match "started_at" "$(jget "$V_RESULT" 'd["started_at"]')" \
        '^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]+)?Z$'
    expect_match "volley_version" "$(jget "$V_RESULT" 'd["volley_version"]')" '^[0-9]+\.[0-9]+'
fi
case_end

case_begin "results/ in the working directory by default"
mkdir -p "$T/cwd" && cd "$T/cwd" || exit 1
vrun 15 -t1 -c2 -n 10 "$URL"
expect_rc 0
expect_eq "files in ./results" "$(files_in results | wc -l)" 1
expect_match "file in ./results" "$(files_in results | head -n 1)" "$NAME_RE"
if expect_result; then
    expect_eq "Results: path is that file" "$(cd "$(dirname "$V_RESULT")" && pwd)/$(basename "$V_RESULT")" \
        "$T/cwd/results/$(files_in results | head -n 1)"
fi
cd "$T" || exit 1
case_end

case_begin "an existing name gets -2, and the earlier file is untouched"
dir=$T/r-suffix2
precreate "$dir" ""
vrun 15 -t1 -c2 -n 10 --results "$dir" "$URL"
expect_rc 0
if expect_result; then
    check_result "$V_RESULT"
    expect_match "file name" "$(basename "$V_RESULT")" '_c2-2\.json$'
fi
expect_eq "pre-existing files changed" "$(grep -L '^sentinel$' "$dir"/*_c2.json | wc -l)" 0
case_end

case_begin "names with and without -2 taken: -3"
dir=$T/r-suffix3
precreate "$dir" "" "-2"
vrun 15 -t1 -c2 -n 10 --results "$dir" "$URL"
expect_rc 0
if expect_result; then
    expect_match "file name" "$(basename "$V_RESULT")" '_c2-3\.json$'
fi
expect_eq "pre-existing files changed" "$(grep -L '^sentinel$' "$dir"/*_c2.json "$dir"/*_c2-2.json | wc -l)" 0
case_end

case_begin "two quick runs keep two files"
dir=$T/r-twice
vrun 15 -t1 -c2 -n 5 --results "$dir" "$URL"
first=$V_RESULT
vrun 15 -t1 -c2 -n 5 --results "$dir" "$URL"
expect_rc 0
expect_ne "second Results: path" "$V_RESULT" "$first"
expect_eq "files in --results dir" "$(files_in "$dir" | wc -l)" 2
case_end

case_begin "--no-save writes nothing and prints no Results: line"
mkdir -p "$T/nosave" && cd "$T/nosave" || exit 1
vrun 15 -t1 -c2 -n 10 --no-save --results "$T/nosave/r" "$URL"
expect_rc 0
expect_file_has "summary printed" "$V_OUT" '^Requests/sec:'
expect_file_lacks "Results: line" "$V_OUT" '^Results:'
expect_eq "files under the working directory" "$(find . -type f | wc -l)" 0
cd "$T" || exit 1
case_end

case_begin "Authorization and Cookie redacted in the file, sent unredacted"
nginx_log_clear
vrun 15 -t1 -c2 -n 10 --timeout 750ms --results "$T/r-redact" \
    -H "Authorization: Bearer s3cr3t-token" -H "Cookie: sid=c00kie-value" \
    -H "X-Volley-Test: visible-value" "$URL"
expect_rc 0
if expect_result; then
    check_result "$V_RESULT"
    expect_file_lacks "Authorization value in the results file" "$V_RESULT" 's3cr3t'
    expect_file_lacks "Cookie value in the results file" "$V_RESULT" 'c00kie'
    expect_file_has "other header values kept" "$V_RESULT" 'visible-value'
    expect_eq "[redacted] occurrences" "$(grep -o '\[redacted\]' "$V_RESULT" | wc -l)" 2
    expect_eq "config.timeout_ms" "$(jget "$V_RESULT" 'd["config"]["timeout_ms"]')" 750
    settle
    expect_eq "requests reaching nginx without the real token" \
        "$(grep -vc '"Bearer s3cr3t-token"' "$NGX_LOG")" 0
fi
case_end

tests_done
