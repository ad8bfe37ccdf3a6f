#!/usr/bin/python3
"""Replays the request corpus (lb-it/src/test/resources/corpus/*.vectors) against the balancer and against HAProxy,
each in front of the same recording backend, and prints the vectors whose outcomes differ.

An outcome is: the statuses of the responses in order, whether the proxy closed the connection, and how many
complete requests the backend received. Needs the fat jar (mvn -q -B -DskipTests package -pl lb-server -am) and
haproxy on the PATH. Not part of mvn verify.

  lb-it/corpus/compare-haproxy.py [--jar lb-server/target/lb.jar] [--haproxy haproxy] [--only NAME-PREFIX] [--all]
"""
import argparse
import os
import re
import socket
import subprocess
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
CORPUS = os.path.join(HERE, '..', 'src', 'test', 'resources', 'corpus')
MAX_BODY = 1048576


# ------------------------------------------------------------------ corpus

def unescape(text):
    def repeat(m):
        return m.group(2) * int(m.group(1))
    text = re.sub(r'\{\{(\d+)\*(.*?)\}\}', repeat, text, flags=re.S)
    out = bytearray()
    i = 0
    while i < len(text):
        c = text[i]
        if c != '\\':
            out += c.encode('utf-8')
            i += 1
            continue
        e = text[i + 1]
        if e == 'x':
            out.append(int(text[i + 2:i + 4], 16))
            i += 4
            continue
        out += {'r': b'\r', 'n': b'\n', 't': b'\t', 's': b' ', '0': b'\0', '\\': b'\\'}[e]
        i += 2
    return bytes(out)


def load_corpus(directory):
    vectors = []
    for name in sorted(os.listdir(directory)):
        if not name.endswith('.vectors'):
            continue
        current = None
        with open(os.path.join(directory, name), encoding='utf-8') as f:
            for line in f:
                line = line.rstrip('\n')
                if line.startswith('['):
                    current = {'name': line[1:line.index(']')], 'class': name[:-8], 'request': [],
                               'expect': None, 'close': None, 'backend': None, 'note': ''}
                    vectors.append(current)
                elif line.startswith('> '):
                    current['request'].append(line[2:])
                elif line.startswith('#') or not line.strip():
                    continue
                else:
                    key, _, value = line.partition(':')
                    value = value.strip()
                    if key == 'expect':
                        current['expect'] = [] if value == '-' else [int(s) for s in value.split()]
                    elif key == 'close':
                        current['close'] = value == 'yes'
                    elif key == 'backend':
                        current['backend'] = int(value)
                    elif key == 'class':
                        current['class'] = value
                    elif key == 'note':
                        current['note'] = value
    for v in vectors:
        v['bytes'] = unescape(''.join(v['request']))
        final = [s for s in v['expect'] if s >= 200]
        if v['close'] is None:
            v['close'] = not final or final[-1] >= 400
        if v['backend'] is None:
            v['backend'] = sum(1 for s in v['expect'] if 200 <= s < 300)
    return vectors


# ------------------------------------------------------------------ recording backend

