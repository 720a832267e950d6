#!/usr/bin/env bash
# test_target.sh: `volley target`, the IndieShots rehearsal server, checked with curl and python3:
# routes, statuses and JSON shapes, free and pro accounts, the model (capacity, OpenAI limit,
# hosting-layer 429s and 502s), faults, TLS, counters, and a clean stop on SIGTERM.
set -u
# shellcheck source=tests/lib/common.sh
. "$(dirname "$0")/../lib/common.sh"
cd "$T" || exit 1

TN=0
TARGET_PID=""
TARGET_OUT=""
TARGET_ERR=""
TARGET_RC=""
TB=""
CURL=(curl -s --max-time "$((20 * TOL))")
JSON=(-H 'Content-Type: application/json')

# Starts the target on a free port with the given flags; sets TARGET_PID and TB (base URL).
# Returns 1 (and records why) when it does not print its listening line in time.
target_start() {
    TN=$((TN + 1))
    TARGET_OUT=$T/target$TN.out
    TARGET_ERR=$T/target$TN.err
    "$VOLLEY" target --listen 127.0.0.1:0 "$@" >"$TARGET_OUT" 2>"$TARGET_ERR" </dev/null &
    TARGET_PID=$!
    at_exit "kill -9 $TARGET_PID"
    local i line
    for ((i = 0; i < 100 * TOL; i++)); do
        line=$(grep -m1 '^volley target listening on ' "$TARGET_OUT" 2>/dev/null)
        if [ -n "$line" ]; then
            TB=${line#volley target listening on }
            return 0
        fi
        kill -0 "$TARGET_PID" 2>/dev/null || break
        sleep 0.1
    done
    fail_reason "target did not start ($*): $(head -c 300 "$TARGET_ERR")"
    return 1
}

# Stops the target with a signal (TERM by default) and waits for it; sets TARGET_RC and fails
# the case when it does not stop within 5 s or a sanitizer spoke.
target_stop() {
    local sig=${1:-TERM} i
    [ -n "$TARGET_PID" ] || return
    kill "-$sig" "$TARGET_PID" 2>/dev/null
    for ((i = 0; i < 50 * TOL; i++)); do
        kill -0 "$TARGET_PID" 2>/dev/null || break
        sleep 0.1
    done
    if kill -0 "$TARGET_PID" 2>/dev/null; then
        fail_reason "target still running 5 s after SIG$sig"
        kill -9 "$TARGET_PID"
    fi
    wait "$TARGET_PID" 2>/dev/null
    TARGET_RC=$?
    V_RC=$TARGET_RC
    check_sanitizers "$TARGET_ERR"
    TARGET_PID=""
}

# req METHOD PATH [curl args]: ST gets the status, $T/body the body, SECS the time taken.
req() {
    local m=$1 p=$2
    shift 2
    local t0 t1
    t0=$(date +%s.%N)
    ST=$("${CURL[@]}" -o "$T/body" -w '%{http_code}' -X "$m" "$@" "$TB$p")
    t1=$(date +%s.%N)
    SECS=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.3f", b - a }')
}

# Value of a Python expression over the last body, loaded as d.
body() {
    jget "$T/body" "$1"
}

# Signs in through /api/auth/signin into the cookie jar $T/$1.jar.
signin() { # jar email
    req POST /api/auth/signin -c "$T/$1.jar" "${JSON[@]}" \
        -d "{\"email\":\"$2\",\"password\":\"demo123\"}"
    expect_eq "sign-in of $2: status" "$ST" 200
}

# Uploads a screenplay with the cookie jar, starts its parse and polls until completed; sets JOB.
job_ready() { # jar
    JOB=""
    req POST /api/scripts/upload -b "$T/$1.jar" "${JSON[@]}" \
        -d '{"title":"Test","content":"INT. KITCHEN - NIGHT\nALEX makes coffee.\n\nEXT. STREET - DAY\nCars pass."}'
    expect_eq "upload: status" "$ST" 201
    local id
    id=$(body 'd["parseJob"]["id"]')
    req POST "/api/jobs/$id/parse" -b "$T/$1.jar"
    expect_eq "parse start: status" "$ST" 200
    local i status=""
    for ((i = 0; i < 50; i++)); do
        req GET "/api/jobs/$id" -b "$T/$1.jar"
        status=$(body 'd["status"]')
        [ "$status" = completed ] && break
        sleep 0.05
    done
    expect_eq "job status after polling" "$status" completed
    [ "$status" = completed ] && JOB=$id
}

# Fires N requests at once from N threads; prints "status count" lines, then "503min SECS".
burst() { # n method path token body
    python3 - "$TB" "$@" <<'EOF'
import json, sys, threading, time, urllib.request, urllib.error
base, n, method, path, token, body = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4], \
    sys.argv[5], sys.argv[6]
res = []
lock = threading.Lock()
def one():
    r = urllib.request.Request(base + path, data=body.encode() if body else None, method=method,
                               headers={"Authorization": "Bearer " + token,
                                        "Content-Type": "application/json"})
    t0 = time.time()
    try:
        with urllib.request.urlopen(r, timeout=30) as f:
            st, txt = f.status, f.read()
    except urllib.error.HTTPError as e:
        st, txt = e.code, e.read()
    except Exception as e:
        st, txt = "error", str(e).encode()
    with lock:
        res.append((st, time.time() - t0, txt))
ts = [threading.Thread(target=one) for _ in range(n)]
for t in ts: t.start()
for t in ts: t.join()
counts = {}
for st, _, _ in res:
    counts[st] = counts.get(st, 0) + 1
for k in sorted(counts, key=str):
    print(k, counts[k])
slow = [s for st, s, _ in res if st == 503]
print("503min", "%.3f" % min(slow) if slow else "none")
unavail = [t for st, _, t in res if st == 503 and b"OpenAI unavailable" not in t]
print("503bad", len(unavail))
EOF
}

