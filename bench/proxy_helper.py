#!/usr/bin/env python3
"""Helpers for bench/proxy: free ports, readiness, a keep-alive connection holder, wrk parsing, the report.

Everything here talks to 127.0.0.1 only.
"""

import json
import os
import re
import signal
import socket
import statistics
import sys
import time

HOST = "127.0.0.1"


# ---------------------------------------------------------------- ports and requests


def cmd_ports(count):
    """Prints `count` distinct free loopback ports (all bound at once, so they differ)."""
    sockets = []
    try:
        for _ in range(int(count)):
            s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            s.bind((HOST, 0))
            sockets.append(s)
        print(" ".join(str(s.getsockname()[1]) for s in sockets))
    finally:
        for s in sockets:
            s.close()


def cmd_wait_port(port, timeout):
    """Exits 0 once 127.0.0.1:port accepts a TCP connection, 1 after `timeout` seconds."""
    deadline = time.monotonic() + float(timeout)
    while time.monotonic() < deadline:
        try:
            with socket.create_connection((HOST, int(port)), timeout=0.5):
                return 0
        except OSError:
            time.sleep(0.05)
    return 1


def read_response(sock, buffer=b""):
    """Reads one HTTP/1.1 response with a Content-Length body; returns (status, body, leftover bytes)."""
    while b"\r\n\r\n" not in buffer:
        chunk = sock.recv(65536)
        if not chunk:
            raise ConnectionError("connection closed before the response head")
        buffer += chunk
    head, _, rest = buffer.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split(" ")[1])
    length = None
    for line in lines[1:]:
        name, _, value = line.partition(":")
        if name.strip().lower() == "content-length":
            length = int(value.strip())
        if name.strip().lower() == "transfer-encoding" and "chunked" in value.lower():
            raise ValueError("chunked responses are not expected from the bench upstream")
    if length is None:
        raise ValueError("response without Content-Length")
    while len(rest) < length:
        chunk = sock.recv(65536)
        if not chunk:
            raise ConnectionError("connection closed inside the response body")
        rest += chunk
    return status, rest[:length], rest[length:]


REQUEST = b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nUser-Agent: slipway-bench\r\n\r\n"


def cmd_request(port, expected_body_file=None):
    """Sends one keep-alive GET / and checks for 200 (and the expected body); prints the body length."""
    with socket.create_connection((HOST, int(port)), timeout=5) as sock:
        sock.sendall(REQUEST)
        status, body, _ = read_response(sock)
    if status != 200:
        print(f"expected 200, got {status}", file=sys.stderr)
        return 1
    if expected_body_file is not None:
        with open(expected_body_file, "rb") as f:
            expected = f.read()
        if body != expected:
            print(f"unexpected body: {body[:80]!r}", file=sys.stderr)
            return 1
    print(len(body))
    return 0


def cmd_hold(port, count, ready_file):
    """Opens `count` keep-alive connections, each sending one GET / and reading its 200 response, then
    writes `ready_file` and holds them open until SIGTERM/SIGINT, when it closes them all and exits."""
    stop = False

    def on_signal(signum, frame):
        nonlocal stop
        stop = True

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    connections = []
    try:
        for _ in range(int(count)):
            if stop:
                return 1
            sock = socket.create_connection((HOST, int(port)), timeout=10)
            connections.append(sock)
            sock.sendall(REQUEST)
            status, _, leftover = read_response(sock)
            if status != 200 or leftover:
                print(f"connection {len(connections)}: status {status}", file=sys.stderr)
                return 1
        with open(ready_file + ".tmp", "w") as f:
            f.write(f"{len(connections)}\n")
        os.rename(ready_file + ".tmp", ready_file)
        deadline = time.monotonic() + 300  # never hold longer than this, whatever happens to the script
        while not stop and time.monotonic() < deadline:
            time.sleep(0.1)
        return 0
    finally:
        for sock in connections:
            sock.close()


# ---------------------------------------------------------------- wrk output

UNITS_US = {"us": 1.0, "ms": 1000.0, "s": 1_000_000.0, "m": 60_000_000.0, "h": 3_600_000_000.0}


def to_us(text):
    match = re.fullmatch(r"([0-9.]+)(us|ms|s|m|h)", text.strip())
    if not match:
        raise ValueError(f"cannot read the wrk duration {text!r}")
    return float(match.group(1)) * UNITS_US[match.group(2)]


