#!/usr/bin/env bash
# lb-it/bench/run.sh: lb's benchmark. lb, HAProxy and nginx in turn in front of the same three nginx backends, all
# on 127.0.0.1, interleaved over rounds (lb haproxy nginx lb haproxy nginx ...), driven by wrk (-t1, --latency).
# Everything it starts is stopped on exit (also on Ctrl-C); it refuses to run if a port it needs is taken.
#
# Usage: lb-it/bench/run.sh [ROUNDS=5] [DURATION=10s]     (from any directory; build the jar first with
#                                                          mvn -q -DskipTests package)
# Cases (CASES, space-separated; default: all of them):
#   small:N    ~100-byte body, keep-alive, N connections       big:N   64 KiB body (a real file), keep-alive
#   close:N    "Connection: close": a new connection per request
#   chunked:N  16 KiB text body the backend sends chunked (nginx sub_filter on a file: its length is unknown)
#   ratelimit  lb only: rate limiting off, then on (header:X-API-Key, capacity 100, 10/s, H2 in memory), wrk
#              cycling over RL_KEYS API keys on RL_CONNS connections; reports the on/off ratio and the 429s
#   routes     lb only: one upstream (no routes), then 20 routes (10 exact hosts with a prefix each, 4 wildcards,
#              5 path prefixes, none matching the benchmark's requests, and a last catch-all "/" to an upstream of
#              the same three backends: the longest scan a request can make), small body, ROUTES_CONNS connections;
#              reports the 20-routes/one-upstream ratio
#   idle       every target, freshly started and warmed up: RSS growth per idle keep-alive client connection,
#              IDLE_CONNS of them (lb: after a full GC, and its Java heap in use apart)
#   startup    lb only: launching java to the first 200 through it, STARTUP_RUNS times a round; median; each run
#              also with a class-data-sharing archive (-XX:SharedArchiveFile, recorded once by a training start)
# TLS and HTTP/2 cases (every target listens with TLS on PROXY_PORT, with one EC P-256 certificate for 127.0.0.1 and
# localhost that the script makes with openssl; lb with listen.tls, HAProxy "bind ... ssl crt ... alpn h2,http/1.1",
# nginx "listen ... ssl http2"; the backends stay plain HTTP/1.1):
#   tls:N      HTTPS keep-alive, ~100-byte body, N connections (wrk over https://; HTTP/1.1)
#   tlsclose:N "Connection: close" over HTTPS: a new TLS connection per request; req/s = handshakes/s. wrk resumes
#              the last session on its next connection (TLS 1.3 ticket), as a browser would: these are mostly
#              resumed handshakes (the run line says how many: resumed_pct)
#   tlsfull:N  the same with every handshake a full one (certificate, signature): wrk with the tls_handshakes.c
#              shim (LD_PRELOAD) that forgets the session; needs cc
#   h2:N       HTTP/2 over TLS (ALPN h2), h2load -cN -m H2_STREAMS (10) for DURATION; N defaults to 50 ("h2")
#   h2c:N      HTTP/2 with prior knowledge on a plain port (lb listen.h2c: true, HAProxy "bind ... proto h2",
#              nginx "listen ... http2"), h2load as for h2:N
#   The TLS run lines also record what the target negotiated with an OpenSSL client offering h2,http/1.1 (version,
#   cipher, ALPN) and whether it resumes a session; tlsclose/tlsfull record the client's handshakes and how many
#   resumed (counted in wrk by the shim, so they need cc). A TLS or HTTP/2 run is "ok" only if curl through the
#   proxy (verifying the certificate; --http2 or --http2-prior-knowledge for h2/h2c) got a 200 with the 100-byte
#   body (and HTTP/2 for h2/h2c), the load tool saw no non-2xx, error or timeout, the bytes per response cover the
#   body, h2load negotiated h2 (or h2c), and for tlsclose/tlsfull there was a handshake per request (and none
#   resumed in tlsfull).
# Each wrk run (load cases and ratelimit) is preceded by a warm-up of WARMUP with the same connections, path and
# headers (for lb, JIT compilation), and records requests/s, p99, non-2xx and socket errors, bytes read per
# request, and the proxy's CPU (user+sys of it and its children, from /proc) -> requests per proxy CPU-second.
# A run is "ok" only if a curl check through the proxy just before it got a 200 with the right body length
# (100 bytes, or 65536 for big), wrk saw no non-2xx response and no socket error, and for big every response
# carried at least 64 KiB.
#
# Env:
#   CASES="small:50 small:256 big:50 close:50 ratelimit idle startup"   (the TLS and HTTP/2 cases only when named,
#                                e.g. CASES="tls:50 tlsclose:50 tlsfull:50 h2:50 h2c:50")
#   TARGETS="lb haproxy nginx"   (subset; ratelimit and startup run only when lb is in it)
#   THREADS=1                    workers of every proxy: lb listen.workers, HAProxy nbthread, nginx worker_processes
#   LB_JAR=<repo>/lb-server/target/lb.jar    LB_JAVA_OPTS=""  (JVM flags for lb, e.g. "-Xmx512m")
#   LB_EXTRA_YAML=""             appended to lb's generated config (keys not already in it, e.g. "proxy: {...}")
#   WARMUP=5s                    warm-up before every measured wrk run and before idle; 0 = none
#   PIN=1                        the proxy alone on the last CPU, the backends and wrk on the others (taskset): far
#                                steadier ratios on a small shared machine, with the proxy's CPU capped at one core
#   BACKEND_PORT=19001           the three backends use it and the next two
#   PROXY_PORT=18080             the proxy under test     ADMIN_PORT=18081  lb's admin listener
#   IDLE_CONNS=10000  IDLE_WAIT=3 (seconds idle before the second RSS reading)
#   STARTUP_RUNS=3               startup measurements per round
#   RL_KEYS=100000  RL_CONNS=50  the ratelimit case's distinct API keys and connections
#   ROUTES_CONNS=50              the routes case's connections
#   RL_REDIS=""                  a Redis URL: the ratelimit case also runs with scope: cluster on it ("cluster")
#   PYTHON=/usr/bin/python3
#   H2_STREAMS=10                h2load's -m (concurrent streams per connection) in h2:N and h2c:N
# Output: one line per run as it goes; at the end every run line again, median tables, lb's ratios against HAProxy
# and nginx, the ratelimit on/off ratio, idle KiB per connection, the startup median, and the work dir
# (/tmp/lb-it-bench.XXXXXX) holding results.txt (header and run lines), results.md (the same tables in Markdown),
# the generated configs, the proxies' logs and every wrk output.
# Needs: wrk, haproxy, nginx (apt-get install -y wrk haproxy nginx), curl, java 17+ (jcmd for lb's idle case),
# python3; for the TLS cases openssl, for h2/h2c h2load (apt-get install -y openssl nghttp2-client), for
# tlsclose/tlsfull cc (gcc). Ports below 1024 are not used; nothing listens beyond 127.0.0.1.
set -u

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
ROUNDS=${1:-${ROUNDS:-5}}
DUR=${2:-${DURATION:-10s}}
CASES=${CASES:-"small:50 small:256 big:50 close:50 ratelimit idle startup"}
TARGETS=${TARGETS:-"lb haproxy nginx"}
THREADS=${THREADS:-1}
PIN=${PIN:-0}
NCPU=$(nproc)
if [ "$PIN" = 1 ] && [ "$NCPU" -ge 2 ]; then
  PX=(taskset -c $((NCPU - 1))); LD=(taskset -c 0-$((NCPU - 2)))
