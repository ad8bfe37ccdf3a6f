#!/usr/bin/python3
"""Idle keep-alive clients, for lb-it/bench/run.sh's `idle` case.

Opens --conns connections to an HTTP/1.1 server, at most --batch in progress at once. On each it sends one small
GET with keep-alive and reads the whole response (Content-Length or chunked); a connection counts as open when that
response was a 2xx and the server did not ask to close. A connection that fails (refused, reset, closed, timed out,
non-2xx) is retried up to --retries times on a new socket, then counted as failed. Then every open connection stays
idle until SIGTERM or SIGINT (or --hold seconds), watched for the server closing it; then all are closed.

Standard output, one line each, flushed:
  READY wanted=N open=K failed=F retried=R seconds=S [errors=kind:count,...]
  CLOSED open=K dropped=D seconds=S      (dropped: closed by the server while idle)

Needs only the standard library. Raises its soft open-file limit to the hard one; refuses to start if even that is
too low for --conns.
"""
import argparse
import collections
import errno
import os
import resource
import selectors
import signal
import socket
import sys
import time

CONNECTING, SENDING, READING = 1, 2, 3


class Conn:
    __slots__ = ("sock", "state", "out", "buf", "deadline", "attempt")

    def __init__(self, attempt):
        self.sock = None
        self.state = CONNECTING
        self.out = b""
        self.buf = bytearray()
        self.deadline = 0.0
        self.attempt = attempt


def response_complete(buf):
    """(done, status, wants_close) for the bytes read so far; done is None while more is needed."""
    end = buf.find(b"\r\n\r\n")
    if end < 0:
        if len(buf) > 65536:
            raise ValueError("response head over 64 KiB")
        return None, 0, False
    head = bytes(buf[:end]).decode("latin-1").split("\r\n")
    parts = head[0].split(" ", 2)
    if len(parts) < 2 or not parts[0].startswith("HTTP/1."):
        raise ValueError("bad status line")
    status = int(parts[1])
    headers = {}
    for line in head[1:]:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    wants_close = "close" in headers.get("connection", "").lower() or parts[0] == "HTTP/1.0"
    body = buf[end + 4:]
    if "chunked" in headers.get("transfer-encoding", "").lower():
        return (True if body.endswith(b"0\r\n\r\n") else None), status, wants_close
    length = int(headers.get("content-length", "0"))
    if len(body) >= length:
        return True, status, wants_close
    return None, status, wants_close


def raise_nofile(needed):
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
        soft = hard
    if soft < needed:
        print(f"ERROR open-file limit {soft} is below the {needed} this needs (ulimit -Hn)", flush=True)
        sys.exit(2)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--conns", type=int, default=10000)
    ap.add_argument("--path", default="/")
    ap.add_argument("--batch", type=int, default=200, help="connections in progress at once (default 200)")
    ap.add_argument("--timeout", type=float, default=10.0,
                    help="seconds from connect to the full response, per attempt (default 10)")
    ap.add_argument("--retries", type=int, default=2, help="new attempts after a failure (default 2)")
    ap.add_argument("--hold", type=float, default=0.0,
                    help="seconds to stay idle before closing; 0 (default) = until SIGTERM or SIGINT")
    a = ap.parse_args()
    raise_nofile(a.conns + 64)

    stop = []
    signal.signal(signal.SIGTERM, lambda *_: stop.append(1))
    signal.signal(signal.SIGINT, lambda *_: stop.append(1))

    request = (f"GET {a.path} HTTP/1.1\r\nHost: {a.host}:{a.port}\r\nUser-Agent: lb-bench-idle\r\n"
               f"Accept: */*\r\n\r\n").encode()
    sel = selectors.DefaultSelector()  # epoll on Linux: no 1024-descriptor limit
    idle = []
    errors = collections.Counter()
    to_start = collections.deque(Conn(0) for _ in range(a.conns))
    in_progress = {}  # fd -> Conn
    failed = retried = 0
    t0 = time.monotonic()

    def finish(c, ok, why=None):
        nonlocal failed, retried
        sel.unregister(c.sock)
        del in_progress[c.sock.fileno()]
        if ok:
            idle.append(c.sock)
            return
        c.sock.close()
        errors[why] += 1
        if c.attempt < a.retries:
            retried += 1
            to_start.append(Conn(c.attempt + 1))
        else:
            failed += 1

    while (to_start or in_progress) and not stop:
        while to_start and len(in_progress) < a.batch:
            c = to_start.popleft()
            s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            s.setblocking(False)
            s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            c.sock, c.out, c.deadline = s, request, time.monotonic() + a.timeout
            rc = s.connect_ex((a.host, a.port))
            if rc not in (0, errno.EINPROGRESS):
                s.close()
                errors[errno.errorcode.get(rc, str(rc))] += 1
                if c.attempt < a.retries:
                    retried += 1
                    to_start.append(Conn(c.attempt + 1))
                else:
                    failed += 1
                continue
            in_progress[s.fileno()] = c
            sel.register(s, selectors.EVENT_WRITE, c)
        for key, _ in sel.select(timeout=0.2):
            c = key.data
            try:
                if c.state == CONNECTING:
                    err = c.sock.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)
                    if err:
                        finish(c, False, errno.errorcode.get(err, str(err)))
                        continue
                    c.state = SENDING
                if c.state == SENDING:
                    c.out = c.out[c.sock.send(c.out):]
                    if not c.out:
                        c.state = READING
                        sel.modify(c.sock, selectors.EVENT_READ, c)
                    continue
                data = c.sock.recv(65536)
                if not data:
                    finish(c, False, "closed_before_response")
                    continue
                c.buf += data
                done, status, wants_close = response_complete(c.buf)
                if done:
                    if not 200 <= status < 300:
                        finish(c, False, f"status_{status}")
                    elif wants_close:
                        finish(c, False, "server_asked_close")
                    else:
                        c.buf = bytearray()
                        finish(c, True)
            except (BlockingIOError, InterruptedError):
                pass
            except (OSError, ValueError) as e:
                finish(c, False, type(e).__name__ if not isinstance(e, OSError) or e.errno is None
                       else errno.errorcode.get(e.errno, str(e.errno)))
        now = time.monotonic()
        for c in [c for c in in_progress.values() if c.deadline < now]:
            finish(c, False, "timeout")

    for c in list(in_progress.values()):  # only when stopped early
        finish(c, False, "stopped")
    extra = (" errors=" + ",".join(f"{k}:{v}" for k, v in sorted(errors.items()))) if errors else ""
    print(f"READY wanted={a.conns} open={len(idle)} failed={failed} retried={retried} "
          f"seconds={time.monotonic() - t0:.2f}{extra}", flush=True)

    # Idle: watch for the server closing connections until told to stop.
    t1 = time.monotonic()
    for s in idle:
        sel.register(s, selectors.EVENT_READ)
    dropped = 0
    while not stop and (a.hold <= 0 or time.monotonic() - t1 < a.hold):
        for key, _ in sel.select(timeout=0.2):
            sel.unregister(key.fileobj)
            dropped += 1  # readable while idle: closed (or unexpected bytes); either way no longer idle
    open_now = len(idle) - dropped
    for s in idle:
        s.close()
    print(f"CLOSED open={open_now} dropped={dropped} seconds={time.monotonic() - t1:.2f}", flush=True)


if __name__ == "__main__":
    main()
