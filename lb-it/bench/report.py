#!/usr/bin/python3
"""Summary of lb-it/bench/run.sh's results.txt: every run line, median tables, lb's ratios against HAProxy and
nginx, the rate-limit on/off ratio, idle memory per connection and the startup median. Prints text to standard
output and writes the same tables as Markdown to the file given second (results.md).

Usage: report.py results.txt results.md

Medians are over the runs whose status is ok; failed runs are counted and shown, never averaged in.
"""
import re
import statistics
import sys

LOAD_LABELS = {"small": "small body, keep-alive", "big": "64 KiB body, keep-alive", "close": "`Connection: close`",
               "chunked": "16 KiB chunked body, keep-alive", "tls": "HTTPS keep-alive, small body",
               "tlsclose": "HTTPS, a new TLS connection per request (resumed as wrk does)",
               "tlsfull": "HTTPS, a full TLS handshake per request",
               "h2": "HTTP/2 over TLS (h2load)", "h2c": "HTTP/2 prior knowledge, plain (h2load)"}
LOAD_CASE = re.compile(r"(small|big|close|chunked|tls|tlsclose|tlsfull|h2|h2c):\d+$")
TLS_CASE = re.compile(r"(tls|tlsclose|tlsfull|h2):\d+$")


def fnum(v):
    try:
        return float(v)
    except (TypeError, ValueError):
        return float("nan")


def med(rows, key):
    vals = [fnum(r.get(key)) for r in rows]
    vals = [v for v in vals if v == v]
    return statistics.median(vals) if vals else float("nan")


def fmt(v, digits=0, thousands=True):
    if v != v:
        return "-"
    return f"{v:,.{digits}f}" if thousands else f"{v:.{digits}f}"


def ratio(a, b):
    return a / b if b and a == a and b == b else float("nan")


class Out:
    """Collects the text report and the Markdown report side by side."""

    def __init__(self):
        self.text, self.md = [], []

    def title(self, s):
        self.text += ["", f"== {s} =="]
        self.md += ["", f"### {s}", ""]

    def table(self, head, rows, right=None):
        right = right if right is not None else [i > 0 for i in range(len(head))]
        widths = [max(len(str(x)) for x in [h] + [r[i] for r in rows]) for i, h in enumerate(head)]
        line = lambda cells: "  ".join(str(c).rjust(w) if right[i] else str(c).ljust(w)
                                       for i, (c, w) in enumerate(zip(cells, widths))).rstrip()
        self.text += [line(head)] + [line(r) for r in rows]
        self.md += ["| " + " | ".join(head) + " |",
                    "| " + " | ".join("---:" if r else "---" for r in right) + " |"]
        self.md += ["| " + " | ".join(str(c) for c in r) + " |" for r in rows]

    def note(self, s):
        self.text.append(s)
        self.md += ["", s]