else
  PIN=0; PX=(); LD=()
fi
JAR=$(readlink -f "${LB_JAR:-$ROOT/lb-server/target/lb.jar}")
LB_JAVA_OPTS=${LB_JAVA_OPTS:-}
LB_EXTRA_YAML=${LB_EXTRA_YAML:-}
WARMUP=${WARMUP:-5s}
BACKEND_PORT=${BACKEND_PORT:-19001}
PROXY_PORT=${PROXY_PORT:-18080}
ADMIN_PORT=${ADMIN_PORT:-$((PROXY_PORT + 1))}
IDLE_CONNS=${IDLE_CONNS:-10000}
IDLE_WAIT=${IDLE_WAIT:-3}
STARTUP_RUNS=${STARTUP_RUNS:-3}
RL_KEYS=${RL_KEYS:-100000}
RL_CONNS=${RL_CONNS:-50}
ROUTES_CONNS=${ROUTES_CONNS:-50}
PY=${PYTHON:-/usr/bin/python3}
. "$HERE/procs.sh"                    # port_free, stop_pid
H2_STREAMS=${H2_STREAMS:-10}

die() { echo "run.sh: $*" >&2; exit 2; }

# ---- arguments --------------------------------------------------------------------------------------------------
[[ $ROUNDS =~ ^[1-9][0-9]*$ ]] || die "ROUNDS must be a positive integer, got '$ROUNDS'"
is_dur() { [[ $1 =~ ^[0-9]+(s|m|h)?$ ]]; }
is_dur "$DUR" && [ "${DUR%[smh]}" != 0 ] || die "DURATION must be like 10s or 1m, got '$DUR'"
is_dur "$WARMUP" || die "WARMUP must be like 5s or 0, got '$WARMUP'"
[[ $THREADS =~ ^[1-9][0-9]*$ ]] || die "THREADS must be a positive integer, got '$THREADS'"
for v in BACKEND_PORT PROXY_PORT ADMIN_PORT IDLE_CONNS IDLE_WAIT STARTUP_RUNS RL_KEYS RL_CONNS ROUTES_CONNS H2_STREAMS; do
  [[ ${!v} =~ ^[0-9]+$ ]] || die "$v must be an integer, got '${!v}'"
done
# Load cases by the listener they need: plain HTTP/1.1, TLS, h2c (each its own start of the target).
LOAD_CASES=""; TLS_CASES=""; H2C_CASES=""; DO_RL=0; DO_IDLE=0; DO_STARTUP=0; DO_ROUTES=0
for c in $CASES; do
  case $c in
    h2|h2c) c+=":50" ;;
  esac
  case $c in
    small:[1-9]*|big:[1-9]*|close:[1-9]*|chunked:[1-9]*) [[ ${c#*:} =~ ^[0-9]+$ ]] || die "bad case '$c'"; LOAD_CASES+="$c " ;;
    tls:[1-9]*|tlsclose:[1-9]*|tlsfull:[1-9]*|h2:[1-9]*) [[ ${c#*:} =~ ^[0-9]+$ ]] || die "bad case '$c'"; TLS_CASES+="$c " ;;
    h2c:[1-9]*) [[ ${c#*:} =~ ^[0-9]+$ ]] || die "bad case '$c'"; H2C_CASES+="$c " ;;
    ratelimit) DO_RL=1 ;;
    routes) DO_ROUTES=1 ;;
    idle) DO_IDLE=1 ;;
    startup) DO_STARTUP=1 ;;
    *) die "unknown case '$c' (small:N big:N close:N chunked:N tls:N tlsclose:N tlsfull:N h2[:N] h2c[:N] ratelimit routes idle startup)" ;;
  esac
done
HAS_LB=0
for t in $TARGETS; do
  case $t in lb) HAS_LB=1 ;; haproxy|nginx) ;; *) die "unknown target '$t' (lb haproxy nginx)" ;; esac
done
if [ $HAS_LB = 0 ]; then
  [ $DO_RL = 1 ] && echo "run.sh: ratelimit is an lb case and lb is not in TARGETS: skipped" >&2
  [ $DO_STARTUP = 1 ] && echo "run.sh: startup is an lb case and lb is not in TARGETS: skipped" >&2
  [ $DO_ROUTES = 1 ] && echo "run.sh: routes is an lb case and lb is not in TARGETS: skipped" >&2
  DO_RL=0; DO_STARTUP=0; DO_ROUTES=0
fi
[ -n "$LOAD_CASES$TLS_CASES$H2C_CASES" ] || [ $DO_RL = 1 ] || [ $DO_ROUTES = 1 ] || [ $DO_IDLE = 1 ] || [ $DO_STARTUP = 1 ] \
  || die "nothing to run"
DO_TLS=0; [ -n "$TLS_CASES" ] && DO_TLS=1
DO_SHIM=0; [[ " $TLS_CASES" == *" tlsclose:"* || " $TLS_CASES" == *" tlsfull:"* ]] && DO_SHIM=1

need=(curl nginx)
[ -n "$LOAD_CASES" ] || [ $DO_RL = 1 ] || [ $DO_ROUTES = 1 ] || [ $DO_IDLE = 1 ] && need+=(wrk)
[[ " $TLS_CASES" == *" tls"* ]] && need+=(wrk)
[ $DO_TLS = 1 ] && need+=(openssl)
[[ " $TLS_CASES $H2C_CASES" == *" h2"* ]] && need+=(h2load)
[ $DO_SHIM = 1 ] && need+=(cc)
case " $TARGETS " in *" haproxy "*) need+=(haproxy) ;; esac
for t in "${need[@]}"; do
  command -v "$t" >/dev/null || die "missing $t (apt-get install -y wrk haproxy nginx curl openssl nghttp2-client gcc)"
done
[ -x "$PY" ] || die "no python at $PY (set PYTHON)"
JCMD=""
if [ $HAS_LB = 1 ]; then
  command -v java >/dev/null || die "missing java (17 or newer)"
  [ -f "$JAR" ] || die "no jar at $JAR: mvn -q -DskipTests package (or set LB_JAR)"
  JCMD=$(dirname "$(readlink -f "$(command -v java)")")/jcmd
  [ -x "$JCMD" ] || JCMD=$(command -v jcmd || true)
fi

if [ $DO_IDLE = 1 ]; then
  h=$(ulimit -Hn); [ "$h" = unlimited ] || [ "$h" -ge $((IDLE_CONNS + 500)) ] || \
    die "the idle case needs an open-file limit above IDLE_CONNS + 500 = $((IDLE_CONNS + 500)); ulimit -Hn is $h (lower IDLE_CONNS)"
fi

# ---- ports ------------------------------------------------------------------------------------------------------
PORTS=("$BACKEND_PORT" $((BACKEND_PORT + 1)) $((BACKEND_PORT + 2)) "$PROXY_PORT")
[ $HAS_LB = 1 ] && PORTS+=("$ADMIN_PORT")
[ "$(printf '%s\n' "${PORTS[@]}" | sort -u | wc -l)" = "${#PORTS[@]}" ] || die "ports overlap: ${PORTS[*]}"
# Free means a server could bind it now on 127.0.0.1 (SO_REUSEADDR, as servers do: TIME_WAIT does not count).
for p in "${PORTS[@]}"; do
  [ "$p" -ge 1024 ] && [ "$p" -le 65535 ] || die "port $p out of range 1024-65535"
  port_free "$p" || die "port $p is taken (ss -ltnp 'sport = :$p'); choose others with BACKEND_PORT, PROXY_PORT, ADMIN_PORT"
