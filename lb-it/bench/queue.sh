#!/usr/bin/env bash
# queue.sh: what backends[].max_connections and the shared queue cost. One nginx backend on loopback; lb in front
# of it uncapped, and capped with 1 and 2 worker event loops (with 2, a connection freed on one loop and wanted by a
# request waiting on the other changes hands through a graceful close and a new connection); wrk with more
# connections than the cap, so requests queue. Rounds interleaved; prints req/s, p99 and non-2xx per run.
# Usage, from the project root after `mvn -q -DskipTests package`:
#   lb-it/bench/queue.sh [ROUNDS=3] [DURATION=8s]        env: CAP=8 CONNS=50 JAR=lb-server/target/lb.jar
set -euo pipefail
ROUNDS=${1:-3}; DUR=${2:-8s}; CAP=${CAP:-8}; CONNS=${CONNS:-50}; JAR=${JAR:-lb-server/target/lb.jar}
for t in wrk nginx java; do command -v $t >/dev/null || { echo "missing $t (apt-get install -y wrk nginx)"; exit 2; }; done
W=$(mktemp -d); PIDS=()
cleanup() { for p in "${PIDS[@]:-}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; rm -rf "$W"; }
trap cleanup EXIT
BPORT=18181; LPORT=18180; APORT=18190
cat >"$W/b.conf" <<CONF
worker_processes 1; daemon off; pid $W/b.pid; error_log $W/b.err warn;
events { worker_connections 8000; }
http { access_log off; keepalive_requests 1000000; keepalive_timeout 75s;
  client_body_temp_path $W; proxy_temp_path $W; fastcgi_temp_path $W; uwsgi_temp_path $W; scgi_temp_path $W;
  server { listen 127.0.0.1:$BPORT backlog=4096;
    location = /health { return 200 "ok"; }
    location / { default_type text/plain; return 200 "backend:xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"; } } }
CONF
nginx -c "$W/b.conf" & PIDS+=($!)
sleep 0.5
run() { # name workers cap
  local name=$1 workers=$2 cap=$3
  cat >"$W/lb.yaml" <<CONF
listen: { host: 127.0.0.1, port: $LPORT, workers: $workers }
admin: { host: 127.0.0.1, port: $APORT }
backends: [ { url: "http://127.0.0.1:$BPORT", max_connections: $cap } ]
health_check: { enabled: false }
logging: { access_log: false }
proxy: { queue: { max_size: 10000, timeout: 30s } }
CONF
  java -jar "$JAR" serve -c "$W/lb.yaml" >"$W/lb.log" 2>&1 & local pid=$!
  for _ in $(seq 1 100); do curl -fs "http://127.0.0.1:$LPORT/" >/dev/null 2>&1 && break; sleep 0.1; done
  wrk -t2 -c"$CONNS" -d2s "http://127.0.0.1:$LPORT/" >/dev/null 2>&1 || true   # warm-up
  local out; out=$(wrk -t2 -c"$CONNS" -d"$DUR" --latency "http://127.0.0.1:$LPORT/" 2>&1)
  local rps p99 non2xx
  rps=$(awk '/Requests\/sec/ {print $2}' <<<"$out")
  p99=$(awk '$1=="99%" {print $2}' <<<"$out")
  non2xx=$(awk '/Non-2xx/ {print $NF}' <<<"$out"); non2xx=${non2xx:-0}
  printf '%-22s req/s %10s  p99 %8s  non-2xx %s\n' "$name" "$rps" "$p99" "$non2xx"
  kill "$pid"; wait "$pid" 2>/dev/null || true
}
for r in $(seq 1 "$ROUNDS"); do
  echo "round $r"
  run "uncapped, 2 loops" 2 0
  run "cap $CAP, 1 loop" 1 "$CAP"
  run "cap $CAP, 2 loops" 2 "$CAP"
done
