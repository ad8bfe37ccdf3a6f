#!/usr/bin/python3
"""Time to first 200, for lb-it/bench/run.sh's `startup` case.

Launches the command after `--`, and from that instant polls http://HOST:PORT/PATH every --interval seconds (a new
connection each time, `Connection: close`) until a response's status line says 200. Prints one line:
  ms=<launch to the first 200> attempts=<polls>
then stops the command (SIGTERM, SIGKILL after --stop-timeout) and exits 0. If the command exits first or no 200
comes within --timeout, prints `FAIL reason=...` and exits 1. SIGTERM or SIGINT stops the command too.

Usage: startup.py --port 18080 [--log FILE] -- java -jar lb.jar serve -c lb.yaml
"""
import argparse
import signal
import socket
import subprocess
import sys
import time


def status_of(host, port, path, timeout):
    """The status code of one GET, or None when nothing (or no full status line) came back."""
    try:
        with socket.create_connection((host, port), timeout=timeout) as s:
            s.sendall(f"GET {path} HTTP/1.1\r\nHost: {host}:{port}\r\nConnection: close\r\n\r\n".encode())
            buf = b""
            while b"\r\n" not in buf and len(buf) < 4096:
                data = s.recv(4096)
                if not data:
                    break
                buf += data
            parts = buf.split(b"\r\n", 1)[0].split(b" ")
            return int(parts[1]) if len(parts) >= 2 and parts[0].startswith(b"HTTP/") else None
    except (OSError, ValueError):
        return None


def stop(proc, timeout):
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--path", default="/")
    ap.add_argument("--interval", type=float, default=0.01, help="seconds between polls (default 0.01)")
    ap.add_argument("--timeout", type=float, default=60.0, help="give up after this many seconds (default 60)")
    ap.add_argument("--stop-timeout", type=float, default=15.0)
    ap.add_argument("--log", help="file for the command's output (default: discarded)")
    ap.add_argument("cmd", nargs=argparse.REMAINDER)
    a = ap.parse_args()
    cmd = a.cmd[1:] if a.cmd[:1] == ["--"] else a.cmd
    if not cmd:
        ap.error("no command after --")

    log = open(a.log, "ab") if a.log else subprocess.DEVNULL
    t0 = time.monotonic()
    proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)

    def on_signal(*_):
        stop(proc, a.stop_timeout)
        sys.exit(130)

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    attempts = 0
    try:
        while True:
            attempts += 1
            if status_of(a.host, a.port, a.path, 2.0) == 200:
                print(f"ms={(time.monotonic() - t0) * 1000:.0f} attempts={attempts}", flush=True)
                return 0
            if proc.poll() is not None:
                print(f"FAIL reason=exited_{proc.returncode} attempts={attempts}", flush=True)
                return 1
            if time.monotonic() - t0 > a.timeout:
                print(f"FAIL reason=no_200_in_{a.timeout:.0f}s attempts={attempts}", flush=True)
                return 1
            time.sleep(a.interval)
    finally:
        stop(proc, a.stop_timeout)


if __name__ == "__main__":
    sys.exit(main())
