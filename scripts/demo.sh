#!/bin/sh
# demo.sh: rehearses the IndieShots image API scenario against `volley target` on loopback.
# DEMO_DURATION shortens or lengthens the run (default 40s); nothing leaves this machine.
set -eu

cd "$(dirname "$0")/.."
duration="${DEMO_DURATION:-40s}"
port="${DEMO_PORT:-18089}"
log="$(mktemp)"

"${VOLLEY:-./volley}" target --listen "127.0.0.1:$port" --time-scale 0.02 >"$log" 2>&1 &
target=$!
trap 'kill "$target" 2>/dev/null; wait "$target" 2>/dev/null; rm -f "$log"' EXIT INT TERM

i=0
until grep -q "listening" "$log"; do
    i=$((i + 1))
    if [ "$i" -gt 50 ] || ! kill -0 "$target" 2>/dev/null; then
        echo "demo: the rehearsal server did not start:" >&2
        cat "$log" >&2
        exit 1
    fi
    sleep 0.1
done

echo "demo: volley target on 127.0.0.1:$port (delays x0.02); light preset for $duration" >&2
VOLLEY=${VOLLEY:-./volley}
"$VOLLEY" -s scripts/indieshots/image-api.lua --preset light -d "$duration" --think-scale 0.05 \
    --results "${VOLLEY_RESULTS:-results/demo}" "http://127.0.0.1:$port"