def main():
    src, md_path = sys.argv[1], sys.argv[2]
    lines = [l.rstrip("\n") for l in open(src)]
    header = [l[2:] for l in lines if l.startswith("# ")]
    runs = [dict(re.findall(r"(\w+)=(\S+)", l)) | {"_line": l} for l in lines if l.startswith("round=")]
    ok = lambda r: r.get("status") == "ok"
    o = Out()
    o.md += ["## lb benchmark", ""] + [f"- {h}" for h in header]

    o.text += ["", "== runs =="] + [r["_line"] for r in runs]

    # Load cases: every target through wrk.
    load = [r for r in runs if LOAD_CASE.match(r.get("case", ""))]
    cases = list(dict.fromkeys(r["case"] for r in load))
    targets = list(dict.fromkeys(r["target"] for r in load))
    m = {}
    if load:
        o.title("medians per case and target (ok runs)")
        rows = []
        for c in cases:
            for t in targets:
                sel = [r for r in load if r["case"] == c and r["target"] == t]
                if not sel:
                    continue
                good = [r for r in sel if ok(r)]
                m[c, t] = (med(good, "rps"), med(good, "p99_ms"), med(good, "cpu_pct"), med(good, "rps_per_cpu_s"))
                rps, p99, cpu, eff = m[c, t]
                rows.append([c, t, len(good), len(sel) - len(good), fmt(rps), fmt(p99, 2), fmt(cpu, 1),
                             fmt(eff), fmt(med(good, "bytes_per_req"))])
        o.table(["case", "target", "ok runs", "failed runs", "req/s", "p99 ms", "proxy CPU %",
                 "req per CPU-s", "bytes read per req"], rows, [False, False] + [True] * 7)
        others = [t for t in ("haproxy", "nginx") if t in targets]
        if "lb" in targets and others:
            o.title("lb against HAProxy and nginx (ratios of the medians)")
            rows = []
            for c in cases:
                if (c, "lb") not in m:
                    continue
                for t in others:
                    if (c, t) in m:
                        a, b = m[c, "lb"], m[c, t]
                        rows.append([c, f"lb / {t}", fmt(ratio(a[0], b[0]), 2), fmt(ratio(a[1], b[1]), 2),
                                     fmt(ratio(a[3], b[3]), 2)])
            o.table(["case", "ratio", "req/s", "p99", "req per CPU-s"], rows, [False, False, True, True, True])
            o.note("Above 1 is better for lb in req/s and req per CPU-s; below 1 is better for lb in p99.")

        # The same in one row per case, in the shape of the README's Performance table.
        names = {"lb": "lb", "haproxy": "HAProxy", "nginx": "nginx"}
        o.title("summary per case")
        head, rows = ["case"], []
        head += [f"{names.get(t, t)} req/s" for t in targets]
        head += [f"lb / {names[t]}" for t in others if "lb" in targets]
        head += ["p99 ms " + " / ".join(names.get(t, t) for t in targets)]
        head += ["req per CPU-s " + " / ".join(names.get(t, t) for t in targets)]
        for c in cases:
            body, conns = c.split(":")
            streams = med([r for r in load if r["case"] == c], "streams")
            row = [f"{LOAD_LABELS[body]}, {conns} connections" + (f" x {streams:.0f} streams" if streams == streams else "")]
            row += [fmt(m.get((c, t), [float("nan")])[0]) for t in targets]
            row += [fmt(ratio(m[c, "lb"][0], m[c, t][0]), 2) if (c, "lb") in m and (c, t) in m else "-"
                    for t in others if "lb" in targets]
            row += [" / ".join(fmt(m[c, t][1], 2) if (c, t) in m else "-" for t in targets)]
            row += [" / ".join(fmt(m[c, t][3]) if (c, t) in m else "-" for t in targets)]
            rows.append(row)
        o.table(head, rows, [False] + [True] * (len(head) - 1))

    # TLS: what each target negotiated, and the new-connection cases' handshakes.
    tls = [r for r in load if TLS_CASE.match(r["case"]) and ok(r)]
    if tls:
        o.title("TLS as negotiated (an OpenSSL client offering h2,http/1.1; one probe per start)")
        rows, seen = [], {}
        for t in dict.fromkeys(r["target"] for r in tls):
            facts = list(dict.fromkeys((r.get("tls", "NA"), r.get("cipher", "NA"), r.get("alpn", "NA"),
                                        r.get("resumes", "NA")) for r in tls if r["target"] == t))
            seen[t] = facts
            for f in facts:
                rows.append([t, *f])
        o.table(["target", "version", "cipher", "ALPN", "resumes a session"], rows, [False] * 5)
        distinct = {f for fs in seen.values() for f in fs}
        if len(distinct) > 1:
            o.note("The targets did not negotiate alike (version, cipher, ALPN or resumption): the TLS figures "
                   "compare different work; see the table above.")
        hs = [r for r in tls if r["case"].startswith(("tlsclose:", "tlsfull:"))]
        if hs:
            o.title("new TLS connections: handshakes per second (= req/s, one request per connection)")
            rows = []
            for c in dict.fromkeys(r["case"] for r in hs):
                for t in dict.fromkeys(r["target"] for r in hs):
                    sel = [r for r in hs if r["case"] == c and r["target"] == t]
                    if sel:
                        rows.append([c, t, fmt(med(sel, "rps")), fmt(med(sel, "resumed_pct"), 1),
                                     fmt(med(sel, "rps_per_cpu_s")), fmt(med(sel, "p99_ms"), 2)])
            o.table(["case", "target", "handshakes/s", "resumed %", "per proxy CPU-s", "p99 ms"], rows,
                    [False, False, True, True, True, True])
            o.note("tlsclose: wrk offers the previous connection's session (TLS 1.3 ticket), as a browser would; "
                   "tlsfull: every handshake a full one (certificate and signature). The resumed share is counted "
                   "in the client.")

    # Rate limiting off vs on (lb only).
    rl = [r for r in runs if r.get("case", "").startswith("ratelimit-")]
    if rl:
        o.title("rate limiting off vs on (lb)")
        rows, mm = [], {}
        for mode in ("off", "on", "cluster"):
            sel = [r for r in rl if r["case"] == f"ratelimit-{mode}"]
            if not sel:
                continue
            good = [r for r in sel if ok(r)]
            mm[mode] = (med(good, "rps"), med(good, "rps_per_cpu_s"))
            n429 = sum(int(v) for v in (fnum(r.get("r429")) for r in sel) if v == v)
            rows.append([mode, len(good), len(sel) - len(good), fmt(mm[mode][0]), fmt(med(good, "p99_ms"), 2),
                         fmt(med(good, "cpu_pct"), 1), fmt(mm[mode][1]), n429])
        o.table(["rate limiting", "ok runs", "failed runs", "req/s", "p99 ms", "proxy CPU %", "req per CPU-s",
                 "429s (all runs)"], rows, [False] + [True] * 7)
        if "on" in mm and "off" in mm:
            o.note(f"ratelimit on/off: req/s {fmt(ratio(mm['on'][0], mm['off'][0]), 3)}, "
                   f"req per CPU-s {fmt(ratio(mm['on'][1], mm['off'][1]), 3)}")
        if "on" in mm and "cluster" in mm:
            o.note(f"ratelimit cluster/local: req/s {fmt(ratio(mm['cluster'][0], mm['on'][0]), 3)}, "
                   f"req per CPU-s {fmt(ratio(mm['cluster'][1], mm['on'][1]), 3)}")
        keys = med(rl, "keys")
        if keys == keys and "on" in mm:
            o.note(f"{fmt(keys)} keys in turn: each key saw about {mm['on'][0] / keys:.2f} requests/s "
                   f"(its limit: 10/s after a burst of 100)")

    # One upstream vs 20 routes (lb only).
    rt = [r for r in runs if r.get("case", "").startswith("routes-")]
    if rt:
        o.title("one upstream vs 20 routes (lb)")
        rows, mm = [], {}
        for mode in ("one", "twenty"):
            sel = [r for r in rt if r["case"] == f"routes-{mode}"]
            if not sel:
                continue
            good = [r for r in sel if ok(r)]
            mm[mode] = (med(good, "rps"), med(good, "rps_per_cpu_s"))
            rows.append([mode, len(good), len(sel) - len(good), fmt(mm[mode][0]), fmt(med(good, "p99_ms"), 2),
                         fmt(med(good, "cpu_pct"), 1), fmt(mm[mode][1])])
        o.table(["routes", "ok runs", "failed runs", "req/s", "p99 ms", "proxy CPU %", "req per CPU-s"], rows,
                [False] + [True] * 6)
        if "one" in mm and "twenty" in mm:
            o.note(f"routes twenty/one: req/s {fmt(ratio(mm['twenty'][0], mm['one'][0]), 3)}, "
                   f"req per CPU-s {fmt(ratio(mm['twenty'][1], mm['one'][1]), 3)}")

    # Idle keep-alive connections: memory per connection.
    idle = [r for r in runs if r.get("case") == "idle"]
    if idle:
        o.title("memory per idle keep-alive client connection")
        rows = []
        for t in dict.fromkeys(r["target"] for r in idle):
            sel = [r for r in idle if r["target"] == t]
            good = [r for r in sel if ok(r)]
            rows.append([t, len(good), len(sel) - len(good), fmt(med(good, "open")),
                         fmt(med(good, "rss_before_kib") / 1024, 1), fmt(med(good, "rss_after_kib") / 1024, 1),
                         fmt(med(good, "kib_per_conn"), 2), fmt(med(good, "heap_kib_per_conn"), 2)])
        o.table(["target", "ok runs", "failed runs", "idle conns", "RSS before MiB", "RSS after MiB",
                 "KiB per conn (RSS)", "of which Java heap"], rows, [False] + [True] * 7)
        o.note("RSS of the proxy and its workers, before and after opening the idle connections; for lb after a "
               "full GC each time, with the Java heap in use after those GCs shown apart (the RSS figure also "
               "depends on how much heap the JVM had already committed).")

    # Startup: launch to the first 200, plain and with a class-data-sharing archive.
    st = [r for r in runs if r.get("case") in ("startup", "startup-cds")]
    if st:
        o.title("lb startup: launching java to the first 200 through it")
        rows = []
        for case, label in (("startup", "java -jar"), ("startup-cds", "java -XX:SharedArchiveFile=lb.jsa -jar")):
            sel = [r for r in st if r.get("case") == case]
            if not sel:
                continue
            good = [fnum(r.get("ms")) for r in sel if ok(r)]
            rows.append([label, len(good), len(sel) - len(good), fmt(statistics.median(good)) if good else "-",
                         fmt(min(good)) if good else "-", fmt(max(good)) if good else "-"])
        o.table(["command", "runs", "failed", "median ms", "min ms", "max ms"], rows, [False] + [True] * 5)

    failed = [r for r in runs if not ok(r)]
    o.note(f"{len(runs)} runs, {len(failed)} failed" + (": " + "; ".join(
        f"round {r.get('round')} {r.get('target')} {r.get('case')} {r.get('status')}" for r in failed)
        if failed else ""))

    if runs:
        keys = list(dict.fromkeys(k for r in runs for k in r if k != "_line"))
        o.md += ["", "### all runs", "", "| " + " | ".join(keys) + " |", "|" + " --- |" * len(keys)]
        o.md += ["| " + " | ".join(r.get(k, "") for k in keys) + " |" for r in runs]

    print("\n".join(o.text))
    with open(md_path, "w") as f:
        f.write("\n".join(o.md).lstrip("\n") + "\n")


if __name__ == "__main__":
    main()
