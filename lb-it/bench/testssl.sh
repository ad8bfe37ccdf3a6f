#!/usr/bin/env bash
# lb-it/bench/testssl.sh: testssl.sh (Debian's package, command "testssl") against a TLS listener with its default
# settings, everything on 127.0.0.1: one plain backend (python3 -m http.server), the target in front of it with a
# certificate made here, then the scan. Prints every finding of severity LOW and above, and exits 1 if any finding
# about TLS is above LOW (MEDIUM, HIGH, CRITICAL), 0 if none, 2 if it could not run or the scan failed.
#
# Usage: lb-it/bench/testssl.sh [TARGET=lb]       TARGET: lb | haproxy | nginx
#
# The certificate is shaped like a public CA's leaf (EC P-256, 90 days, issued by a CA made here and given to
# testssl with --add-ca, with CRL and OCSP URIs that nothing fetches: testssl contacts them only with --phone-out),
# so that the findings are about the server and not about a test certificate. SELF_SIGNED=1 uses a bare self-signed
# certificate instead (as run.sh does); testssl then also reports the certificate's own shortcomings.
#
# Findings that come from the HTTP response rather than TLS (HSTS, HPKP, security headers, cookies, banners, BREACH,
# which depends on the backend compressing its answer) are printed apart and do not fail the run: a proxy passes the
# backend's headers on. STRICT=1 counts them too.
#
# Env:
#   TARGET=lb  PORT=18443 (the TLS listener)  ADMIN_PORT=PORT+1 (lb's admin)  BACKEND_PORT=19081
#   LB_JAR=<repo>/lb-server/target/lb.jar  LB_JAVA_OPTS=""
#   LB_TLS_YAML=""       more keys under lb's listen.tls (e.g. "min_version: TLSv1.3"); default: none, lb's defaults
#   TESTSSL_OPTS=""      more testssl options (e.g. "--ids-friendly"); TESTSSL_TIMEOUT=1800 (seconds)
#   SELF_SIGNED=0  STRICT=0  PYTHON=/usr/bin/python3
# Needs: testssl.sh openssl curl (apt-get install -y testssl.sh openssl curl), python3; java 17+ for lb; haproxy or
# nginx for those targets. A scan takes several minutes (5 to 10 on a loaded 2-core machine).
set -u

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
TARGET=${1:-${TARGET:-lb}}
PORT=${PORT:-18443}
ADMIN_PORT=${ADMIN_PORT:-$((PORT + 1))}
BACKEND_PORT=${BACKEND_PORT:-19081}
JAR=$(readlink -f "${LB_JAR:-$ROOT/lb-server/target/lb.jar}")
LB_JAVA_OPTS=${LB_JAVA_OPTS:-}
LB_TLS_YAML=${LB_TLS_YAML:-}
TESTSSL_OPTS=${TESTSSL_OPTS:-}
TESTSSL_TIMEOUT=${TESTSSL_TIMEOUT:-1800}
SELF_SIGNED=${SELF_SIGNED:-0}
STRICT=${STRICT:-0}
PY=${PYTHON:-/usr/bin/python3}
. "$HERE/procs.sh"                    # port_free, stop_pid

die() { echo "testssl.sh: $*" >&2; exit 2; }

TESTSSL=$(command -v testssl || command -v testssl.sh) || die "missing testssl (apt-get install -y testssl.sh)"
need=(openssl curl)
case $TARGET in
  lb) need+=(java); [ -f "$JAR" ] || die "no jar at $JAR: mvn -q -DskipTests package (or set LB_JAR)" ;;
  haproxy) need+=(haproxy) ;;
  nginx) need+=(nginx) ;;
  *) die "unknown target '$TARGET' (lb haproxy nginx)" ;;
esac
for t in "${need[@]}"; do command -v "$t" >/dev/null || die "missing $t"; done
[ -x "$PY" ] || die "no python at $PY (set PYTHON)"
for v in PORT ADMIN_PORT BACKEND_PORT TESTSSL_TIMEOUT; do [[ ${!v} =~ ^[0-9]+$ ]] || die "$v must be an integer"; done

PORTS=("$PORT" "$BACKEND_PORT"); [ "$TARGET" = lb ] && PORTS+=("$ADMIN_PORT")
[ "$(printf '%s\n' "${PORTS[@]}" | sort -u | wc -l)" = "${#PORTS[@]}" ] || die "ports overlap: ${PORTS[*]}"
for p in "${PORTS[@]}"; do
  [ "$p" -ge 1024 ] && [ "$p" -le 65535 ] || die "port $p out of range 1024-65535"
  port_free "$p" || die "port $p is taken; choose others with PORT, ADMIN_PORT, BACKEND_PORT"
done

W=$(mktemp -d /tmp/lb-it-testssl.XXXXXX) || die "mktemp failed"
chmod 755 "$W"
BPID=""; TPID=""; HPID=""
cleanup() { trap - EXIT INT TERM; stop_pid "$HPID"; stop_pid "$TPID"; stop_pid "$BPID"; echo "# work dir: $W"; }
trap cleanup EXIT
trap 'echo "testssl.sh: interrupted" >&2; exit 130' INT
trap 'echo "testssl.sh: terminated" >&2; exit 143' TERM

