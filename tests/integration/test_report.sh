#!/usr/bin/env bash
# test_report.sh: what a run leaves for people to read: the verdict, Locust's CSV files, the HTML
# report (rendered by headless Chromium), `volley report` and `volley compare` on saved results.
set -u
# shellcheck source=tests/lib/common.sh
. "$(dirname "$0")/../lib/common.sh"
cd "$T" || exit 1

# ---- a server with an ok, a failing and a slow route ------------------------------------------

US_PID=""
US_PORT=""

userserver_start() {
    local i out=$T/userserver.out
    python3 "$TESTS_LIB/userserver.py" --port 0 >"$out" 2>"$T/userserver.err" &
    US_PID=$!
    for ((i = 0; i < 100; i++)); do
        US_PORT=$(sed -n 's/^listening //p' "$out")
        [ -n "$US_PORT" ] && return 0
        kill -0 "$US_PID" 2>/dev/null || break
        sleep 0.05
    done
    return 1
}

# shellcheck disable=SC2317 # called through at_exit
userserver_stop() {
    [ -n "$US_PID" ] || return 0
    kill "$US_PID" 2>/dev/null
    wait "$US_PID" 2>/dev/null
    US_PID=""
}
at_exit userserver_stop

if ! userserver_start; then
    echo "FAIL setup: userserver.py did not start:"
    sed 's/^/    /' "$T/userserver.err" | tail -n 10
    exit 1
fi
URL=http://127.0.0.1:$US_PORT/

# Three named requests: "echo" (200), "missing page" (404, a failure) and "slow" (200 in 50 ms).
cat >"$T/mixed.lua" <<'EOF'
options = { users = 4, spawn_rate = 4, duration = "4s" }
local U = user { wait = constant(0.05) }
U:task(3, "echo", function(self)
    local r = self:get("/echo", { name = "echo" })
    check(r, "echo answered", r.status == 200)
end)
U:task(1, "missing", function(self)
    self:get("/nope", { name = "missing page" })
end)
U:task(2, "slow", function(self)
    self:get("/slow?s=0.05", { name = "slow" })
end)
EOF
# The same without the failing route: a run that the verdict calls handled.
cat >"$T/clean.lua" <<'EOF'
options = { users = 4, spawn_rate = 4, duration = "3s" }
local U = user { wait = constant(0.05) }
U:task(3, "echo", function(self)
    local r = self:get("/echo", { name = "echo" })
    check(r, "echo answered", r.status == 200)
end)
U:task(2, "slow", function(self)
    self:get("/slow?s=0.05", { name = "slow" })
end)
EOF

# Lines of a run's stdout that `volley report` prints too: all but the file names.
summary_only() {
    grep -v -E '^(Results|Report|CSV): ' "$1"
}

# ---- runs --------------------------------------------------------------------------------------

case_begin "a run with -o html,csv writes the page and Locust's files beside its results"
vrun 30 -s "$T/mixed.lua" -o html,csv --results "$T/res" "$URL"
expect_rc 0
RUN1=""
if expect_result; then
    RUN1=$V_RESULT
    RUN1_OUT=$T/run1.out
    cp "$V_OUT" "$RUN1_OUT"
    prefix=${RUN1%.json}
    for f in "$prefix.html" "${prefix}_stats.csv" "${prefix}_stats_history.csv" \
        "${prefix}_failures.csv" "${prefix}_exceptions.csv"; do
        [ -s "$f" ] || fail_reason "missing or empty: $f"
    done
    expect_file_has "verdict heading" "$V_OUT" '^Verdict:$'
    expect_file_has "success graded" "$V_OUT" '^  \[!!\] Success rate: [0-9.]+% - (WARNING|POOR)$'
    expect_file_has "recommendation" "$V_OUT" '^  -> upgrade resources or reduce load: success below 95%'
    expect_eq "verdict in the results file" "$(jget "$RUN1" 'd["verdict"]["handled"]')" "false"
    expect_eq "graded metric in the file" \
        "$(jget "$RUN1" 'd["verdict"]["metrics"]["success_rate"]["grade"] in ("WARNING", "POOR")')" \
        "true"
fi
case_end