# Count of a status in burst output.
count_of() { # output status
    awk -v s="$2" '$1 == s { print $2; f = 1 } END { if (!f) print 0 }' <<<"$1"
}

# A Bearer token of premium@demo.com from the guide's /api/auth/login (-k for https).
guide_token() {
    "${CURL[@]}" -k "${JSON[@]}" -d '{"email":"premium@demo.com","password":"demo123"}' \
        "$TB/api/auth/login" | python3 -c 'import json,sys; print(json.load(sys.stdin)["token"])'
}

tstat() {
    "${CURL[@]}" -o "$T/stats.json" "$TB/__target/stats"
    jget "$T/stats.json" "$1"
}

# ---- usage ------------------------------------------------------------------------------------

case_begin "usage: bad flags exit 2 with one 'volley:' line; --help exits 0"
for args in "--listen 0.0.0.0:8089" "--fault sideways" "--threads 0" "--capacity x" \
    "--chat-ms 9-3" "--cert only.pem" "--bogus 1"; do
    # shellcheck disable=SC2086
    timeout 5 "$VOLLEY" target $args >"$T/u.out" 2>"$T/u.err" </dev/null
    rc=$?
    expect_eq "exit code of 'target $args'" "$rc" 2
    expect_eq "stderr lines of 'target $args'" "$(wc -l <"$T/u.err")" 1
    expect_file_has "stderr of 'target $args'" "$T/u.err" '^volley: '
done
timeout 5 "$VOLLEY" target --help >"$T/u.out" 2>&1
expect_eq "exit code of --help" "$?" 0
expect_file_has "--help names --time-scale" "$T/u.out" '--time-scale F'
case_end

case_begin "start failure: a bad certificate path exits 1 with its reason"
timeout 5 "$VOLLEY" target --listen 127.0.0.1:0 --cert "$T/none.pem" --key "$T/none.key" \
    >"$T/u.out" 2>"$T/u.err" </dev/null
expect_eq "exit code" "$?" 1
expect_file_has "stderr" "$T/u.err" 'cannot load certificate'
case_end

# ---- the routes, on one target ----------------------------------------------------------------

case_begin "health: /api/health ok and /health healthy, with timestamps; listening line"
if target_start --time-scale 0.01 --shots 6-8 --image-bytes 20000 --seed 7; then
    expect_match "listening line" "$TB" '^http://127\.0\.0\.1:[0-9]+$'
    req GET /api/health
    expect_eq "GET /api/health" "$ST" 200
    expect_eq "status field" "$(body 'd["status"]')" ok
    expect_match "timestamp" "$(body 'd["timestamp"]')" '^[0-9]{4}-[0-9]{2}-[0-9]{2}T.*Z$'
    req GET /health
    expect_eq "/health status field" "$(body 'd["status"]')" healthy
fi
case_end
MAIN_PID=$TARGET_PID

case_begin "sign-in: cookie with a signed token, user body without token; 401 codes; 400"
signin pro premium@demo.com
expect_file_has "cookie jar" "$T/pro.jar" 'auth_token'
expect_eq "user tier" "$(body 'd["tier"]')" pro
expect_eq "user keys" "$(body 'sorted(d)')" \
    '["email", "emailVerified", "firstName", "id", "lastName", "profileImageUrl", "tier", "totalPages", "usedPages"]'