# ---- certificate ------------------------------------------------------------------------------------------------
mkdir -p "$W/tls"; cd "$W/tls" || die "no $W/tls"
if [ "$SELF_SIGNED" = 1 ]; then
  openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -sha256 -days 365 -subj "/CN=localhost" \
    -addext "subjectAltName=DNS:localhost,IP:127.0.0.1" -keyout key.pem -out cert.pem >openssl.out 2>&1 \
    || { cat openssl.out >&2; die "openssl failed"; }
  cp cert.pem ca.pem
else
  cat >leaf.ext <<EXT
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature
extendedKeyUsage = serverAuth
subjectAltName = DNS:localhost, IP:127.0.0.1
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
crlDistributionPoints = URI:http://127.0.0.1:9/test-ca.crl
authorityInfoAccess = OCSP;URI:http://127.0.0.1:9/ocsp
EXT
  { openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -sha256 -days 365 \
      -subj "/CN=lb test CA" -addext "basicConstraints=critical,CA:TRUE" \
      -addext "keyUsage=critical,keyCertSign,cRLSign" -keyout ca-key.pem -out ca.pem &&
    openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -sha256 -subj "/CN=localhost" \
      -keyout key.pem -out leaf.csr &&
    openssl x509 -req -in leaf.csr -CA ca.pem -CAkey ca-key.pem -CAcreateserial -sha256 -days 90 \
      -extfile leaf.ext -out cert.pem; } >openssl.out 2>&1 || { cat openssl.out >&2; die "openssl failed"; }