done

# ---- work dir, cleanup ------------------------------------------------------------------------------------------
W=$(mktemp -d /tmp/lb-it-bench.XXXXXX) || die "mktemp failed"
chmod 755 "$W"                        # nginx's workers (nobody) must reach www/ below
RES=$W/results.txt
mkdir -p "$W/www" "$W/wrk" "$W/tmp"
BG=()                                 # long-lived processes: the backends
TPID=""                               # the proxy under test, or a helper (idle clients, startup probe)
HPID=""
cleanup() {
  trap - EXIT INT TERM
  stop_pid "$HPID"; stop_pid "$TPID"
  local p; for p in ${BG[@]+"${BG[@]}"}; do stop_pid "$p"; done
  echo "# work dir: $W"
}
trap cleanup EXIT
trap 'echo "run.sh: interrupted" >&2; exit 130' INT
trap 'echo "run.sh: terminated" >&2; exit 143' TERM

emit() { echo "$*"; echo "$*" >>"$RES"; }
status_of() { if [ -n "$1" ]; then echo "FAIL:${1%,}"; else echo ok; fi; }   # "reason,reason," -> FAIL:reason,reason

# ---- backends ---------------------------------------------------------------------------------------------------
SMALL_SIZE=100
XS=$(printf 'x%.0s' $(seq 1 $((SMALL_SIZE - 10))))    # "backend-N:" + 90 x = 100 bytes
head -c 65536 /dev/urandom >"$W/www/big.bin"
head -c 12288 /dev/urandom | base64 -w 76 | head -c 16384 >"$W/www/chunked.txt"
chmod 644 "$W/www/big.bin" "$W/www/chunked.txt"; chmod 755 "$W/www"
for i in 0 1 2; do
  port=$((BACKEND_PORT + i)); mkdir -p "$W/tmp/b$i"
  cat >"$W/backend$i.conf" <<CONF
worker_processes 1; daemon off; pid $W/backend$i.pid; error_log $W/backend$i.err warn;
events { worker_connections 20000; }
http { access_log off; keepalive_requests 1000000; keepalive_timeout 75s; sendfile on;
  client_body_temp_path $W/tmp/b$i; proxy_temp_path $W/tmp/b$i; fastcgi_temp_path $W/tmp/b$i; uwsgi_temp_path $W/tmp/b$i; scgi_temp_path $W/tmp/b$i;
  server { listen 127.0.0.1:$port backlog=4096;
    location = /big { default_type application/octet-stream; alias $W/www/big.bin; }
    location = /chunked { default_type text/plain; alias $W/www/chunked.txt;
      sub_filter_types text/plain; sub_filter '@@' '@@'; sub_filter_once off; }
    location = /health { default_type text/plain; return 200 "ok"; }
    location / { default_type text/plain; return 200 "backend-$i:$XS"; } } }
CONF
  ${LD[@]+"${LD[@]}"} nginx -c "$W/backend$i.conf" >"$W/backend$i.out" 2>&1 &
  BG+=($!)
done

# ---- proxies' configurations ------------------------------------------------------------------------------------
# Equivalent to ../shared/bench/compare.sh (round robin, keep-alive to the backends); the connection limits are
# raised above IDLE_CONNS for the idle case.
MAXCONN=$((IDLE_CONNS + 2000))
NOFILE=$(ulimit -Hn); [ "$NOFILE" = unlimited ] && NOFILE=1048576
# HAProxy wants 2 descriptors per connection and refuses to start when it cannot raise its limit that far; idle
# client connections need one each (the backend side is pooled), so let it start with what the hard limit allows.
HAPROXY_LIMITS=""; [ $((2 * MAXCONN + 100)) -le "$NOFILE" ] || HAPROXY_LIMITS="no strict-limits"
# TLS: one self-signed EC P-256 certificate for 127.0.0.1 and localhost, for every target (HAProxy wants the
# certificate and its key in one file); curl checks against it. The shim for tlsclose/tlsfull (tls_handshakes.c).
CERT=$W/tls/cert.pem; KEY=$W/tls/key.pem; CERTKEY=$W/tls/cert+key.pem
if [ $DO_TLS = 1 ]; then
  mkdir -p "$W/tls"
  openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -sha256 -days 365 \
    -subj "/CN=localhost" -addext "subjectAltName=DNS:localhost,IP:127.0.0.1" \
    -keyout "$KEY" -out "$CERT" >"$W/tls/openssl.out" 2>&1 || { cat "$W/tls/openssl.out" >&2; die "openssl could not make the certificate"; }
  cat "$CERT" "$KEY" >"$CERTKEY"
  chmod 644 "$CERT" "$KEY" "$CERTKEY"   # nginx reads them as root before it drops to its workers; nothing secret
fi
SHIM=$W/tls_handshakes.so
if [ $DO_SHIM = 1 ]; then
  cc -O2 -shared -fPIC -o "$SHIM" "$HERE/tls_handshakes.c" -ldl >"$W/tls_handshakes.out" 2>&1 \
    || { cat "$W/tls_handshakes.out" >&2; die "cc could not build tls_handshakes.so"; }
fi