req POST /api/auth/signin "${JSON[@]}" -d '{"email":"premium@demo.com","password":"nope"}'
expect_eq "wrong password: status" "$ST" 401
expect_eq "wrong password: code" "$(body 'd["code"]')" INVALID_PASSWORD
req POST /api/auth/signin "${JSON[@]}" -d '{"email":"nobody@demo.com","password":"demo123"}'
expect_eq "unknown email: code" "$(body 'd["code"]')" USER_NOT_FOUND
req POST /api/auth/signin "${JSON[@]}" -d '{"email":"premium@demo.com"}'
expect_eq "missing password: status" "$ST" 400
case_end

case_begin "auth: 401 without a token or with a forged one; cookie and Bearer both work"
req GET /api/auth/user
expect_eq "no token: status" "$ST" 401
expect_eq "no token: message" "$(body 'd["message"]')" Unauthorized
tok=$(awk '$6 == "auth_token" { print $7 }' "$T/pro.jar")
# Change one character well inside the signature (the last one may carry only padding bits),
# to something it is not already.
pos=$((${#tok} - 10))
orig=${tok:$pos:1}
repl=A
[ "$orig" = A ] && repl=B
req GET /api/auth/user -H "Authorization: Bearer ${tok:0:$pos}$repl${tok:$((pos + 1))}"
expect_eq "forged token: status" "$ST" 401
req GET /api/auth/user -H "Authorization: Bearer $tok"
expect_eq "Bearer: status" "$ST" 200
req GET /api/auth/user -b "$T/pro.jar"
expect_eq "cookie: status" "$ST" 200
expect_eq "cookie: email" "$(body 'd["email"]')" premium@demo.com
req POST /api/auth/logout -b "$T/pro.jar"
expect_eq "logout: status" "$ST" 200
case_end

case_begin "firebase-login: idToken demo:<email> signs in (creates a free account); else 401/400"
req POST /api/auth/firebase-login -c "$T/fb.jar" "${JSON[@]}" \
    -d '{"email":"new@demo.com","providerUserId":"u1","displayName":"New","idToken":"demo:new@demo.com"}'
expect_eq "status" "$ST" 200
expect_eq "tier of a new account" "$(body 'd["tier"]')" free
req GET /api/auth/user -b "$T/fb.jar"
expect_eq "its cookie works" "$(body 'd["email"]')" new@demo.com
req POST /api/auth/firebase-login "${JSON[@]}" -d '{"email":"new@demo.com","idToken":"forged"}'
expect_eq "wrong idToken: status" "$ST" 401
req POST /api/auth/firebase-login "${JSON[@]}" -d '{"email":"new@demo.com"}'
expect_eq "no idToken: status" "$ST" 400
case_end

case_begin "upload -> parse job pending -> processing -> completed with scenes; lists"
req POST /api/scripts/upload -b "$T/pro.jar" "${JSON[@]}" -d '{"title":"T"}'
expect_eq "upload without content: status" "$ST" 400
job_ready pro
if [ -n "$JOB" ]; then
    expect_eq "scenes" "$(body 'len(d["fullParseData"]["scenes"])')" 2
    expect_eq "scene heading" "$(body 'd["fullParseData"]["scenes"][1]["sceneHeading"]')" \
        "EXT. STREET - DAY"
    req POST "/api/jobs/$JOB/parse" -b "$T/pro.jar"
    expect_eq "parse again: status" "$ST" 400
    req GET /api/scripts -b "$T/pro.jar"
    expect_eq "GET /api/scripts: one script" "$(body 'len(d)')" 1
    req GET /api/jobs -b "$T/pro.jar"
    expect_eq "GET /api/jobs: one job" "$(body 'len(d)')" 1
    req GET "/api/jobs/$JOB" -b "$T/fb.jar"
    expect_eq "another user's job: status" "$ST" 404
fi
printf 'INT. ROOM - DAY\nText.\n' >"$T/script.txt"
req POST /api/scripts/upload -b "$T/pro.jar" -F "file=@$T/script.txt"
expect_eq "multipart upload: status" "$ST" 201
expect_eq "multipart upload: title" "$(body 'd["script"]["title"]')" script.txt
case_end
PRO_JOB=$JOB

case_begin "shots: generate a scene's shot list (full shape), read it back; 404 for others"
req POST "/api/shots/generate/$PRO_JOB/0" -b "$T/pro.jar"
expect_eq "status" "$ST" 200
expect_between "shotCount (--shots 6-8)" "$(body 'd["shotCount"]')" 6 8
expect_eq "shots == shotCount" "$(body 'len(d["shots"]) == d["shotCount"]')" true
expect_eq "shot fields" "$(body 'all(k in d["shots"][0] for k in ["shotDescription", "shotType", "lens", "movement", "moodAndAmbience", "lighting", "props", "notes", "soundDesign", "colourTemp", "sceneHeading", "location", "timeOfDay", "tone", "characters", "action", "dialogue"])')" true
expect_eq "pro: no limit applied" "$(body '"limitApplied" in d')" false
n=$(body 'd["shotCount"]')
req GET "/api/shots/$PRO_JOB/0" -b "$T/pro.jar"
expect_eq "GET shots of the scene" "$(body 'len(d["shots"])')" "$n"
req GET "/api/shots/$PRO_JOB" -b "$T/pro.jar"
expect_eq "GET shots of the job" "$(body 'len(d)')" "$n"
req POST "/api/shots/generate/$PRO_JOB/0" -b "$T/fb.jar"
expect_eq "another user's job: status" "$ST" 404
expect_eq "another user's job: error" "$(body 'd["error"]')" "Parse job not found"
req POST "/api/shots/generate/$PRO_JOB/9" -b "$T/pro.jar"
expect_eq "no such scene: status" "$ST" 404
case_end

case_begin "free account: 5 pages, 5 shots with requiresUpgrade, 403 on storyboards"
signin free free@demo.com
python3 -c 'print("INT. A - DAY\n" + "line\n" * 400)' >"$T/long.txt"
req POST /api/scripts/upload -b "$T/free.jar" -F "file=@$T/long.txt"
expect_eq "upload of 8 pages: status" "$ST" 403
expect_eq "upload: requiresUpgrade, feature, maxPages" \
    "$(body '[d["requiresUpgrade"], d["feature"], d["maxPages"]]')" '[true, "pages", 5]'
job_ready free
FREE_JOB=$JOB
req POST "/api/shots/generate/$FREE_JOB/0" -b "$T/free.jar"
expect_eq "shots: status" "$ST" 200
expect_eq "shots cut to 5" "$(body 'len(d["shots"])')" 5
expect_eq "limitApplied, requiresUpgrade" "$(body '[d["limitApplied"], d["requiresUpgrade"]]')" \
    '[true, true]'
expect_cmp "totalGenerated" "$(body 'd["totalGenerated"]')" ">=" 6
req POST "/api/storyboards/generate/$FREE_JOB/0" -b "$T/free.jar" "${JSON[@]}" \
    -d '{"forceRegenerate":true}'
expect_eq "storyboards: status" "$ST" 403
expect_eq "storyboards: requiresUpgrade, feature" "$(body '[d["requiresUpgrade"], d["feature"]]')" \
    '[true, "storyboards"]'
case_end

case_begin "storyboard batch: synchronous, one base64 PNG of --image-bytes per shot"
req POST "/api/storyboards/generate/$PRO_JOB/0" -b "$T/pro.jar" "${JSON[@]}" \
    -d '{"forceRegenerate":true}'
expect_eq "status" "$ST" 200
expect_eq "generatedCount == totalShots == shots" "$(body 'd["generatedCount"] == d["totalShots"] == len(d["storyboards"])')" true
expect_eq "keys of a storyboard" "$(body 'sorted(d["storyboards"][0])')" \
    '["cameraAngle", "description", "hasImage", "imagePath", "notes", "prompt", "shotNumber", "shotType"]'
python3 - "$T/body" >"$T/png.txt" 2>&1 <<'EOF'
import base64, json, sys
d = json.load(open(sys.argv[1]))
for s in d["storyboards"]:
    pre, b64 = s["imagePath"].split(",", 1)
    raw = base64.b64decode(b64, validate=True)
    print(pre, len(b64), raw[:8] == b"\x89PNG\r\n\x1a\n")
EOF
expect_eq "every image: prefix, base64 length, PNG signature" "$(sort -u "$T/png.txt")" \
    "data:image/png;base64 20000 True"
# 6+ shots: 5 pauses of 50 ms and 6 images of at least 4 + 40 ms each at --time-scale 0.01.
expect_cmp "batch time (s)" "$SECS" ">=" 0.4
case_end

case_begin "storyboard polling, regenerate with newPrompt, downloads (zip, png, csv)"
req GET "/api/storyboards/$PRO_JOB/0" -b "$T/pro.jar"
expect_eq "polling: status" "$ST" 200
expect_eq "polling: raw base64 imageData of 20000" \
    "$(body 'set(len(s["imageData"]) for s in d["storyboards"])')" "{20000}"
req POST "/api/storyboards/regenerate/$PRO_JOB/0/1" -b "$T/pro.jar" "${JSON[@]}" \
    -d '{"modifications":"darker, with rain"}'
expect_eq "regenerate: status" "$ST" 200
expect_eq "regenerate: message" "$(body 'd["message"]')" "Image regenerated successfully"
expect_match "regenerate: newPrompt" "$(body 'd["newPrompt"]')" 'darker, with rain$'
req POST "/api/storyboards/regenerate/$PRO_JOB/0/99" -b "$T/pro.jar" "${JSON[@]}" -d '{}'
expect_eq "regenerate a bad index: status" "$ST" 404
req GET "/api/storyboards/$PRO_JOB/0/download?format=zip" -b "$T/pro.jar"
expect_eq "zip: status" "$ST" 200
expect_eq "zip: entries, all PNG" "$(python3 -c '
import sys, zipfile
z = zipfile.ZipFile(sys.argv[1])
print(len(z.namelist()) >= 6 and z.testzip() is None and all(z.read(n)[:4] == b"\x89PNG" for n in z.namelist()))' "$T/body")" True
req GET "/api/storyboards/$PRO_JOB/0/image/0" -b "$T/pro.jar"
expect_eq "image: status" "$ST" 200
expect_eq "image: PNG of 15000 bytes" "$(head -c 4 "$T/body" | od -An -c | tr -d ' '),$(wc -c <"$T/body")" \
    "211PNG,15000"
req GET "/api/jobs/$PRO_JOB/download" -b "$T/pro.jar"
expect_eq "csv: status" "$ST" 200
expect_cmp "csv: lines (header + shots)" "$(wc -l <"$T/body")" ">=" 7
case_end

case_begin "the guide's routes: login with a token in the body, generate-image, regenerate-image, batch"
req POST /api/auth/login "${JSON[@]}" -d '{"email":"premium@demo.com","password":"demo123"}'
expect_eq "login: status" "$ST" 200
GTOK=$(body 'd["token"]')
expect_match "login: token" "$GTOK" '^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$'
AUTH=(-H "Authorization: Bearer $GTOK")
req POST /api/shots/generate-image "${AUTH[@]}" "${JSON[@]}" \
    -d '{"shotDescription":"Wide shot of a forest","shotType":"Wide Shot"}'
expect_eq "generate-image: status" "$ST" 200
expect_match "generate-image: imageUrl" "$(body 'd["imageUrl"][:30]')" '^data:image/png;base64,'
req POST /api/shots/regenerate-image "${AUTH[@]}" "${JSON[@]}" \
    -d '{"shotId":42,"customPrompt":"more cinematic","imagePromptText":"Wide shot"}'
expect_eq "regenerate-image: status, shotId" "$ST,$(body 'd["shotId"]')" "200,42"
expect_eq "regenerate-image: newPrompt" "$(body 'd["newPrompt"]')" "Wide shot. more cinematic"
req POST /api/storyboards/generate "${AUTH[@]}" "${JSON[@]}" \
    -d '{"jobId":"test-job","sceneIndex":0,"shots":[{"shotDescription":"a"},{"shotDescription":"b"}]}'
expect_eq "storyboards/generate: status, generatedCount" "$ST,$(body 'd["generatedCount"]')" "200,2"
req POST /api/shots/generate-image "${JSON[@]}" -d '{}'
expect_eq "generate-image without a token" "$ST" 401
case_end

case_begin "pages: / and /dashboard are the app's HTML; unknown /api paths 404 JSON"
for p in / /dashboard /projects; do
    req GET "$p"
    expect_eq "GET $p" "$ST" 200
    expect_file_has "GET $p is HTML" "$T/body" '<!DOCTYPE html>'
done
req GET /api/nothing/here
expect_eq "GET /api/nothing/here" "$ST" 404
expect_eq "its message" "$(body 'd["message"]')" "Not found"
case_end

case_begin "HTTP: 40 pipelined requests answered in order, then close; 413; 400"
python3 - "${TB#http://}" >"$T/pipe.txt" 2>&1 <<'EOF'
import socket, sys
host, port = sys.argv[1].split(":")
body = b'{"email":"premium@demo.com","password":"demo123"}'
si = b"POST /api/auth/signin HTTP/1.1\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n" % len(body) + body
h = b"GET /api/health HTTP/1.1\r\nHost: x\r\n\r\n"
s = socket.create_connection((host, int(port)), timeout=10)
s.sendall((si + h) * 20)
s.shutdown(socket.SHUT_WR)
out = b""
while True:
    d = s.recv(65536)
    if not d:
        break
    out += d
print("".join("S" if b"premium" in m else "H" for m in out.split(b"HTTP/1.1 ")[1:]))
s = socket.create_connection((host, int(port)), timeout=10)
s.sendall(b"POST /api/auth/signin HTTP/1.1\r\nContent-Length: 20000000\r\n\r\n")
print(s.recv(4096).split(b"\r\n")[0].decode())
s = socket.create_connection((host, int(port)), timeout=10)
s.sendall(b"NOT HTTP AT ALL\r\n\r\n")
print(s.recv(4096).split(b"\r\n")[0].decode())
EOF
expect_eq "order of the 40 answers" "$(sed -n 1p "$T/pipe.txt")" "$(printf 'SH%.0s' {1..20})"
expect_eq "body over --max-body" "$(sed -n 2p "$T/pipe.txt")" "HTTP/1.1 413 Payload Too Large"
expect_eq "garbage request" "$(sed -n 3p "$T/pipe.txt")" "HTTP/1.1 400 Bad Request"
case_end

case_begin "stats: counts per route and status match the requests made; reset zeroes them"
req POST /__target/reset
expect_eq "reset: status" "$ST" 200
for i in 1 2 3 4 5; do req GET /api/health; done
for i in 1 2 3; do req GET /health; done
req GET /api/auth/user
req GET /api/auth/user -b "$T/pro.jar"
req GET "/api/jobs/$PRO_JOB" -b "$T/pro.jar"
req GET /dashboard
expect_eq "requests" "$(tstat 'd["requests"]')" 12
expect_eq "responses" "$(tstat 'd["responses"]')" 12
expect_eq "GET /api/health" "$(tstat 'd["routes"]["GET /api/health"]["status"]')" '{"200": 5}'
expect_eq "GET /health" "$(tstat 'd["routes"]["GET /health"]["requests"]')" 3
expect_eq "GET /api/auth/user" "$(tstat 'd["routes"]["GET /api/auth/user"]["status"]')" \
    '{"200": 1, "401": 1}'
expect_eq "GET /api/jobs/:id" "$(tstat 'd["routes"]["GET /api/jobs/:id"]["requests"]')" 1
expect_eq "GET /* (pages)" "$(tstat 'd["routes"]["GET /*"]["requests"]')" 1
expect_eq "by status" "$(tstat 'd["status"]')" '{"200": 11, "401": 1}'
expect_eq "the stats route itself is not counted" "$(tstat '"GET /__target/stats" in d["routes"]')" false
case_end

case_begin "threads: --threads 2 shares the port; counts add up across workers"
TARGET_PID=$MAIN_PID
TARGET_ERR=$T/target1.err
target_stop
expect_eq "main target: exit code after SIGTERM" "$TARGET_RC" 0
if target_start --threads 2 --time-scale 0.01; then
    out=$(burst 40 GET /api/health x "")
    expect_eq "40 parallel requests answered 200" "$(count_of "$out" 200)" 40
    expect_eq "stats requests" "$(tstat 'd["requests"]')" 40
    target_stop INT
    expect_eq "exit code after SIGINT" "$TARGET_RC" 0
fi
case_end

# ---- the model ---------------------------------------------------------------------------------

case_begin "capacity: --capacity 1 and a short queue timeout turn parallel generations into 503s"
# Each generation holds the slot for 500 ms + 5 ms; a queued one gives up after 10 ms.
if target_start --time-scale 0.01 --capacity 1 --queue-timeout-ms 1000 --chat-ms 500-500 \
    --image-ms 50000-50000; then
    out=$(burst 10 POST /api/shots/generate-image "$(guide_token)" '{"shotDescription":"x"}')
    expect_cmp "200s" "$(count_of "$out" 200)" ">=" 1
    expect_cmp "503s" "$(count_of "$out" 503)" ">=" 5
    expect_eq "every answer 200 or 503" \
        "$(($(count_of "$out" 200) + $(count_of "$out" 503)))" 10
    expect_eq "503s say OpenAI unavailable" "$(awk '$1 == "503bad" { print $2 }' <<<"$out")" 0
    expect_eq "stats: status_503 == 503s seen" "$(tstat 'd["status_503"]')" "$(count_of "$out" 503)"
    expect_eq "stats: queue timeouts == 503s seen" "$(tstat 'd["capacity"]["queue_timeouts"]')" \
        "$(count_of "$out" 503)"
    expect_cmp "stats: peak queued" "$(tstat 'd["capacity"]["peak_queued"]')" ">=" 1
    expect_eq "stats: nothing in use afterwards" "$(tstat 'd["capacity"]["in_use"]')" 0
    target_stop
fi
case_end

case_begin "OpenAI limit: --openai-rpm 3 retries with waits, then 503 OpenAI unavailable"
if target_start --time-scale 0.01 --openai-rpm 3; then
    gtok=$(guide_token)
    req POST /api/shots/generate-image "${JSON[@]}" -H "Authorization: Bearer $gtok" -d '{}'
    expect_eq "one generation within the limit (2 of its 3 calls)" "$ST" 200
    out=$(burst 5 POST /api/shots/generate-image "$gtok" '{"shotDescription":"x"}')
    expect_eq "then 503s" "$(count_of "$out" 503)" 5
    expect_eq "503s say OpenAI unavailable" "$(awk '$1 == "503bad" { print $2 }' <<<"$out")" 0
    # Three attempts with waits of 5 s x 1 and 5 s x 2 (GPT) or 10 s x 1 and 10 s x 2 (images).
    expect_cmp "the fastest 503 waited the retries (s)" \
        "$(awk '$1 == "503min" { print $2 }' <<<"$out")" ">=" 0.14
    expect_eq "stats: exhausted calls == 503s seen" "$(tstat 'd["openai"]["exhausted"]')" \
        "$(count_of "$out" 503)"
    expect_eq "stats: retries == 2 per exhausted call" "$(tstat 'd["openai"]["retries"]')" \
        "$((2 * $(count_of "$out" 503)))"
    target_stop
fi
case_end

case_begin "edge: --edge-rate 5 answers 429 beyond it; --edge-502-rate 0.5 gives 502s"
if target_start --edge-rate 5; then
    urls=()
    for i in $(seq 100); do urls+=(-o /dev/null "$TB/api/health"); done
    t0=$(date +%s.%N)
    codes=$("${CURL[@]}" -w '%{http_code}\n' "${urls[@]}")
    secs=$(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN { print b - a }')
    n429=$(grep -c '^429$' <<<"$codes")
    n200=$(grep -c '^200$' <<<"$codes")
    expect_eq "every answer 200 or 429" "$((n200 + n429))" 100
    expect_cmp "200s: at least the burst" "$n200" ">=" 5
    expect_cmp "200s: at most the burst + rate x time" "$n200" "<=" \
        "$(awk -v s="$secs" 'BEGIN { printf "%d", 6 + 5 * s }')"
    expect_eq "stats: status_429" "$(tstat 'd["status_429"]')" "$n429"
    expect_eq "stats: edge 429" "$(tstat 'd["edge"]["429"]')" "$n429"
    target_stop
fi
if target_start --edge-502-rate 0.5 --seed 3; then
    urls=()
    for i in $(seq 40); do urls+=(-o /dev/null "$TB/"); done
    codes=$("${CURL[@]}" -w '%{http_code}\n' "${urls[@]}")
    n502=$(grep -c '^502$' <<<"$codes")
    expect_between "502s out of 40" "$n502" 5 35
    expect_eq "every answer 200 or 502" "$((n502 + $(grep -c '^200$' <<<"$codes")))" 40
    expect_eq "stats: edge 502" "$(tstat 'd["edge"]["502"]')" "$n502"
    target_stop
fi
case_end

# ---- faults ------------------------------------------------------------------------------------

case_begin "fault reset: every answer cut mid-way by a TCP reset; stats still answer"
if target_start --fault reset --fault-rate 1; then
    "${CURL[@]}" -o /dev/null "$TB/api/health"
    rc=$?
    expect_match "curl exit code (56 recv failure or 18 partial)" "$rc" '^(18|56|52)$'
    expect_eq "stats: faults.reset" "$(tstat 'd["faults"]["reset"]')" 1
    target_stop
fi
case_end

case_begin "fault stall: no answer ever comes"
if target_start --fault stall --fault-rate 1; then
    "${CURL[@]}" --max-time 1 -o /dev/null "$TB/api/health"
    expect_eq "curl exit code (28: timed out)" "$?" 28
    expect_eq "stats: faults.stall" "$(tstat 'd["faults"]["stall"]')" 1
    target_stop
fi
case_end

case_begin "fault garbage: bytes that are not HTTP, then close"
if target_start --fault garbage --fault-rate 1; then
    python3 - "${TB#http://}" >"$T/garbage.txt" <<'EOF'
import socket, sys
host, port = sys.argv[1].split(":")
s = socket.create_connection((host, int(port)), timeout=5)
s.sendall(b"GET /api/health HTTP/1.1\r\n\r\n")
out = b""
while True:
    d = s.recv(65536)
    if not d:
        break
    out += d
print(len(out), out.startswith(b"HTTP/"))
EOF
    expect_eq "bytes received, starts with HTTP/" "$(cat "$T/garbage.txt")" "512 False"
    target_stop
fi
case_end

case_begin "fault drip: the whole answer, slowly (--drip-ms 500); half the answers at rate 0.5"
if target_start --fault drip --fault-rate 1 --drip-ms 500; then
    req GET /api/health
    expect_eq "status" "$ST" 200
    expect_eq "body intact" "$(body 'd["status"]')" ok
    expect_cmp "time (s)" "$SECS" ">=" 0.4
    target_stop
fi
if target_start --fault reset --fault-rate 0.5 --seed 11; then
    ok=0
    for i in $(seq 20); do
        "${CURL[@]}" -o /dev/null "$TB/api/health" && ok=$((ok + 1))
    done
    expect_between "whole answers out of 20" "$ok" 3 17
    expect_eq "stats: resets + whole answers" "$(tstat 'd["faults"]["reset"] + d["responses"]')" 20
    target_stop
fi
case_end

# ---- accounts, TLS -----------------------------------------------------------------------------

case_begin "--accounts CSV: more accounts with their tier; a bad line exits 1"
printf 'email,password,tier\nboss@studio.test,s3cret,pro\nintern@studio.test,s3cret,free\n' \
    >"$T/accounts.csv"
if target_start --accounts "$T/accounts.csv"; then
    req POST /api/auth/signin "${JSON[@]}" -d '{"email":"boss@studio.test","password":"s3cret"}'
    expect_eq "pro account from the CSV" "$ST,$(body 'd["tier"]')" "200,pro"
    req POST /api/auth/signin "${JSON[@]}" -d '{"email":"intern@studio.test","password":"s3cret"}'
    expect_eq "free account from the CSV" "$ST,$(body 'd["tier"]')" "200,free"
    target_stop
fi
printf 'no-comma-here\n' >"$T/bad.csv"
timeout 5 "$VOLLEY" target --listen 127.0.0.1:0 --accounts "$T/bad.csv" >/dev/null 2>"$T/u.err"
expect_eq "bad CSV: exit code" "$?" 1
expect_file_has "bad CSV: names the line" "$T/u.err" 'bad.csv:1'
case_end

case_begin "TLS: --cert/--key serve https; a storyboard batch over TLS"
if openssl req -x509 -newkey rsa:2048 -nodes -keyout "$T/key.pem" -out "$T/cert.pem" -days 2 \
    -subj /CN=localhost >/dev/null 2>&1; then
    if target_start --cert "$T/cert.pem" --key "$T/key.pem" --time-scale 0.001; then
        expect_match "listening line" "$TB" '^https://127\.0\.0\.1:[0-9]+$'
        req GET /api/health -k
        expect_eq "https health" "$ST,$(body 'd["status"]')" "200,ok"
        req POST /api/storyboards/generate -k "${JSON[@]}" \
            -H "Authorization: Bearer $(guide_token)" \
            -d '{"shots":[{"shotDescription":"a"},{"shotDescription":"b"},{"shotDescription":"c"}]}'
        expect_eq "https batch" "$ST,$(body 'len(d["storyboards"][2]["imagePath"])')" "200,200022"
        "${CURL[@]}" -o /dev/null "${TB/https/http}/api/health"
        expect_ne "plain http to the TLS port fails" "$?" 0
        target_stop
    fi
else
    fail_reason "openssl could not make a test certificate"
fi
case_end

case_begin "stop: SIGTERM during a long batch exits 0 at once"
if target_start --time-scale 1; then
    "${CURL[@]}" -o /dev/null "${JSON[@]}" -H "Authorization: Bearer $(guide_token)" \
        -d '{"shots":[{"shotDescription":"a"},{"shotDescription":"b"}]}' \
        "$TB/api/storyboards/generate" &
    cpid=$!
    sleep 0.5
    t0=$(date +%s.%N)
    target_stop
    expect_eq "exit code" "$TARGET_RC" 0
    expect_cmp "stop time (s)" "$(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN { print b - a }')" \
        "<" "$((2 * TOL))"
    wait "$cpid"
    expect_ne "the client's request was cut (curl exit code)" "$?" 0
fi
case_end

tests_done