case_begin "CSV files carry Locust's columns, an Aggregated row and one history row a second"
if [ -n "$RUN1" ]; then
    problems=$(python3 - "${RUN1%.json}" "$RUN1" <<'EOF'
import csv, json, sys
prefix, result = sys.argv[1], json.load(open(sys.argv[2]))
pcts = ["50%", "66%", "75%", "80%", "90%", "95%", "98%", "99%", "99.9%", "99.99%", "100%"]
want = {
    "_stats.csv": ["Type", "Name", "Request Count", "Failure Count", "Median Response Time",
                   "Average Response Time", "Min Response Time", "Max Response Time",
                   "Average Content Size", "Requests/s", "Failures/s"] + pcts,
    "_stats_history.csv": ["Timestamp", "User Count", "Type", "Name", "Requests/s", "Failures/s"]
                          + pcts + ["Total Request Count", "Total Failure Count",
                          "Total Median Response Time", "Total Average Response Time",
                          "Total Min Response Time", "Total Max Response Time",
                          "Total Average Content Size"],
    "_failures.csv": ["Method", "Name", "Error", "Occurrences"],
    "_exceptions.csv": ["Count", "Message", "Traceback", "Nodes"],
}
out = []
rows = {}
for suffix, header in want.items():
    with open(prefix + suffix, newline="") as f:
        raw = f.read()
    if "\r\n" not in raw:
        out.append("%s: rows do not end in CRLF as Python's csv module writes them" % suffix)
    rows[suffix] = list(csv.reader(raw.splitlines()))
    if rows[suffix][0] != header:
        out.append("%s header: got %s, expected %s" % (suffix, rows[suffix][0], header))
stats = rows["_stats.csv"][1:]
agg = stats[-1]
if agg[:2] != ["", "Aggregated"]:
    out.append("last _stats.csv row: got %s, expected Type '' and Name 'Aggregated'" % agg[:2])
done = result["totals"]["ok"] + result["totals"]["failed"]
if int(agg[2]) != done or int(agg[3]) != result["totals"]["failed"]:
    out.append("Aggregated counts: got %s/%s, expected %d/%d"
               % (agg[2], agg[3], done, result["totals"]["failed"]))
if sum(int(r[2]) for r in stats[:-1]) != int(agg[2]):
    out.append("endpoint Request Counts do not add up to the Aggregated one")
names = sorted(r[1] for r in stats[:-1])
if names != ["echo", "missing page", "slow"]:
    out.append("endpoint rows: %s" % names)
hist = rows["_stats_history.csv"][1:]
if len(hist) != len(result["timeseries"]):
    out.append("history rows: got %d, expected one per second: %d"
               % (len(hist), len(result["timeseries"])))
elif hist and int(hist[-1][17]) != done:
    out.append("last history Total Request Count %s, expected %d" % (hist[-1][17], done))
fails = rows["_failures.csv"][1:]
want_fail = [["GET", "missing page", "HTTP 404", str(result["failures"][0]["count"])]]
if fails != want_fail:
    out.append("_failures.csv rows: got %s, expected %s" % (fails, want_fail))
print("\n".join(out))
EOF
)
    while IFS= read -r line; do
        [ -n "$line" ] && fail_reason "$line"
    done <<<"$problems"
else
    fail_reason "no results from the first case"
fi
case_end

case_begin "volley report FILE prints the run's own summary again"
if [ -n "$RUN1" ]; then
    vrun 15 report "$RUN1"
    expect_rc 0
    summary_only "$RUN1_OUT" >"$T/run1.summary"
    if ! diff -u "$T/run1.summary" "$V_OUT" >"$T/diff.txt"; then
        fail_reason "report differs from the run's summary: $(head -c 600 "$T/diff.txt")"
    fi
    expect_file_has "has the verdict" "$V_OUT" '^Verdict:$'
fi
case_end