def parse_wrk(text):
    percentiles = {}
    for match in re.finditer(r"^\s+(50|75|90|99)%\s+(\S+)\s*$", text, re.M):
        percentiles[match.group(1)] = to_us(match.group(2))
    requests = re.search(r"^\s*(\d+) requests in ([0-9.]+)(us|ms|s|m|h)", text, re.M)
    rps = re.search(r"^Requests/sec:\s+([0-9.]+)", text, re.M)
    if not requests or not rps or "50" not in percentiles or "99" not in percentiles:
        raise ValueError("cannot read the wrk output:\n" + text)
    errors = 0
    socket_errors = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", text)
    if socket_errors:
        errors += sum(int(n) for n in socket_errors.groups())
    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", text)
    if non2xx:
        errors += int(non2xx.group(1))
    return {
        "requests": int(requests.group(1)),
        "seconds": to_us(requests.group(2) + requests.group(3)) / 1_000_000,
        "rps": float(rps.group(1)),
        "p50_us": percentiles["50"],
        "p99_us": percentiles["99"],
        "errors": errors,
    }


def cmd_record(
    target, conns, run, wrk_file, clk_tck, before, after, upstream_before, upstream_after, system_before, system_after,
    wrk_ms,
):
    """Prints one JSON line for a wrk run: its numbers, the measured process's CPU µs per request, and how much
    of a core everything else used meanwhile (all CPUs' busy time less the target, the upstream and wrk)."""
    with open(wrk_file) as f:
        result = parse_wrk(f.read())
    clk = int(clk_tck)
    ticks = int(after) - int(before)
    cpu_us = ticks * 1_000_000 / clk / result["requests"] if result["requests"] else None
    other_ticks = (
        (int(system_after) - int(system_before)) - ticks - (int(upstream_after) - int(upstream_before))
        - int(wrk_ms) * clk / 1000
    )
    other_pct = max(0.0, other_ticks / clk / result["seconds"] * 100) if result["seconds"] else None
    result.update(
        kind="wrk", target=target, conns=int(conns), run=int(run), cpu_ticks=ticks, cpu_us_per_req=cpu_us,
        upstream_ticks=int(upstream_after) - int(upstream_before), wrk_ms=int(wrk_ms), other_cpu_pct=other_pct,
    )
    print(json.dumps(result))
    return 0


def cmd_summary(jsonl_file, target, conns):
    """One progress line for the last recorded run of a target."""
    rows = [json.loads(line) for line in open(jsonl_file) if line.strip()]
    row = [r for r in rows if r.get("kind") == "wrk" and r["target"] == target and r["conns"] == int(conns)][-1]
    cpu = f"{row['cpu_us_per_req']:.2f} µs/req CPU" if row["cpu_us_per_req"] is not None else ""
    errors = f", {row['errors']} errors" if row["errors"] else ""
    print(
        f"{row['rps']:,.0f} req/s, p50 {fmt_ms(row['p50_us'])} ms, p99 {fmt_ms(row['p99_us'])} ms, {cpu}{errors}"
    )
    return 0


# ---------------------------------------------------------------- the report


def fmt_ms(us):
    ms = us / 1000
    return f"{ms:.2f}" if ms >= 1 else f"{ms:.3f}"


def fmt_mb(kb):
    return f"{kb * 1024 / 1_000_000:.1f}"


def ratio(a, b):
    return a / b if a is not None and b else None


