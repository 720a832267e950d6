#!/usr/bin/env bash
# test_indieshots.sh: the IndieShots scenarios against `volley target`: every endpoint of the flow
# reached with its checks passing at light load; at a capacity of 1 with 20 users the 503s are
# classed "OpenAI unavailable" and the thresholds fail (exit 1); volley's counts agree with the
# target's own counters.
set -u
# shellcheck source=tests/lib/common.sh
. "$(dirname "$0")/../lib/common.sh"
# shellcheck source=tests/lib/target.sh
. "$(dirname "$0")/../lib/target.sh"
REPO=$(cd "$(dirname "$0")/../.." && pwd)
SCRIPTS=$REPO/scripts/indieshots
cd "$T" || exit 1


case_begin "image-api.lua, light: every endpoint reached, checks pass, success >= 95%"
if target_start --time-scale 0.02; then
    vrun 90 -s "$SCRIPTS/image-api.lua" --preset light -d 12s --think-scale 0.05 \
        --results "$T/r1" "$TB"
    expect_rc 0
    if expect_result; then
        check_result "$V_RESULT"
        for name in "auth: firebase-login" "scripts: upload" "jobs: parse" "jobs: poll" \
            "shots: generate" "storyboards: batch" "health"; do
            expect_cmp "requests of $name" \
                "$(jget "$V_RESULT" "sum(e['requests'] for e in d['endpoints'] if e['name'] == '$name')")" \
                ">" 0
        done
        expect_eq "failed checks" "$(jget "$V_RESULT" 'sum(c["fails"] for c in d["checks"])')" 0
        expect_cmp "success %" \
            "$(jget "$V_RESULT" 'int(100 * d["totals"]["ok"] / max(1, d["totals"]["ok"] + d["totals"]["failed"]))')" \
            ">=" 95
        # The target counts what it served; volley counts what it sent and got back.
        curl -s "$TB/__target/stats" >"$T/stats.json"
        expect_eq "target's responses == volley's responses" \
            "$(python3 -c "import json; print(json.load(open('$T/stats.json'))['responses'])")" \
            "$(jget "$V_RESULT" 'd["totals"]["responses"]')"
    fi
    target_stop
fi
case_end

case_begin "image-api.lua at capacity 1 with 20 users: 503s as OpenAI unavailable, exit 1"
if target_start --time-scale 0.02 --capacity 1 --queue-timeout 100ms; then
    vrun 90 -s "$SCRIPTS/image-api.lua" -u 20 -r 20 -d 8s --think-scale 0.02 \
        --results "$T/r2" "$TB"
    expect_rc 1
    expect_file_has "a broken threshold" "$V_OUT" '^  FAIL  success >= 95%'
    if expect_result; then
        expect_cmp "status_503" "$(jget "$V_RESULT" 'd["errors"]["status_503"]')" ">" 0
        expect_cmp "failures classed OpenAI unavailable" \
            "$(jget "$V_RESULT" 'sum(f["count"] for f in d["failures"] if f["reason"] == "OpenAI unavailable")')" \
            ">" 0
        curl -s "$TB/__target/stats" >"$T/stats2.json"
        expect_eq "target's 503s == volley's status_503" \
            "$(python3 -c "import json; print(json.load(open('$T/stats2.json'))['status_503'])")" \
            "$(jget "$V_RESULT" 'd["errors"]["status_503"]')"
    fi
    target_stop
fi
case_end

case_begin "scaling.lua and guide-routes.lua run against the target"
if target_start --time-scale 0.02; then
    vrun 60 -s "$SCRIPTS/scaling.lua" -u 3 -r 3 -d 4s --think-scale 0.05 --no-save "$TB"
    expect_rc 0
    expect_file_has "visits the pages" "$V_OUT" 'page: /'
    expect_file_has "lists scripts" "$V_OUT" 'scripts: list'
    vrun 60 -s "$SCRIPTS/guide-routes.lua" -u 3 -r 3 -d 4s --think-scale 0.05 --no-save "$TB"
    expect_rc 0
    expect_file_has "guide login" "$V_OUT" 'guide: auth login'
    target_stop
fi
case_end

tests_done