class Backend:
    """Counts complete requests; /echo answers with the body, /status?code=N with N, anything else 200."""

    def __init__(self):
        self.sock = socket.socket()
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(('127.0.0.1', 0))
        self.sock.listen(128)
        self.port = self.sock.getsockname()[1]
        self.lock = threading.Lock()
        self.complete = 0
        threading.Thread(target=self.accept_loop, daemon=True).start()

    def count(self):
        with self.lock:
            return self.complete

    def accept_loop(self):
        while True:
            conn, _ = self.sock.accept()
            threading.Thread(target=self.serve, args=(conn,), daemon=True).start()

    def serve(self, conn):
        buf = Reader(conn)
        try:
            while True:
                head = buf.until(b'\r\n\r\n', 1 << 20)
                if head is None:
                    return
                lines = head.split(b'\r\n')
                parts = lines[0].split(b' ')
                method, target = parts[0], parts[1] if len(parts) > 1 else b'/'
                headers = {}
                for l in lines[1:]:
                    if b':' in l:
                        k, _, val = l.partition(b':')
                        headers.setdefault(k.strip().lower(), []).append(val.strip())
                if b'100-continue' in b','.join(headers.get(b'expect', [])).lower():
                    conn.sendall(b'HTTP/1.1 100 Continue\r\n\r\n')
                te = b','.join(headers.get(b'transfer-encoding', [])).lower()
                if te:
                    body = b''
                    while True:
                        size_line = buf.until(b'\r\n', 1 << 16)
                        if size_line is None:
                            return
                        size = int(size_line.split(b';')[0], 16)
                        if size == 0:
                            while True:
                                t = buf.until(b'\r\n', 1 << 16)
                                if t is None:
                                    return
                                if t == b'':
                                    break
                            break
                        data = buf.exactly(size + 2)
                        if data is None:
                            return
                        body += data[:-2]
                else:
                    n = int(headers.get(b'content-length', [b'0'])[0])
                    body = buf.exactly(n)
                    if body is None:
                        return
                with self.lock:
                    self.complete += 1
                status, payload = 200, b'ok'
                path = target.split(b'?')[0]
                if path.endswith(b'/echo'):
                    payload = body
                m = re.search(rb'code=(\d+)', target)
                if b'/status' in path and m:
                    status = int(m.group(1))
                    payload = b'b1 ' + m.group(1)
                out = b'HTTP/1.1 %d X\r\nContent-Length: %d\r\n\r\n' % (status, len(payload))
                if status in (204, 304):
                    out = b'HTTP/1.1 %d X\r\n\r\n' % status
                elif method != b'HEAD':
                    out += payload
                conn.sendall(out)
        except (OSError, ValueError, IndexError):
            pass
        finally:
            conn.close()


class Reader:
    def __init__(self, sock):
        self.sock = sock
        self.buf = b''

    def fill(self):
        data = self.sock.recv(65536)
        if not data:
            return False
        self.buf += data
        return True

    def until(self, delim, limit):
        while delim not in self.buf:
            if len(self.buf) > limit or not self.fill():
                return None
        i = self.buf.index(delim)
        out, self.buf = self.buf[:i], self.buf[i + len(delim):]
        return out

    def exactly(self, n):
        while len(self.buf) < n:
            if not self.fill():
                return None
        out, self.buf = self.buf[:n], self.buf[n:]
        return out


# ------------------------------------------------------------------ client

def read_response(r, head_request):
    line = r.until(b'\r\n', 65536)
    if line is None:
        return None
    status = int(line.split(b' ')[1])
    headers = {}
    while True:
        l = r.until(b'\r\n', 65536)
        if l is None:
            return status
        if l == b'':
            break
        k, _, v = l.partition(b':')
        headers[k.strip().lower()] = v.strip()
    if status < 200 or status in (204, 304) or head_request:
        return status
    if b'chunked' in headers.get(b'transfer-encoding', b'').lower():
        while True:
            size = int(r.until(b'\r\n', 65536).split(b';')[0], 16)
            if size == 0:
                while r.until(b'\r\n', 65536):
                    pass
                break
            r.exactly(size + 2)
    elif b'content-length' in headers:
        r.exactly(int(headers[b'content-length']))
    else:
        while r.fill():
            pass
    return status


def run_vector(port, backend, vector):
    before = backend.count()
    s = socket.create_connection(('127.0.0.1', port))
    s.settimeout(5)
    try:
        s.sendall(vector['bytes'])
    except OSError:
        pass
    r = Reader(s)
    statuses = []
    closed = False
    heads = vector['bytes'].startswith(b'HEAD ')
    try:
        while len(statuses) < max(1, len(vector['expect'])):
            st = read_response(r, heads and not statuses)
            if st is None:
                closed = True
                break
            statuses.append(st)
            heads = False
        if not closed:
            s.settimeout(0.5)
            try:
                closed = not r.buf and not r.fill()
            except socket.timeout:
                closed = False
    except (ConnectionResetError, BrokenPipeError):
        closed = True
    except socket.timeout:
        statuses.append('timeout')
    except (ValueError, IndexError, AttributeError):
        statuses.append('garbled')
    s.close()
    time.sleep(0.05)
    return statuses, closed, backend.count() - before


# ------------------------------------------------------------------ proxies

def free_port():
    s = socket.socket()
    s.bind(('127.0.0.1', 0))
    p = s.getsockname()[1]
    s.close()
    return p