def cmd_report(jsonl_file, meta_file):
    with open(meta_file) as f:
        meta = json.load(f)
    rows = [json.loads(line) for line in open(jsonl_file) if line.strip()]
    runs = [r for r in rows if r.get("kind") == "wrk"]
    rss = {r["target"]: r for r in rows if r.get("kind") == "rss"}
    targets = meta["targets"]  # [{key, label, cpu_of, rss_of, skipped}]
    conns_list = [int(c) for c in meta["connections"]]
    out = []
    w = out.append

    w("# Slipway proxy benchmark")
    w("")
    w(f"- date: {meta['date']}")
    w(f"- machine: {meta['cpu']}, {meta['cores']} cores, Linux {meta['kernel']}")
    w(f"- versions: {meta['versions']}")
    w(
        f"- load: `wrk -t1 -c<connections> -d{meta['duration']}s --latency --timeout 10s` on 127.0.0.1, "
        "keep-alive, "
        f"{meta['runs']} run(s) per target and connection count after a {meta['warmup']} s warm-up; "
        "each number is the median of the runs"
    )
    w(f"- upstream: nginx, 1 worker, `return 200` with a {meta['body_bytes']}-byte body")
    w(f"- nginx as proxy: 1 worker, upstream `keepalive {meta['nginx_keepalive']}`; HAProxy: `nbthread 1`; "
      "Slipway: `--threads 1`")
    w("")
    w("## Throughput, latency, CPU")
    w("")
    w("| target | connections | req/s (median) | p50 ms | p99 ms | CPU µs/req | CPU measured on |")
    w("| --- | ---: | ---: | ---: | ---: | ---: | --- |")
    medians = {}
    any_errors = False
    for conns in conns_list:
        for t in targets:
            if t["skipped"]:
                w(f"| {t['label']} | {conns} | {t['skipped']} | – | – | – | – |")
                continue
            mine = [r for r in runs if r["target"] == t["key"] and r["conns"] == conns]
            if not mine:
                w(f"| {t['label']} | {conns} | no data | – | – | – | – |")
                continue
            m = {
                "rps": statistics.median(r["rps"] for r in mine),
                "p50": statistics.median(r["p50_us"] for r in mine),
                "p99": statistics.median(r["p99_us"] for r in mine),
                "cpu": statistics.median(r["cpu_us_per_req"] for r in mine),
                "errors": sum(r["errors"] for r in mine),
            }
            medians[(t["key"], conns)] = m
            flag = ""
            if m["errors"]:
                any_errors = True
                flag = f" ⚠ {m['errors']} errors"
            w(
                f"| {t['label']} | {conns} | {m['rps']:,.0f}{flag} | {fmt_ms(m['p50'])} | {fmt_ms(m['p99'])} | "
                f"{m['cpu']:.2f} | {t['cpu_of']} |"
            )
    w("")
    w("Each number is the median of the runs; the runs themselves:")
    w("")
    w("| target | connections | run | req/s | p50 ms | p99 ms | CPU µs/req | other CPU % |")
    w("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    for conns in conns_list:
        for t in targets:
            mine = sorted((r for r in runs if r["target"] == t["key"] and r["conns"] == conns), key=lambda r: r["run"])
            for r in mine:
                errors = f" ⚠ {r['errors']} errors" if r["errors"] else ""
                w(
                    f"| {t['label']} | {conns} | {r['run']} | {r['rps']:,.0f}{errors} | {fmt_ms(r['p50_us'])} | "
                    f"{fmt_ms(r['p99_us'])} | {r['cpu_us_per_req']:.2f} | {r['other_cpu_pct']:.0f} |"
                )
    w("")
    others = [r["other_cpu_pct"] for r in runs if r["other_cpu_pct"] is not None]
    if others:
        w(
            "\"Other CPU\" is the CPU time the machine spent on anything but the measured process, the upstream "
            "and wrk during a run, in % of one core (other programs, interrupts): "
            f"median {statistics.median(others):.0f} %, highest {max(others):.0f} % "
            f"({meta['background_pct']} % in the 2 s before the load started)."
        )
        if max(others) > 15:
            w("")
            w(
                "⚠ Other work competed for the CPU during some runs (other CPU above 15 % of a core); "
                "those numbers are noisier than on an otherwise idle machine."
            )
    if any_errors:
        w("")
        w("⚠ wrk reported socket errors or non-2xx responses in the runs marked above.")
    w("")
    w(f"## Memory (VmRSS; MB = 10^6 bytes; {meta['hold']:,} connections that each sent one request stay open)")
    w("")
    w("| target | idle MB | at " + f"{meta['hold']:,}" + " conns MB | growth MB | process measured |")
    w("| --- | ---: | ---: | ---: | --- |")
    for t in targets:
        if t["key"] == "upstream" or t.get("mirror"):
            continue
        if t["skipped"]:
            w(f"| {t['label']} | {t['skipped']} | – | – | – |")
            continue
        r = rss.get(t["key"])
        if not r:
            w(f"| {t['label']} | no data | – | – | – |")
            continue
        w(
            f"| {t['label']} | {fmt_mb(r['idle_kb'])} | {fmt_mb(r['held_kb'])} | "
            f"{fmt_mb(r['held_kb'] - r['idle_kb'])} | {r['note']} |"
        )
    w("")
    w("## Slipway against nginx and HAProxy (same run)")
    w("")
    slipway = next(t for t in targets if t["key"] == "slipway")
    labels = {"nginx": "nginx", "haproxy": "HAProxy"}
    for other in ("nginx", "haproxy"):
        for conns in conns_list:
            s, o = medians.get(("slipway", conns)), medians.get((other, conns))
            for name, key in (("req/s", "rps"), ("CPU/req", "cpu"), ("p99", "p99")):
                if slipway["skipped"]:
                    w(f"- Slipway/{labels[other]} {name} {conns}c: pending, Slipway {slipway['skipped']}")
                elif s and o:
                    w(f"- Slipway/{labels[other]} {name} {conns}c: {ratio(s[key], o[key]):.2f}×")
                else:
                    w(f"- Slipway/{labels[other]} {name} {conns}c: n/a (no data)")
    w("")
    if any(t.get("mirror") for t in targets):
        w("## Mirroring: every request also copied to a second upstream (same run)")
        w("")
        w(
            "nginx copies with its mirror module (`mirror /shadow`, a subrequest to the second upstream); Slipway with "
            "`slipway proxy --mirror` (a copy on a connection of its own, its answer dropped). The copies' upstream "
            "runs on the same machine, so part of each drop is its CPU."
        )
        w("")
        pairs = (
            ("Slipway + mirror / Slipway", "slipway-mirror", "slipway"),
            ("nginx + mirror / nginx", "nginx-mirror", "nginx"),
            ("Slipway + mirror / nginx + mirror", "slipway-mirror", "nginx-mirror"),
        )
        for label, a_key, b_key in pairs:
            for conns in conns_list:
                a, b = medians.get((a_key, conns)), medians.get((b_key, conns))
                for name, key in (("req/s", "rps"), ("CPU/req", "cpu"), ("p99", "p99")):
                    if slipway["skipped"] and "slipway" in a_key:
                        w(f"- {label} {name} {conns}c: pending, Slipway {slipway['skipped']}")
                    elif a and b:
                        w(f"- {label} {name} {conns}c: {ratio(a[key], b[key]):.2f}×")
                    else:
                        w(f"- {label} {name} {conns}c: n/a (no data)")
        w("")
    w("## Targets")
    w("")

    def verdict(ok):
        if slipway["skipped"]:
            return "pending, Slipway " + slipway["skipped"]
        if ok is None:
            return "no data"
        return "met" if ok else "NOT met"

    def all_conns(check, other="nginx"):
        if slipway["skipped"]:
            return None
        results = []
        for conns in conns_list:
            s, n = medians.get(("slipway", conns)), medians.get((other, conns))
            if not s or not n:
                return None
            results.append(check(s, n))
        return all(results)

    def detail(key, fmt, other="nginx"):
        if slipway["skipped"]:
            return ""
        parts = []
        for conns in conns_list:
            s, n = medians.get(("slipway", conns)), medians.get((other, conns))
            if s and n:
                parts.append(f"{conns}c: {fmt(s[key])} vs {fmt(n[key])}")
        return " (" + "; ".join(parts) + ")" if parts else ""

    for other, label in (("nginx", "nginx"), ("haproxy", "HAProxy")):
        w(
            f"- req/s ≥ 1.1× {label}: "
            + verdict(all_conns(lambda s, n: s["rps"] >= 1.1 * n["rps"], other))
            + detail("rps", lambda v: f"{v:,.0f}", other)
        )
    w(
        "- CPU per request ≤ 0.9× nginx: "
        + verdict(all_conns(lambda s, n: s["cpu"] <= 0.9 * n["cpu"]))
        + detail("cpu", lambda v: f"{v:.2f} µs")
    )
    w(
        "- p99 ≤ nginx: "
        + verdict(all_conns(lambda s, n: s["p99"] <= n["p99"]))
        + detail("p99", lambda v: f"{fmt_ms(v)} ms")
    )
    r = rss.get("slipway")
    idle_ok = None if r is None else r["idle_kb"] * 1024 <= 15_000_000
    growth_ok = None if r is None else (r["held_kb"] - r["idle_kb"]) * 1024 <= 10_000_000
    w(
        "- RSS idle ≤ 15 MB: "
        + verdict(idle_ok)
        + ("" if r is None or slipway["skipped"] else f" ({fmt_mb(r['idle_kb'])} MB)")
    )
    w(
        f"- RSS growth at {meta['hold']:,} connections ≤ 10 MB: "
        + verdict(growth_ok)
        + ("" if r is None or slipway["skipped"] else f" (+{fmt_mb(r['held_kb'] - r['idle_kb'])} MB)")
    )
    print("\n".join(out))
    return 0


COMMANDS = {
    "ports": cmd_ports,
    "wait-port": cmd_wait_port,
    "request": cmd_request,
    "hold": cmd_hold,
    "record": cmd_record,
    "summary": cmd_summary,
    "report": cmd_report,
}

if __name__ == "__main__":
    if len(sys.argv) < 2 or sys.argv[1] not in COMMANDS:
        print("usage: proxy_helper.py " + "|".join(COMMANDS) + " ARGS…", file=sys.stderr)
        sys.exit(2)
    sys.exit(COMMANDS[sys.argv[1]](*sys.argv[2:]) or 0)