# Each proxy's configuration per listener mode: plain (HTTP/1.1), tls (TLS, ALPN h2 and http/1.1), h2c (HTTP/2 with
# prior knowledge on a plain port); only the listening line differs.
haproxy_cfg() { # $1 = file, $2 = the bind line's options after the address
  cat >"$1" <<CONF
global
    nbthread $THREADS
    maxconn $MAXCONN
    $HAPROXY_LIMITS
defaults
    mode http
    option http-keep-alive
    http-reuse always
    timeout connect 5s
    timeout client 75s
    timeout server 60s
frontend fe
    bind 127.0.0.1:$PROXY_PORT $2
    default_backend be
backend be
    balance roundrobin
    server s0 127.0.0.1:$BACKEND_PORT
    server s1 127.0.0.1:$((BACKEND_PORT + 1))
    server s2 127.0.0.1:$((BACKEND_PORT + 2))
CONF
}
haproxy_cfg "$W/haproxy.cfg" ""
[ $DO_TLS = 1 ] && haproxy_cfg "$W/haproxy-tls.cfg" "ssl crt $CERTKEY alpn h2,http/1.1"
[ -n "$H2C_CASES" ] && haproxy_cfg "$W/haproxy-h2c.cfg" "proto h2"
mkdir -p "$W/tmp/px"
nginx_conf() { # $1 = file, $2 = the listen directive's options after the address, $3 = more server directives
  cat >"$1" <<CONF
worker_processes $THREADS; worker_rlimit_nofile $NOFILE; daemon off; pid $W/nginx.pid; error_log $W/nginx.err warn;
events { worker_connections $MAXCONN; }
http { access_log off; keepalive_requests 1000000; keepalive_timeout 75s;
  client_body_temp_path $W/tmp/px; proxy_temp_path $W/tmp/px; fastcgi_temp_path $W/tmp/px; uwsgi_temp_path $W/tmp/px; scgi_temp_path $W/tmp/px;
  upstream be { server 127.0.0.1:$BACKEND_PORT; server 127.0.0.1:$((BACKEND_PORT + 1)); server 127.0.0.1:$((BACKEND_PORT + 2)); keepalive 64; keepalive_requests 1000000; }
  server { listen 127.0.0.1:$PROXY_PORT backlog=4096 $2; $3
    location / { proxy_pass http://be; proxy_http_version 1.1; proxy_set_header Connection ""; } } }
CONF
}
nginx_conf "$W/nginx.conf" "" ""
# ssl_protocols: nginx 1.22's default still lacks TLS 1.3 (added to it in 1.23.4); the others offer 1.2 and 1.3.
[ $DO_TLS = 1 ] && nginx_conf "$W/nginx-tls.conf" "ssl http2" \
  "ssl_certificate $CERT; ssl_certificate_key $KEY; ssl_protocols TLSv1.2 TLSv1.3;"
[ -n "$H2C_CASES" ] && nginx_conf "$W/nginx-h2c.conf" "http2" ""
lb_yaml() { # $1 = file, $2 = off|on|cluster (rate limiting) | routes | tls | h2c (listener)
  {
    local lx=""
    [ "$2" = tls ] && lx=", tls: { cert_file: \"$CERT\", key_file: \"$KEY\", alpn: [h2, http/1.1] }"
    [ "$2" = h2c ] && lx=", h2c: true"
    echo "listen: { host: 127.0.0.1, port: $PROXY_PORT, workers: $THREADS, max_connections: $MAXCONN$lx }"
    echo "admin: { host: 127.0.0.1, port: $ADMIN_PORT }"
    echo "backends:"
    echo "  - url: http://127.0.0.1:$BACKEND_PORT"
    echo "  - url: http://127.0.0.1:$((BACKEND_PORT + 1))"
    echo "  - url: http://127.0.0.1:$((BACKEND_PORT + 2))"
    echo "logging: { access_log: false }"
    if [ "$2" = on ]; then
      echo 'rate_limit: { enabled: true, client_key: "header:X-API-Key", default: { capacity: 100, rate_per_sec: 10 } }'
      echo 'store: { url: "jdbc:h2:mem:bench;DB_CLOSE_DELAY=-1" }'
    elif [ "$2" = cluster ]; then
      echo 'rate_limit: { enabled: true, client_key: "header:X-API-Key", default: { capacity: 100, rate_per_sec: 10 },'
      echo "  scope: cluster, redis: { url: \"$RL_REDIS\", timeout: 50ms } }"
      echo 'store: { url: "jdbc:h2:mem:bench;DB_CLOSE_DELAY=-1" }'
    fi
    if [ "$2" = routes ]; then
      # 20 routes none of which matches the benchmark's requests but the last: every request scans them all.
      echo "upstreams:"
      echo "  web: { backends: [http://127.0.0.1:$BACKEND_PORT, http://127.0.0.1:$((BACKEND_PORT + 1)),"
      echo "                    http://127.0.0.1:$((BACKEND_PORT + 2))] }"
      echo "routes:"
      for i in $(seq 1 10); do echo "  - { host: api$i.example.com, path_prefix: /v$i/, upstream: web }"; done
      for i in $(seq 1 4); do echo "  - { host: \"*.svc$i.example.com\", upstream: web }"; done
      for i in $(seq 1 5); do echo "  - { path_prefix: /static$i/, upstream: default }"; done
      echo "  - { path_prefix: /, upstream: web }"
    fi
    [ -n "$LB_EXTRA_YAML" ] && printf '%s\n' "$LB_EXTRA_YAML"
  } >"$1"
}
if [ $HAS_LB = 1 ]; then
  lb_yaml "$W/lb.yaml" off
  lb_yaml "$W/lb-ratelimit.yaml" on
  [ -n "${RL_REDIS:-}" ] && lb_yaml "$W/lb-ratelimit-cluster.yaml" cluster
  lb_yaml "$W/lb-routes.yaml" routes
  lb_yaml "$W/lb-tls.yaml" tls
  lb_yaml "$W/lb-h2c.yaml" h2c
  for f in lb.yaml lb-ratelimit.yaml lb-routes.yaml lb-tls.yaml lb-h2c.yaml; do
    [ $DO_RL = 1 ] || [ $f != lb-ratelimit.yaml ] || continue
    [ $DO_ROUTES = 1 ] || [ $f != lb-routes.yaml ] || continue
    [ $DO_TLS = 1 ] || [ $f != lb-tls.yaml ] || continue
    [ -n "$H2C_CASES" ] || [ $f != lb-h2c.yaml ] || continue
    (cd "$W" && java -jar "$JAR" check -c "$W/$f" >"$W/$f.check" 2>&1) || { cat "$W/$f.check" >&2; die "lb rejects $W/$f"; }
  done
fi
case " $TARGETS " in *" haproxy "*)
  for f in haproxy.cfg haproxy-tls.cfg haproxy-h2c.cfg; do
    [ -f "$W/$f" ] || continue
    haproxy -c -f "$W/$f" >"$W/$f.check" 2>&1 || { cat "$W/$f.check" >&2; die "haproxy rejects $W/$f"; }
  done ;;
esac
case " $TARGETS " in *" nginx "*)
  for f in nginx.conf nginx-tls.conf nginx-h2c.conf; do
    [ -f "$W/$f" ] || continue
    nginx -t -q -c "$W/$f" >"$W/$f.check" 2>&1 || { cat "$W/$f.check" >&2; die "nginx rejects $W/$f"; }
  done ;;
esac

# ---- helpers ----------------------------------------------------------------------------------------------------
http_code() { curl -s -o /dev/null --max-time 2 -w '%{http_code}' "$@" 2>/dev/null; }
wait_200() { # $1 = url, $2 = pid that must stay alive, then curl's options (TLS, HTTP/2); up to 60 s
  local i u=$1 p=$2; shift 2
  for i in $(seq 1 600); do
    [ "$(http_code "$@" "$u")" = 200 ] && return 0
    kill -0 "$p" 2>/dev/null || return 1
    sleep 0.1
  done
  return 1
}
wait_port_free() { local i; for i in $(seq 1 100); do port_free "$1" && return 0; sleep 0.1; done; return 1; }
for i in 0 1 2; do
  wait_200 "http://127.0.0.1:$((BACKEND_PORT + i))/health" "${BG[$i]}" || die "backend $i did not start; see $W/backend$i.err"
done

# How curl reaches the target in each listener mode: the URL of / and its options.
mode_url() { if [ "$1" = tls ]; then echo "https://127.0.0.1:$PROXY_PORT/"; else echo "http://127.0.0.1:$PROXY_PORT/"; fi; }
mode_curl() { # into CURL_OPTS
  case $1 in
    plain) CURL_OPTS=() ;;
    tls) CURL_OPTS=(--cacert "$CERT") ;;
    h2c) CURL_OPTS=(--http2-prior-knowledge) ;;
  esac
}