fi
cat cert.pem key.pem >cert+key.pem
chmod 644 ./*.pem
cd "$W" || die "no $W"

# ---- backend and target -----------------------------------------------------------------------------------------
mkdir -p "$W/www"
printf '<!doctype html><title>backend</title><p>testssl backend</p>\n' >"$W/www/index.html"
printf 'ok\n' >"$W/www/health"   # lb's health check (GET /health): without it lb marks the backend down and answers 503
(cd "$W/www" && exec "$PY" -m http.server --bind 127.0.0.1 "$BACKEND_PORT" >"$W/backend.log" 2>&1) & BPID=$!

case $TARGET in
  lb)
    {
      echo "listen:"
      echo "  host: 127.0.0.1"
      echo "  port: $PORT"
      echo "  tls:"
      echo "    cert_file: \"$W/tls/cert.pem\""
      echo "    key_file: \"$W/tls/key.pem\""
      [ -n "$LB_TLS_YAML" ] && printf '%s\n' "$LB_TLS_YAML" | sed 's/^/    /'
      echo "admin: { host: 127.0.0.1, port: $ADMIN_PORT }"
      echo "backends:"
      echo "  - url: http://127.0.0.1:$BACKEND_PORT"
    } >"$W/lb.yaml"
    (cd "$W" && java -jar "$JAR" check -c "$W/lb.yaml" >"$W/lb.check" 2>&1) || { cat "$W/lb.check" >&2; die "lb rejects $W/lb.yaml"; }
    (cd "$W" && exec java $LB_JAVA_OPTS -jar "$JAR" serve -c "$W/lb.yaml" >"$W/lb.log" 2>&1) & TPID=$! ;;
  haproxy)   # HAProxy's defaults but for the certificate and ALPN (as run.sh's TLS cases)
    cat >"$W/haproxy.cfg" <<CONF
defaults
    mode http
    timeout connect 5s
    timeout client 30s
    timeout server 30s
frontend fe
    bind 127.0.0.1:$PORT ssl crt $W/tls/cert+key.pem alpn h2,http/1.1
    default_backend be
backend be
    server s0 127.0.0.1:$BACKEND_PORT
CONF
    haproxy -c -f "$W/haproxy.cfg" >"$W/haproxy.check" 2>&1 || { cat "$W/haproxy.check" >&2; die "haproxy rejects its config"; }
    haproxy -db -f "$W/haproxy.cfg" >"$W/haproxy.log" 2>&1 & TPID=$! ;;
  nginx)     # nginx's defaults but for the certificate (and HTTP/2)
    mkdir -p "$W/tmp"
    cat >"$W/nginx.conf" <<CONF
worker_processes 1; daemon off; pid $W/nginx.pid; error_log $W/nginx.err warn;
events { worker_connections 1024; }
http { access_log off;
  client_body_temp_path $W/tmp; proxy_temp_path $W/tmp; fastcgi_temp_path $W/tmp; uwsgi_temp_path $W/tmp; scgi_temp_path $W/tmp;
  server { listen 127.0.0.1:$PORT ssl http2; ssl_certificate $W/tls/cert.pem; ssl_certificate_key $W/tls/key.pem;
    location / { proxy_pass http://127.0.0.1:$BACKEND_PORT; } } }
CONF
    nginx -c "$W/nginx.conf" >"$W/nginx.log" 2>&1 & TPID=$! ;;
esac

ok=0
for i in $(seq 1 600); do   # up to 60 s: a 200 through the target, with the certificate verified against the CA
  if [ "$(curl -s -o /dev/null --max-time 2 -w '%{http_code}' --cacert "$W/tls/ca.pem" "https://127.0.0.1:$PORT/" 2>/dev/null)" = 200 ]; then
    ok=1; break
  fi
  kill -0 "$TPID" 2>/dev/null || break
  sleep 0.1
done
[ $ok = 1 ] || { tail -20 "$W/$TARGET.log" >&2 2>/dev/null; die "$TARGET did not answer 200 on https://127.0.0.1:$PORT/ (see $W)"; }

# ---- the scan ---------------------------------------------------------------------------------------------------
echo "# $(date -u +%FT%TZ) target=$TARGET port=$PORT certificate=$([ "$SELF_SIGNED" = 1 ] && echo self-signed || echo CA-issued)"
echo "# $("$TESTSSL" --version 2>&1 | grep -m1 -o 'testssl *[0-9][^ ]*' || echo testssl), $(openssl version)"
case $TARGET in
  lb) echo "# lb: $(java -jar "$JAR" --version 2>&1 | head -1); $(grep -m1 -o 'listening on .*' "$W/lb.log" || true)" ;;
  haproxy) echo "# $(haproxy -v 2>&1 | head -1)" ;;
  nginx) echo "# $(nginx -v 2>&1 | head -1)" ;;
esac
echo "# testssl running (several minutes); its full output: $W/testssl.log"
# --nodns none: no DNS (this machine has none; the CAA lookup would wait); --warnings off: no questions asked.
# shellcheck disable=SC2086
timeout "$TESTSSL_TIMEOUT" "$TESTSSL" --quiet --color 0 --warnings off --nodns none --add-ca "$W/tls/ca.pem" \
  --jsonfile "$W/testssl.json" $TESTSSL_OPTS "127.0.0.1:$PORT" >"$W/testssl.log" 2>&1 & HPID=$!
wait "$HPID"; rc=$?; HPID=""
[ -s "$W/testssl.json" ] || { tail -20 "$W/testssl.log" >&2; die "testssl wrote no findings (exit $rc)"; }
kill -0 "$TPID" 2>/dev/null || echo "testssl.sh: $TARGET died during the scan" >&2
code=$(curl -s -o /dev/null --max-time 5 -w '%{http_code}' --cacert "$W/tls/ca.pem" "https://127.0.0.1:$PORT/" 2>/dev/null)
[ "$code" = 200 ] || echo "testssl.sh: after the scan $TARGET answers $code, not 200: the HTTP findings are about that answer" >&2

STRICT=$STRICT "$PY" - "$W/testssl.json" <<'PY'
import json, os, sys

ORDER = ["DEBUG", "OK", "INFO", "LOW", "MEDIUM", "HIGH", "CRITICAL"]
# From the HTTP response, not TLS: what the backend (or a proxy adding headers) sends.
HTTP_IDS = ("HSTS", "HPKP", "security_headers", "banner_", "cookie_", "BREACH", "X-", "Cache-Control", "Pragma",
            "Content-Security-Policy", "Referrer-Policy", "Permissions-Policy", "Expect-CT", "ipv4_in_header",
            "HTTP_clock_skew", "HTTP_headerTime", "HTTP_status_code")
strict = os.environ.get("STRICT") == "1"
findings = json.load(open(sys.argv[1]))
scan_problems = [f for f in findings if f.get("severity") in ("WARN", "FATAL")]
shown = [f for f in findings if f.get("severity") in ORDER and ORDER.index(f["severity"]) >= ORDER.index("LOW")]
failing = []
for part, sel in (("TLS", [f for f in shown if not f["id"].startswith(HTTP_IDS)]),
                  ("the HTTP response (the backend's headers and body, not TLS)",
                   [f for f in shown if f["id"].startswith(HTTP_IDS)])):
    print(f"== findings LOW and above about {part}: {len(sel)}")
    for f in sorted(sel, key=lambda f: -ORDER.index(f["severity"])):
        cve = f" {f['cve']}" if f.get("cve") else ""
        print(f"  {f['severity']:8} {f['id']:28} {f.get('finding', '')}{cve}")
        if ORDER.index(f["severity"]) > ORDER.index("LOW") and (part == "TLS" or strict):
            failing.append(f)
for f in scan_problems:
    print(f"  scan {f['severity']}: {f['id']} {f.get('finding', '')}")
print(f"== {len(failing)} finding(s) above LOW count" + ("" if strict else " (TLS only; STRICT=1 counts the HTTP ones)"))
fatal = any(f["severity"] == "FATAL" for f in scan_problems)
sys.exit(2 if fatal else 1 if failing else 0)
PY
exit $?