def wait_port(port, proc):
    for _ in range(300):
        if proc.poll() is not None:
            raise SystemExit('proxy exited early: %s' % proc.args)
        try:
            socket.create_connection(('127.0.0.1', port), timeout=0.2).close()
            return
        except OSError:
            time.sleep(0.1)
    raise SystemExit('proxy did not listen on %d' % port)


def start_lb(jar, backend_port, work):
    port, admin = free_port(), free_port()
    cfg = os.path.join(work, 'lb.yaml')
    with open(cfg, 'w') as f:
        f.write('listen: { host: 127.0.0.1, port: %d, workers: 1 }\n' % port)
        f.write('admin: { host: 127.0.0.1, port: %d }\n' % admin)
        f.write('health_check: { enabled: false }\n')
        f.write('proxy: { max_body_size: %d }\n' % MAX_BODY)
        f.write('logging: { access_log: false }\n')
        f.write('store: { url: "jdbc:h2:mem:corpus" }\n')
        f.write('backends:\n  - url: http://127.0.0.1:%d\n' % backend_port)
    proc = subprocess.Popen(['java', '-jar', jar, 'serve', '-c', cfg],
                            stdout=subprocess.DEVNULL, stderr=open(os.path.join(work, 'lb.log'), 'w'))
    wait_port(port, proc)
    return proc, port


def start_haproxy(binary, backend_port, work):
    port = free_port()
    cfg = os.path.join(work, 'haproxy.cfg')
    with open(cfg, 'w') as f:
        f.write('defaults\n  mode http\n  timeout connect 2s\n  timeout client 10s\n  timeout server 10s\n'
                '  timeout http-request 10s\n'
                'frontend fe\n  bind 127.0.0.1:%d\n  default_backend be\n'
                'backend be\n  server s1 127.0.0.1:%d\n' % (port, backend_port))
    proc = subprocess.Popen([binary, '-db', '-f', cfg],
                            stdout=subprocess.DEVNULL, stderr=open(os.path.join(work, 'haproxy.log'), 'w'))
    wait_port(port, proc)
    return proc, port


def fmt(outcome):
    statuses, closed, count = outcome
    return '%s %s backend=%d' % (' '.join(str(s) for s in statuses) or '-', 'closed' if closed else 'open', count)


def main():
    root = os.path.abspath(os.path.join(HERE, '..', '..'))
    ap = argparse.ArgumentParser()
    ap.add_argument('--jar', default=os.path.join(root, 'lb-server', 'target', 'lb.jar'))
    ap.add_argument('--haproxy', default='haproxy')
    ap.add_argument('--only', default='')
    ap.add_argument('--all', action='store_true', help='print every vector, not only differences')
    ap.add_argument('--no-haproxy', action='store_true', help='only check the balancer against the expectations')
    args = ap.parse_args()
    vectors = [v for v in load_corpus(CORPUS) if v['name'].startswith(args.only)]
    work = tempfile.mkdtemp(prefix='corpus-')
    backend = Backend()
    procs = []
    try:
        lb, lb_port = start_lb(args.jar, backend.port, work)
        procs.append(lb)
        ha_port = None
        if not args.no_haproxy:
            ha, ha_port = start_haproxy(args.haproxy, backend.port, work)
            procs.append(ha)
        differ = unexpected = 0
        print('| vector | expected | lb | haproxy |')
        print('| --- | --- | --- | --- |')
        for v in vectors:
            expected = (v['expect'], v['close'], v['backend'])
            got_lb = run_vector(lb_port, backend, v)
            got_ha = run_vector(ha_port, backend, v) if ha_port else None
            bad = got_lb != expected
            diff = got_ha is not None and got_ha != got_lb
            unexpected += bad
            differ += diff
            if args.all or bad or diff:
                print('| %s%s | %s | %s | %s |' % (v['name'], ' (UNEXPECTED)' if bad else '', fmt(expected),
                                                    fmt(got_lb), fmt(got_ha) if got_ha else ''))
        print('\n%d vectors; %d where lb and haproxy differ; %d where lb is not as expected'
              % (len(vectors), differ, unexpected))
    finally:
        for p in procs:
            p.terminate()
            p.wait()


if __name__ == '__main__':
    main()
