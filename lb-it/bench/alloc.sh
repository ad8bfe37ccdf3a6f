#!/usr/bin/env bash
# lb-it/bench/alloc.sh: bytes lb allocates per proxied request. One nginx backend (100-byte body), lb with one
# worker, wrk for DURATION on 50 keep-alive connections, a JFR recording; the serving thread's allocation counter
# (jdk.ThreadAllocationStatistics) divided by the requests wrk counted. Checks that every answer was a 2xx.
#   lb-it/bench/alloc.sh [DURATION=15s] [extra JVM flags for lb, e.g. -Dlb.rawHeads=false]   (LB_JAR=... another jar)
# Prints: requests, bytes allocated by the serving thread, bytes per request, and the JFR file's path.
set -euo pipefail
DURATION=${1:-15s}; shift || true
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
JAR=${LB_JAR:-$ROOT/lb-server/target/lb.jar}
[ -f "$JAR" ] || { echo "build first: mvn -q -DskipTests package" >&2; exit 1; }
for t in wrk nginx jfr curl; do command -v $t >/dev/null || { echo "missing $t" >&2; exit 1; }; done
W=$(mktemp -d /tmp/lb-alloc.XXXXXX); chmod 755 "$W"; mkdir -p "$W/tmp"
BPORT=${BPORT:-18481}; PORT=${PORT:-18480}; APORT=${APORT:-18489}
XS=$(printf 'x%.0s' $(seq 1 90))
cat >"$W/backend.conf" <<CONF
worker_processes 1; daemon off; pid $W/backend.pid; error_log $W/backend.err warn;
events { worker_connections 4096; }
http { access_log off; keepalive_requests 1000000; keepalive_timeout 75s;
  client_body_temp_path $W/tmp; proxy_temp_path $W/tmp; fastcgi_temp_path $W/tmp; uwsgi_temp_path $W/tmp; scgi_temp_path $W/tmp;
  server { listen 127.0.0.1:$BPORT; location / { default_type text/plain; return 200 "backend-0:$XS"; } } }
CONF
cat >"$W/lb.yaml" <<CONF
listen: { host: 127.0.0.1, port: $PORT, workers: 1 }
admin: { host: 127.0.0.1, port: $APORT }
backends: [ { url: "http://127.0.0.1:$BPORT" } ]
logging: { access_log: false }
CONF
PIDS=()
cleanup() { for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; }
trap cleanup EXIT
nginx -c "$W/backend.conf" >"$W/backend.out" 2>&1 & PIDS+=($!)
java "$@" -XX:StartFlightRecording=filename=$W/lb.jfr,settings=profile -jar "$JAR" serve -c "$W/lb.yaml" \
  >"$W/lb.out" 2>&1 & LBPID=$!; PIDS+=($LBPID)
for _ in $(seq 1 100); do curl -fsS -o /dev/null "http://127.0.0.1:$PORT/" 2>/dev/null && break; sleep 0.2; done
wrk -t1 -c50 -d5s "http://127.0.0.1:$PORT/" >/dev/null                  # warm-up
jcmd $LBPID JFR.stop name=1 >/dev/null 2>&1 || true
jcmd $LBPID JFR.start name=m settings=profile filename=$W/lb.jfr >/dev/null
wrk -t1 -c50 -d"$DURATION" "http://127.0.0.1:$PORT/" >"$W/wrk.out"
jcmd $LBPID JFR.stop name=m >/dev/null
grep -q "Non-2xx" "$W/wrk.out" && { echo "non-2xx answers: see $W/wrk.out" >&2; exit 1; }
REQ=$(awk '/requests in/ {print $1}' "$W/wrk.out")
# The serving thread's counter: its last value minus its first within the recording.
BYTES=$(jfr print --json --events jdk.ThreadAllocationStatistics "$W/lb.jfr" | python3 -c '
import json, sys
first, last = {}, {}
for e in json.load(sys.stdin)["recording"]["events"]:
    v = e["values"]; name = (v.get("thread") or {}).get("javaName") or ""
    if name.startswith("lb-worker"):
        first.setdefault(name, v["allocated"]); last[name] = v["allocated"]
print(max([last[k] - first[k] for k in last] or [0]))')
echo "requests=$REQ allocated=$BYTES bytes_per_request=$(( BYTES / REQ )) jfr=$W/lb.jfr"