# $1 = lb|haproxy|nginx, $2 = lb's config file, $3 = plain|tls|h2c (the listener; default plain); sets TPID;
# 1 if it does not answer 200
start_target() {
  local mode=${3:-plain} sfx=""
  [ "$mode" = plain ] || sfx="-$mode"
  wait_port_free "$PROXY_PORT" || { echo "run.sh: port $PROXY_PORT still taken" >&2; return 1; }
  [ "$1" != lb ] || wait_port_free "$ADMIN_PORT" || { echo "run.sh: port $ADMIN_PORT still taken" >&2; return 1; }
  case $1 in
    haproxy) ${PX[@]+"${PX[@]}"} haproxy -db -f "$W/haproxy$sfx.cfg" >>"$W/haproxy.log" 2>&1 & TPID=$! ;;
    nginx) ${PX[@]+"${PX[@]}"} nginx -c "$W/nginx$sfx.conf" >>"$W/nginx.log" 2>&1 & TPID=$! ;;
    lb) (cd "$W" && exec ${PX[@]+"${PX[@]}"} java $LB_JAVA_OPTS -jar "$JAR" serve -c "$2" >>"$W/lb.log" 2>&1) & TPID=$! ;;
  esac
  mode_curl "$mode"
  if wait_200 "$(mode_url "$mode")" "$TPID" ${CURL_OPTS[@]+"${CURL_OPTS[@]}"}; then
    if [ "$1" = lb ] && [ $LB_SEEN = 0 ]; then   # lb's start line (transport, event loops) once, into the header
      LB_SEEN=1; grep -m1 -o 'listening on .*' "$W/lb.log" | sed 's/^/# lb: /' | tee -a "$RES"
    fi
    return 0
  fi
  echo "run.sh: $1 did not answer 200 on port $PROXY_PORT; see $W/$1.log" >&2
  stop_pid "$TPID"; TPID=""
  return 1
}
LB_SEEN=0

# What the target (TLS mode) negotiates with an OpenSSL client offering h2,http/1.1, as wrk and h2load are: the
# version, cipher and ALPN protocol; and whether it resumes a session (a second connection offering the first's
# session or TLS 1.3 ticket). Into TLS_FACTS, which the TLS cases' run lines carry.
TLS_FACTS=""
tls_probe() {
  local o v c a res=no
  o=$(timeout 10 openssl s_client -connect "127.0.0.1:$PROXY_PORT" -servername localhost -alpn h2,http/1.1 \
    </dev/null 2>/dev/null | tr -d '\000')   # with h2 the server's SETTINGS frame follows, binary
  v=$(sed -n 's/^New, \([^,]*\), Cipher is \(.*\)$/\1/p' <<<"$o" | head -1)
  c=$(sed -n 's/^New, \([^,]*\), Cipher is \(.*\)$/\2/p' <<<"$o" | head -1)
  a=$(sed -n 's/^ALPN protocol: *//p' <<<"$o" | head -1)
  # The session (TLS 1.3: its ticket comes after the handshake) is saved once a response was read.
  rm -f "$W/tls/session.pem"
  printf 'GET / HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n' | timeout 10 openssl s_client \
    -connect "127.0.0.1:$PROXY_PORT" -servername localhost -alpn http/1.1 -ign_eof -sess_out "$W/tls/session.pem" \
    >/dev/null 2>&1
  if [ -s "$W/tls/session.pem" ]; then
    printf 'GET / HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n' | timeout 10 openssl s_client \
      -connect "127.0.0.1:$PROXY_PORT" -servername localhost -alpn http/1.1 -ign_eof -sess_in "$W/tls/session.pem" \
      2>/dev/null | grep -q '^Reused,' && res=yes
  fi
  TLS_FACTS="tls=${v:-NA} cipher=${c:-NA} alpn=${a:-none} resumes=$res"
}

stop_target() { stop_pid "$TPID"; TPID=""; sleep 1; }   # a second to settle, as between all runs

# Runs a command in the background with its output to $1 and waits for it, so that a signal to this script is
# handled at once (and the command stopped by cleanup) rather than after the command ends.
bg_wait() { local f=$1; shift; "$@" >"$f" 2>&1 & HPID=$!; wait "$HPID"; HPID=""; }

# pids of a process and its children (nginx's workers)
family() { echo "$1"; ps -o pid= --ppid "$1" 2>/dev/null; }
ticks() { local t=0 q v; for q in $(family "$1"); do
  v=$(awk '{ sub(/^.*\) /, ""); print $12 + $13 }' "/proc/$q/stat" 2>/dev/null) || v=0; t=$((t + ${v:-0})); done; echo $t; }
rss_kib() { local t=0 q v; for q in $(family "$1"); do
  v=$(awk '/^VmRSS:/ { print $2 }' "/proc/$q/status" 2>/dev/null) || v=0; t=$((t + ${v:-0})); done; echo $t; }
HZ=$(getconf CLK_TCK)

# For lb: a full GC (so garbage does not count in the RSS), then the Java heap in use, in KiB, into HEAP_KIB
# (the sum of "used" over the heap's generations, whatever the collector); GC_OK=0 when jcmd failed.
HEAP_KIB=NA; GC_OK=1
gc() {
  HEAP_KIB=NA
  if [ "$1" = lb ]; then
    if [ -n "$JCMD" ] && "$JCMD" "$TPID" GC.run >/dev/null 2>&1; then
      HEAP_KIB=$("$JCMD" "$TPID" GC.heap_info 2>/dev/null |
        awk '/ total [0-9]+K, used [0-9]+K/ { sub(/.* used /, ""); sub(/K.*/, ""); u += $0; n++ } END { if (n) print u; else print "NA" }')
    else
      GC_OK=0
    fi
  fi
  sleep 0.5
}

r429() { curl -s --max-time 5 "http://127.0.0.1:$ADMIN_PORT/metrics" 2>/dev/null |
  awk '/^lb_ratelimit_rejected_total/ { v = $2; found = 1 } END { if (found) printf "%d", v; else printf "NA" }'; }

rcalls() { curl -s --max-time 5 "http://127.0.0.1:$ADMIN_PORT/metrics" 2>/dev/null |
  awk '/^lb_ratelimit_redis_calls_total/ { v += $2 } END { printf "%d", v }'; }