case_begin "volley report -o csv,html rebuilds the same files from the saved result"
if [ -n "$RUN1" ]; then
    prefix=${RUN1%.json}
    mkdir -p "$T/first"
    cp "$prefix".html "$prefix"_*.csv "$T/first/"
    rm -f "$prefix".html "$prefix"_*.csv
    vrun 15 report "$RUN1" -o csv,html
    expect_rc 0
    expect_file_lacks "no text summary" "$V_OUT" '^Verdict:'
    expect_file_has "names the page" "$V_OUT" "^Report: ${prefix}\\.html$"
    for f in "$T"/first/*; do
        if ! cmp -s "$f" "$(dirname "$prefix")/$(basename "$f")"; then
            fail_reason "$(basename "$f") differs from the one the run wrote"
        fi
    done
fi
case_end

# ---- the page in a browser ---------------------------------------------------------------------

CHROMIUM=$(command -v chromium || command -v chromium-browser || true)

# Renders an HTML file with headless Chromium: screenshot into $2, console log into $3.
render() {
    local profile
    profile=$(mktemp -d "$T/chromium.XXXXXX")
    timeout -k 5 90 "$CHROMIUM" --headless --no-sandbox --disable-gpu \
        --disable-background-networking --disable-component-update --disable-sync \
        --no-first-run --user-data-dir="$profile" --enable-logging=stderr --v=0 \
        --screenshot="$2" --window-size=1200,2000 "file://$1" >"$3" 2>&1 </dev/null
}

# Checks a page's SVG charts, its references and its console log; $1 page, $2 log, $3 the
# target URL (the only http address the page may show, as text), $4 charts expected.
check_page() {
    local problems
    problems=$(python3 - "$1" "$2" "$3" "$4" <<'EOF'
import re, sys
page, log, url, charts = open(sys.argv[1]).read(), open(sys.argv[2]).read(), sys.argv[3], int(sys.argv[4])
out = []
svgs = len(re.findall(r"<svg\b", page))
if svgs < charts:
    out.append("svg charts: got %d, expected at least %d" % (svgs, charts))
drawn = [p for p in re.findall(r'<polyline[^>]*points="([^"]*)"', page) if len(p.split()) > 2]
if len(drawn) < charts:
    out.append("polylines with more than 2 points: got %d, expected at least %d" % (len(drawn), charts))
for ref in re.findall(r"https?://[^\s\"'<>]*", page):
    if ref != url:
        out.append("network reference in the page: %s" % ref)
for tag in re.findall(r"<(?:script|link|img|iframe)\b[^>]*>", page):
    out.append("external-resource tag in the page: %s" % tag[:80])
for line in log.splitlines():
    if ":CONSOLE" in line:
        out.append("console message: %s" % line[:200])
print("\n".join(out))
EOF
)
    while IFS= read -r line; do
        [ -n "$line" ] && fail_reason "$line"
    done <<<"$problems"
}

# A PNG's width and height from its header.
png_size() {
    python3 -c 'import struct, sys
d = open(sys.argv[1], "rb").read(24)
print("%dx%d" % struct.unpack(">II", d[16:24]) if d[:8] == b"\x89PNG\r\n\x1a\n" else "not-png")' "$1"
}

case_begin "the HTML report renders in headless Chromium with its charts and no console errors"
if [ -z "$CHROMIUM" ]; then
    fail_reason "chromium is not installed (deps/install.sh test installs it)"
elif [ -n "$RUN1" ]; then
    page=${RUN1%.json}.html
    render "$page" "$T/page.png" "$T/page.log"
    rc=$?
    expect_eq "chromium exit code" "$rc" 0
    expect_eq "screenshot size" "$(png_size "$T/page.png" 2>/dev/null)" "1200x2000"
    expect_cmp "screenshot bytes" "$(stat -c %s "$T/page.png" 2>/dev/null || echo 0)" ">" 30000
    check_page "$page" "$T/page.log" "$URL" 4
fi
case_end

# The check above must be able to fail: a page with a broken chart and a console error.
case_begin "the page check catches a broken chart and console errors"
if [ -n "$CHROMIUM" ]; then
    printf '<!DOCTYPE html><html><body><svg viewBox="0 0 9 9"><polyline points="1,2 x,4"/></svg>%s</body></html>\n' \
        '<script>console.error("boom")</script>' >"$T/bad.html"
    render "$T/bad.html" "$T/bad.png" "$T/bad.log"
    saved=("${_case_reasons[@]}")
    _case_reasons=()
    check_page "$T/bad.html" "$T/bad.log" "$URL" 1
    caught=${#_case_reasons[@]}
    _case_reasons=("${saved[@]}")
    expect_cmp "problems found in the bad page" "$caught" ">=" 3
fi
case_end

# ---- verdict details ---------------------------------------------------------------------------

case_begin "UTF-8 marks on a UTF-8 terminal, ASCII marks when piped"
if [ -n "$RUN1" ]; then
    LC_ALL=C.UTF-8 timeout 20 script -qec "$VOLLEY report $RUN1" /dev/null >"$T/tty.out" 2>&1
    expect_file_has "UTF-8 mark and dash on a terminal" "$T/tty.out" $'\xe2\x9c\x97 Success rate: .* \xe2\x80\x94 '
    expect_file_has "UTF-8 arrow on a terminal" "$T/tty.out" $'\xe2\x86\x92 upgrade'
    expect_file_lacks "no ASCII marks on a terminal" "$T/tty.out" '\[(ok|!!)\]'
    LC_ALL=C timeout 20 script -qec "$VOLLEY report $RUN1" /dev/null >"$T/tty-c.out" 2>&1
    expect_file_has "ASCII marks in the C locale" "$T/tty-c.out" '\[!!\] Success rate'
    export LC_ALL=C.UTF-8
    vrun 15 report "$RUN1"
    unset LC_ALL
    expect_file_has "ASCII marks when piped" "$V_OUT" '^  \[!!\] Success rate'
    expect_file_lacks "no UTF-8 marks when piped" "$V_OUT" $'\xe2\x9c'
fi
case_end

case_begin "--monthly-cost gives a cost per user only for a run that stayed GOOD"
vrun 30 -s "$T/clean.lua" --monthly-cost 40 --results "$T/res" "$URL"
expect_rc 0
RUN2=""
if expect_result; then
    RUN2=$V_RESULT
    expect_file_has "handled" "$V_OUT" '^  -> this load is handled well$'
    expect_file_has "cost per user" "$V_OUT" \
        '^  Cost per user: 10\.00 a month per user \(40\.00 / 4 peak users\)$'
fi
if [ -n "$RUN1" ]; then
    vrun 15 report "$RUN1" --monthly-cost 40
    expect_file_has "not meaningful when not GOOD" "$V_OUT" '^  Cost per user: not meaningful: at 4 users'
fi
case_end

# ---- compare -----------------------------------------------------------------------------------

case_begin "volley compare lines three saved runs up by endpoint"
vrun 30 -s "$T/mixed.lua" -d 2s --results "$T/res" "$URL"
RUN3=$V_RESULT
if [ -n "$RUN1" ] && [ -n "$RUN2" ] && [ -n "$RUN3" ]; then
    vrun 15 compare "$RUN1" "$RUN2" "$RUN3"
    expect_rc 0
    expect_file_has "runs listed" "$V_OUT" '^  C   '
    expect_file_has "whole-run row" "$V_OUT" '^Aggregated \(all requests\)$'
    expect_file_has "endpoint row" "$V_OUT" '^GET echo$'
    expect_eq "figure rows" "$(grep -c -E '^  (req/s|success|p50|p95|p99|max) ' "$V_OUT")" 24
    # B has no "missing page": its cells are "-" and C's change is against A.
    expect_file_has "missing endpoint shown as -" "$V_OUT" \
        '^  req/s +[0-9.]+ +- +[0-9.]+ +[-+][0-9.]+%'
    # A to B: success rises from below 95% to 100%, beyond one point.
    expect_file_has "success change marked" "$V_OUT" '^  success .*100\.00% +\+[0-9.]+pt \[ok\]'
    vrun 15 compare "$RUN1" "$RUN2" -o html
    expect_rc 0
    page=${RUN1%.json}_compare.html
    expect_file_has "names the page" "$V_OUT" "^Report: ${page}$"
    if [ -n "$CHROMIUM" ] && [ -f "$page" ]; then
        render "$page" "$T/compare.png" "$T/compare.log"
        expect_cmp "compare screenshot bytes" "$(stat -c %s "$T/compare.png" 2>/dev/null || echo 0)" ">" 20000
        check_page "$page" "$T/compare.log" "$URL" 2
    fi
else
    fail_reason "earlier runs left no results to compare"
fi
case_end

# ---- mistakes ----------------------------------------------------------------------------------

case_begin "report and compare: usage errors and unreadable files exit 2"
echo '{"hello": 1}' >"$T/other.json"
for args in "report" "report $T/none.json" "report $T/other.json" "report ${RUN1:-x} -o pdf" \
    "report ${RUN1:-x} --frobnicate" "report ${RUN1:-x} --monthly-cost -3" \
    "compare ${RUN1:-x}" "compare ${RUN1:-x} $T/none.json" "compare ${RUN1:-x} ${RUN1:-x} --noise x"; do
    # shellcheck disable=SC2086
    vrun 15 $args
    expect_eq "exit code of volley $args" "$V_RC" 2
    [ -s "$V_ERR" ] || fail_reason "volley $args: nothing on stderr"
done
expect_file_has "says why" "$V_ERR" 'noise'
case_end

case_begin "a run with an unknown -o fails before any load"
vrun 15 -s "$T/mixed.lua" -o pdf --results "$T/res-bad" "$URL"
expect_rc 2
expect_file_has "names the format" "$V_ERR" "unknown output 'pdf'"
[ -e "$T/res-bad" ] && fail_reason "a results directory was created"
case_end

tests_done
