# Shared by run.sh and testssl.sh (sourced, after PY is set): ports and the processes the benchmarks start.

# Whether 127.0.0.1:$1 can be bound now.
port_free() {
  "$PY" -c 'import socket, sys
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
try: s.bind(("127.0.0.1", int(sys.argv[1])))
except OSError: sys.exit(1)' "$1"
}

# Stops process $1: TERM, up to 15 s, then KILL; reaps it. Nothing for an empty or gone PID.
stop_pid() {
  local p=$1 i
  [ -n "$p" ] || return 0
  kill -TERM "$p" 2>/dev/null || { wait "$p" 2>/dev/null; return 0; }
  for i in $(seq 1 150); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
  kill -KILL "$p" 2>/dev/null
  wait "$p" 2>/dev/null
  return 0
}