# One measured wrk run (after its warm-up): $1 round, $2 target, $3 case (small:N, big:N, close:N, chunked:N,
# tls:N, tlsclose:N, tlsfull:N, ratelimit-off|on|cluster, routes-one|twenty)
load_case() {
  local r=$1 t=$2 c=$3 conns path=/ want=$SMALL_SIZE hdr=() lua=() chk=() why="" scheme=http shim=()
  case $c in
    tls:*) conns=${c#*:}; scheme=https; chk=(--cacert "$CERT" --http1.1) ;;
    tlsclose:*) conns=${c#*:}; scheme=https; chk=(--cacert "$CERT" --http1.1); hdr=(-H "Connection: close")
      shim=(LD_PRELOAD="$SHIM" TLSHS_NORESUME=0) ;;
    tlsfull:*) conns=${c#*:}; scheme=https; chk=(--cacert "$CERT" --http1.1); hdr=(-H "Connection: close")
      shim=(LD_PRELOAD="$SHIM" TLSHS_NORESUME=1) ;;
    small:*) conns=${c#*:} ;;
    big:*) conns=${c#*:}; path=/big; want=65536 ;;
    chunked:*) conns=${c#*:}; path=/chunked; want=16384 ;;
    close:*) conns=${c#*:}; hdr=(-H "Connection: close") ;;
    ratelimit-*) conns=$RL_CONNS; lua=(-s "$HERE/api_keys.lua"); chk=(-H "X-API-Key: bench-check") ;;
    routes-*) conns=$ROUTES_CONNS ;;
  esac
  local url="$scheme://127.0.0.1:$PROXY_PORT$path" out c0 c1 s0 s1 check n0=0 n1=0
  # Check one response through the proxy: status and body length (and the rate-limit headers when on).
  check=$(curl -s --max-time 5 -D "$W/check.hdr" -o "$W/check.body" -w '%{http_code}/%{size_download}' \
    "${hdr[@]}" ${chk[@]+"${chk[@]}"} "$url" 2>/dev/null)
  [ "$check" = "200/$want" ] || why+="check,"
  if [ "$path" = /big ] && ! cmp -s "$W/check.body" "$W/www/big.bin"; then why+="check_body,"; fi
  if [ "$path" = /chunked ]; then
    cmp -s "$W/check.body" "$W/www/chunked.txt" || why+="check_body,"
    grep -qi '^transfer-encoding: *chunked' "$W/check.hdr" || why+="not_chunked,"
  fi
  if [ "$c" != ratelimit-off ] && [[ $c == ratelimit-* ]] && ! grep -qi '^ratelimit-limit: *100' "$W/check.hdr"; then why+="no_ratelimit_headers,"; fi
  local f="$W/wrk/r$r-$t-${c/:/-}"
  if [ "${WARMUP%[smh]}" != 0 ]; then
    bg_wait "$f.warmup" ${LD[@]+"${LD[@]}"} env RL_KEYS="$RL_KEYS" ${shim[@]+"${shim[@]}"} \
      wrk -t1 -c"$conns" -d"$WARMUP" "${hdr[@]}" ${lua[@]+"${lua[@]}"} "$url"
  fi
  [[ $c == ratelimit-* ]] && n0=$(r429)
  local k0=0 k1=0
  [ "$c" = ratelimit-cluster ] && k0=$(rcalls)
  c0=$(ticks "$TPID"); s0=$(date +%s.%N)
  rm -f "$f.hs"
  bg_wait "$f.txt" ${LD[@]+"${LD[@]}"} env RL_KEYS="$RL_KEYS" ${shim[@]+"${shim[@]}"} TLSHS_OUT="$f.hs" \
    wrk -t1 -c"$conns" -d"$DUR" --latency "${hdr[@]}" ${lua[@]+"${lua[@]}"} "$url"
  s1=$(date +%s.%N); c1=$(ticks "$TPID")
  [[ $c == ratelimit-* ]] && n1=$(r429)
  [ "$c" = ratelimit-cluster ] && k1=$(rcalls)
  out=$(cat "$f.txt")
  kill -0 "$TPID" 2>/dev/null || why+="proxy_died,"
  local stats
  stats=$(awk -v a="$c0" -v b="$c1" -v s="$s0" -v e="$s1" -v hz="$HZ" '
    function ms(v) { if (v ~ /us$/) return v * 0.001; if (v ~ /ms$/) return v + 0; if (v ~ /m$/) return v * 60000;
                     if (v ~ /s$/) return v * 1000; return -1 }
    function bytes(v,  n) { n = v + 0; if (v ~ /KB$/) n *= 1024; else if (v ~ /MB$/) n *= 1048576;
                            else if (v ~ /GB$/) n *= 1073741824; else if (v ~ /TB$/) n *= 1099511627776; return n }
    /^Requests\/sec:/ { rps = $2 }
    $1 == "99%" { p99 = ms($2) }
    / requests in / { req = $1; rd = bytes($5) }
    /Non-2xx or 3xx responses:/ { n2 = $NF }
    /Socket errors:/ { gsub(",", ""); se = $4 + $6 + $8 + $10 }
    END { cpu = 100 * (b - a) / hz / (e - s);
          printf "rps=%.1f p99_ms=%s cpu_pct=%.1f rps_per_cpu_s=%.0f requests=%d bytes_per_req=%.0f non2xx=%d sock_err=%d",
            rps, (p99 == "" ? "NA" : sprintf("%.3f", p99)), cpu, (cpu > 0 ? rps / (cpu / 100) : 0), req,
            (req > 0 ? rd / req : 0), n2, se }' <<<"$out")
  local v
  v=$(sed -n 's/.*requests=\([0-9]*\).*/\1/p' <<<"$stats"); [ "${v:-0}" -gt 0 ] || why+="no_requests,"
  v=$(sed -n 's/.*non2xx=\([0-9]*\).*/\1/p' <<<"$stats"); [ "${v:-0}" = 0 ] || why+="non2xx,"
  v=$(sed -n 's/.*sock_err=\([0-9]*\).*/\1/p' <<<"$stats"); [ "${v:-0}" = 0 ] || why+="socket_errors,"
  # wrk prints the bytes read with 3 significant digits or so: allow 1% below the body size (an error page is
  # a few hundred bytes, far below)
  v=$(sed -n 's/.*bytes_per_req=\([0-9]*\).*/\1/p' <<<"$stats"); [ "${v:-0}" -ge $((want * 99 / 100)) ] || why+="short_bodies,"
  local extra=""
  if [ ${#shim[@]} -gt 0 ]; then   # tlsclose, tlsfull: a TLS handshake per request, full ones in tlsfull
    local hs rs
    hs=$(sed -n 's/^handshakes=\([0-9]*\) .*/\1/p' "$f.hs" 2>/dev/null); rs=$(sed -n 's/.* resumed=\([0-9]*\)$/\1/p' "$f.hs" 2>/dev/null)
    if [ -z "$hs" ] || [ -z "$rs" ]; then
      why+="no_handshake_count,"; extra+=" handshakes=NA resumed_pct=NA"
    else
      v=$(sed -n 's/.*requests=\([0-9]*\).*/\1/p' <<<"$stats")
      [ "$hs" -ge "${v:-0}" ] || why+="connections_reused,"   # the target kept connections open despite close
      [[ $c != tlsfull:* ]] || [ "$rs" = 0 ] || why+="resumed,"
      extra+=" handshakes=$hs resumed_pct=$(awk -v h="$hs" -v s="$rs" 'BEGIN { printf "%.1f", (h > 0 ? 100 * s / h : 0) }')"
    fi
  fi
  [ "$scheme" = https ] && extra+=" $TLS_FACTS"
  if [[ $c == ratelimit-* ]]; then
    if [[ $n0 == NA || $n1 == NA ]]; then
      extra=" r429=NA"; [ $c = ratelimit-off ] || why+="no_429_metric,"   # with rate limiting off there may be none
    else
      extra=" r429=$((n1 - n0))"; [ $((n1 - n0)) = 0 ] || why+="429s,"
    fi
    extra+=" keys=$RL_KEYS"
    if [ "$c" = ratelimit-cluster ]; then
      v=$(sed -n 's/.*requests=\([0-9]*\).*/\1/p' <<<"$stats")
      extra+=" redis_calls=$((k1 - k0)) redis_calls_per_req=$(awk -v k=$((k1 - k0)) -v n="${v:-0}" 'BEGIN { printf "%.4f", (n > 0 ? k / n : 0) }')"
    fi
  fi
  emit "round=$r target=$t case=$c conns=$conns $stats$extra check=${check:-none} status=$(status_of "$why")"
}

# One measured h2load run (after its warm-up): $1 round, $2 target, $3 case (h2:N over TLS, h2c:N prior knowledge).
# h2load -t1 -cN -m H2_STREAMS for DURATION; its per-request log gives the p99 (and the statuses again).
h2_case() {
  local r=$1 t=$2 c=$3 conns=${3#*:} url chk want=$SMALL_SIZE why="" proto
  if [[ $c == h2:* ]]; then
    url="https://127.0.0.1:$PROXY_PORT/"; chk=(--http2 --cacert "$CERT"); proto=h2
  else
    url="http://127.0.0.1:$PROXY_PORT/"; chk=(--http2-prior-knowledge); proto=h2c
  fi
  local check f="$W/wrk/r$r-$t-${c/:/-}" c0 c1 s0 s1
  check=$(curl -s --max-time 5 -o "$W/check.body" -w '%{http_code}/%{size_download}/%{http_version}' "${chk[@]}" \
    "$url" 2>/dev/null)
  [ "$check" = "200/$want/2" ] || why+="check,"
  if [ "${WARMUP%[smh]}" != 0 ]; then
    bg_wait "$f.warmup" ${LD[@]+"${LD[@]}"} h2load -t1 -c"$conns" -m"$H2_STREAMS" -D"$WARMUP" "$url"
  fi
  c0=$(ticks "$TPID"); s0=$(date +%s.%N)
  bg_wait "$f.txt" ${LD[@]+"${LD[@]}"} h2load -t1 -c"$conns" -m"$H2_STREAMS" -D"$DUR" --log-file="$f.log" "$url"
  s1=$(date +%s.%N); c1=$(ticks "$TPID")
  kill -0 "$TPID" 2>/dev/null || why+="proxy_died,"
  # The log: start (us since the epoch), status, microseconds to the end of the response; one line per request.
  local lat
  lat=$(awk -F'\t' '{ n++; if ($2 !~ /^2/) bad++; print $3 > "/dev/stderr" } END { printf "%d %d", n, bad }' \
    "$f.log" 2>"$f.lat" || echo "0 0")
  local p99
  p99=$(sort -n "$f.lat" | awk '{ v[NR] = $1 } END { if (NR) { i = int(NR * 0.99 + 0.999999); if (i > NR) i = NR;
    printf "%.3f", v[i] / 1000 } else printf "NA" }')
  rm -f "$f.lat"; gzip -f "$f.log" 2>/dev/null
  local stats
  stats=$(awk -v a="$c0" -v b="$c1" -v s="$s0" -v e="$s1" -v hz="$HZ" -v p99="$p99" -v lat="$lat" '
    /^finished in / { rps = $4 }
    /^requests: / { ok = $8; failed = $10; errored = $12; timeout = $14 }
    /^status codes: / { s2 = $3; s3 = $5; s4 = $7; s5 = $9 }
    /^traffic: / { data = $(NF - 1); gsub(/[()]/, "", data) }
    /^Application protocol: / { alpn = $3 }
    END { cpu = 100 * (b - a) / hz / (e - s); split(lat, l, " ")
          printf "rps=%.1f p99_ms=%s cpu_pct=%.1f rps_per_cpu_s=%.0f requests=%d bytes_per_req=%.0f non2xx=%d errors=%d logged=%d logged_non2xx=%d h2load_proto=%s",
            rps, p99, cpu, (cpu > 0 ? rps / (cpu / 100) : 0), ok, (ok > 0 ? data / ok : 0), s3 + s4 + s5,
            failed + errored + timeout, l[1], l[2], (alpn == "" ? "none" : alpn) }' "$f.txt")
  local v
  v=$(sed -n 's/.*requests=\([0-9]*\).*/\1/p' <<<"$stats"); [ "${v:-0}" -gt 0 ] || why+="no_requests,"
  local n=$v
  v=$(sed -n 's/.* non2xx=\([0-9]*\).*/\1/p' <<<"$stats"); [ "${v:-0}" = 0 ] || why+="non2xx,"
  v=$(sed -n 's/.* errors=\([0-9]*\).*/\1/p' <<<"$stats"); [ "${v:-0}" = 0 ] || why+="errors,"
  v=$(sed -n 's/.* logged_non2xx=\([0-9]*\).*/\1/p' <<<"$stats"); [ "${v:-0}" = 0 ] || why+="non2xx_logged,"
  v=$(sed -n 's/.* logged=\([0-9]*\).*/\1/p' <<<"$stats"); [ "${v:-0}" -ge "${n:-0}" ] || why+="log_short,"
  v=$(sed -n 's/.*bytes_per_req=\([0-9]*\).*/\1/p' <<<"$stats"); [ "${v:-0}" -ge "$want" ] || why+="short_bodies,"
  v=$(sed -n 's/.* h2load_proto=\([^ ]*\).*/\1/p' <<<"$stats"); [ "$v" = "$proto" ] || why+="not_$proto,"
  local extra=" streams=$H2_STREAMS"
  [ $proto = h2 ] && extra+=" $TLS_FACTS"
  emit "round=$r target=$t case=$c conns=$conns $stats$extra check=${check:-none} status=$(status_of "$why")"
}

# Memory per idle keep-alive client connection, for the target running as TPID.
idle_case() { # $1 round, $2 target (running as TPID, just started)
  local r=$1 t=$2 before after line="" why="" i
  if [ "${WARMUP%[smh]}" != 0 ]; then
    bg_wait "$W/wrk/r$r-$t-idle.warmup" ${LD[@]+"${LD[@]}"} wrk -t1 -c50 -d"$WARMUP" "http://127.0.0.1:$PROXY_PORT/"
  fi
  sleep 1
  GC_OK=1
  gc "$t"; before=$(rss_kib "$TPID"); local heap0=$HEAP_KIB
  local log="$W/idle-r$r-$t.txt"
  "$PY" "$HERE/idle_clients.py" --port "$PROXY_PORT" --conns "$IDLE_CONNS" >"$log" 2>&1 & HPID=$!
  for i in $(seq 1 1200); do   # up to 120 s to open them all
    line=$(grep -m1 '^READY\|^ERROR' "$log" 2>/dev/null) && break
    kill -0 "$HPID" 2>/dev/null || break
    sleep 0.1
  done
  if [[ $line != READY* ]]; then
    stop_pid "$HPID"; HPID=""
    emit "round=$r target=$t case=idle conns=$IDLE_CONNS status=FAIL:clients($(tr -s ' \n' '__' <"$log" | head -c 200))"
    return
  fi
  sleep "$IDLE_WAIT"
  gc "$t"; after=$(rss_kib "$TPID"); local heap1=$HEAP_KIB
  kill -0 "$TPID" 2>/dev/null || why+="proxy_died,"
  [ $GC_OK = 1 ] || why+="jcmd_failed,"
  stop_pid "$HPID"; HPID=""
  local open failed dropped
  open=$(sed -n 's/.* open=\([0-9]*\).*/\1/p' <<<"$line"); failed=$(sed -n 's/.* failed=\([0-9]*\).*/\1/p' <<<"$line")
  dropped=$(sed -n 's/^CLOSED.* dropped=\([0-9]*\).*/\1/p' "$log"); dropped=${dropped:-NA}
  [ "${failed:-1}" = 0 ] || why+="failed_conns,"
  [ "$dropped" = 0 ] || why+="dropped_while_idle,"
  local per
  per=$(awk -v a="$before" -v b="$after" -v n="${open:-0}" 'BEGIN { printf "%.3f", (n > 0 ? (b - a) / n : 0) }')
  local heap=""
  if [ "$t" = lb ]; then
    heap=" heap_before_kib=$heap0 heap_after_kib=$heap1 heap_kib_per_conn=$(awk -v a="$heap0" -v b="$heap1" -v n="${open:-0}" \
      'BEGIN { if (a ~ /^[0-9]+$/ && b ~ /^[0-9]+$/ && n > 0) printf "%.3f", (b - a) / n; else printf "NA" }')"
  fi
  emit "round=$r target=$t case=idle conns=$IDLE_CONNS open=${open:-0} failed=${failed:-NA} dropped=$dropped rss_before_kib=$before rss_after_kib=$after kib_per_conn=$per$heap status=$(status_of "$why")"
}

# Launches lb under startup.py until its first 200 through it, then stops it: $1 name of the .log/.out files in $W,
# then extra JVM flags. Fails when a port is still taken.
timed_start() {
  local name=$1; shift
  wait_port_free "$PROXY_PORT" && wait_port_free "$ADMIN_PORT" || return 1
  (cd "$W" && exec "$PY" "$HERE/startup.py" --port "$PROXY_PORT" --log "$W/$name.log" -- \
    java $LB_JAVA_OPTS "$@" -jar "$JAR" serve -c "$W/lb.yaml" >"$W/$name.out" 2>&1) & HPID=$!
  wait "$HPID"; HPID=""
}

startup_case() { # $1 round, $2 run, $3 plain|cds
  local out label=startup flags=()
  if [ "$3" = cds ]; then
    make_archive || { emit "round=$1 target=lb case=startup-cds run=$2 status=FAIL:no_archive"; return; }
    flags=(-XX:SharedArchiveFile="$W/lb.jsa" -Xshare:auto); label=startup-cds
  fi
  timed_start startup "${flags[@]}" || { emit "round=$1 target=lb case=$label run=$2 status=FAIL:port_taken"; return; }
  out=$(tail -1 "$W/startup.out")
  if [[ $out == ms=* ]]; then
    emit "round=$1 target=lb case=$label run=$2 $out status=ok"
  else
    emit "round=$1 target=lb case=$label run=$2 status=FAIL:$(tr -s ' ' '_' <<<"${out:-no_output}")"
  fi
}

# The class-data-sharing archive for startup-cds, recorded once per run by a training start of the same command
# (java -XX:ArchiveClassesAtExit: the JVM writes the classes it loaded when it exits after the first 200).
make_archive() {
  [ -s "$W/lb.jsa" ] && return 0
  timed_start startup-archive -XX:ArchiveClassesAtExit="$W/lb.jsa" -Xlog:cds=off -Xlog:cds+dynamic=off || return 1
  [ -s "$W/lb.jsa" ]
}

# ---- header -----------------------------------------------------------------------------------------------------
{
  echo "# $(date -u +%FT%TZ) rounds=$ROUNDS duration=$DUR warmup=$WARMUP threads=$THREADS pin=$PIN cases='$CASES' targets='$TARGETS'"
  echo "# machine: nproc=$(nproc), $(awk -F': *' '/^model name/ { print $2; exit }' /proc/cpuinfo), kernel $(uname -r), $( . /etc/os-release 2>/dev/null && echo "${PRETTY_NAME:-unknown OS}")"
  [ $HAS_LB = 1 ] && echo "# java: $(java -version 2>&1 | tr '\n' ' ' | tr -s ' ')LB_JAVA_OPTS='$LB_JAVA_OPTS'"
  [ $HAS_LB = 1 ] && echo "# lb: $(java -jar "$JAR" --version 2>&1 | head -1) ($JAR; repository at $(git -C "$ROOT" describe --always --dirty 2>/dev/null || echo unknown))"
  echo "# haproxy: $(haproxy -v 2>&1 | head -1)"
  echo "# nginx: $(nginx -v 2>&1 | head -1)"
  echo "# wrk: $(wrk -v 2>&1 | head -1)"
  [ -n "$TLS_CASES$H2C_CASES" ] && echo "# openssl: $(openssl version 2>&1 | head -1); haproxy's: $(haproxy -vv 2>/dev/null | sed -n 's/^Running on OpenSSL version *: *//p' | head -1); nginx's: $(nginx -V 2>&1 | sed -n 's/^built with //p' | head -1)"
  [[ " $TLS_CASES $H2C_CASES" == *" h2"* ]] && echo "# h2load: $(h2load --version 2>&1 | head -1), -m $H2_STREAMS"
  [ $DO_TLS = 1 ] && echo "# certificate: $(openssl x509 -in "$CERT" -noout -subject 2>/dev/null), EC P-256, self-signed, for 127.0.0.1 and localhost"
} >"$RES"
cat "$RES"

# ---- rounds -----------------------------------------------------------------------------------------------------
for r in $(seq 1 "$ROUNDS"); do
  if [ -n "$LOAD_CASES" ]; then
    for t in $TARGETS; do
      if ! start_target "$t" "$W/lb.yaml"; then emit "round=$r target=$t case=start status=FAIL:did_not_start"; continue; fi
      for c in $LOAD_CASES; do load_case "$r" "$t" "$c"; done
      stop_target
    done
  fi
  if [ -n "$TLS_CASES" ]; then   # TLS listener: HTTPS with wrk, h2 with h2load
    for t in $TARGETS; do
      if ! start_target "$t" "$W/lb-tls.yaml" tls; then emit "round=$r target=$t case=start-tls status=FAIL:did_not_start"; continue; fi
      tls_probe
      for c in $TLS_CASES; do
        if [[ $c == h2:* ]]; then h2_case "$r" "$t" "$c"; else load_case "$r" "$t" "$c"; fi
      done
      stop_target
    done
  fi
  if [ -n "$H2C_CASES" ]; then   # plain listener with HTTP/2 prior knowledge
    for t in $TARGETS; do
      if ! start_target "$t" "$W/lb-h2c.yaml" h2c; then emit "round=$r target=$t case=start-h2c status=FAIL:did_not_start"; continue; fi
      for c in $H2C_CASES; do h2_case "$r" "$t" "$c"; done
      stop_target
    done
  fi
  if [ $DO_IDLE = 1 ]; then   # each on a fresh process, so that the load cases' history does not count
    for t in $TARGETS; do
      if start_target "$t" "$W/lb.yaml"; then idle_case "$r" "$t"; stop_target
      else emit "round=$r target=$t case=idle status=FAIL:did_not_start"; fi
    done
  fi
  if [ $DO_RL = 1 ]; then
    order="off on"; [ $((r % 2)) = 0 ] && order="on off"   # alternate, so drift does not favour one side
    if [ -n "${RL_REDIS:-}" ]; then
      order="off on cluster"; [ $((r % 2)) = 0 ] && order="cluster on off"
      # Each round starts with empty buckets in Redis, as the local ones start empty.
      redis-cli -u "$RL_REDIS" --scan --pattern 'lb:rl:*' 2>/dev/null | xargs -r -n 1000 redis-cli -u "$RL_REDIS" del \
        >/dev/null 2>&1 || true
    fi
    for mode in $order; do
      f=$W/lb.yaml; [ $mode = on ] && f=$W/lb-ratelimit.yaml; [ $mode = cluster ] && f=$W/lb-ratelimit-cluster.yaml
      if start_target lb "$f"; then load_case "$r" lb "ratelimit-$mode"; stop_target
      else emit "round=$r target=lb case=ratelimit-$mode status=FAIL:did_not_start"; fi
    done
  fi
  if [ $DO_ROUTES = 1 ]; then
    order="one twenty"; [ $((r % 2)) = 0 ] && order="twenty one"   # alternate, so drift does not favour one side
    for mode in $order; do
      f=$W/lb.yaml; [ $mode = twenty ] && f=$W/lb-routes.yaml
      if start_target lb "$f"; then load_case "$r" lb "routes-$mode"; stop_target
      else emit "round=$r target=lb case=routes-$mode status=FAIL:did_not_start"; fi
    done
  fi
  if [ $DO_STARTUP = 1 ]; then
    for i in $(seq 1 "$STARTUP_RUNS"); do startup_case "$r" "$i" plain; startup_case "$r" "$i" cds; done
  fi
done

echo
echo "======== summary ========"
cat "$RES" | grep '^#'
"$PY" "$HERE/report.py" "$RES" "$W/results.md"
echo
echo "# markdown: $W/results.md"
