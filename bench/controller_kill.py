#!/usr/bin/env python3
"""Kills the controller (kill -9) at many points of real rollouts under keep-alive load, starting it again each
time, and reports the failed requests per run. See bench/controller-kill and docs/operations.md.

Usage: controller_kill.py SLIPWAY_BIN DEMO_APP_BIN WORKDIR
Traffic goes to 127.0.0.1 only. Every process it starts is stopped by PID at the end (slipway down, then SIGKILL).
"""

import http.client
import json
import os
import signal
import socket
import sqlite3
import subprocess
import sys
import threading
import time

SLIPWAY, DEMO, WORK = sys.argv[1], sys.argv[2], sys.argv[3]
RATE = int(os.environ.get("BENCH_RATE", "240"))
THREADS = 8


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Load:
    """Keep-alive GET loops, paced to RATE in total; a failure is any answer but 2xx, or none."""

    def __init__(self, port):
        self.port, self.ok, self.failed, self.stop = port, 0, [], False
        self.lock = threading.Lock()
        self.threads = [threading.Thread(target=self.loop, daemon=True) for _ in range(THREADS)]
        for t in self.threads:
            t.start()

    def loop(self):
        interval, conn, due = THREADS / RATE, None, time.monotonic()
        while not self.stop:
            for attempt in (0, 1):
                try:
                    if conn is None:
                        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=5)
                    conn.request("GET", "/")
                    response = conn.getresponse()
                    response.read()
                    with self.lock:
                        if 200 <= response.status < 300:
                            self.ok += 1
                        else:
                            self.failed.append((time.time(), response.status))
                    if (response.getheader("connection") or "").lower() == "close":
                        conn.close()
                        conn = None
                    break
                except (ConnectionError, http.client.HTTPException, OSError) as error:
                    reused = conn is not None and attempt == 0
                    try:
                        conn.close()
                    except Exception:
                        pass
                    conn = None
                    if reused:
                        continue  # a kept-alive connection closed while idle: clients retry once
                    with self.lock:
                        self.failed.append((time.time(), repr(error)))
                    break
            due += interval
            time.sleep(max(0, due - time.monotonic()))

    def finish(self):
        self.stop = True
        for t in self.threads:
            t.join(10)
        return self.ok, self.failed


class Service:
    def __init__(self, name, strategy):
        self.dir = os.path.join(WORK, name)
        os.makedirs(self.dir, exist_ok=True)
        self.listen, self.api, self.preview = free_port(), free_port(), free_port()
        strategy = strategy.replace("PREVIEW", str(self.preview))
        with open(os.path.join(self.dir, "slipway.yaml"), "w") as f:
            f.write(f"""controller:
  api: 127.0.0.1:{self.api}
  stateDir: state
apps:
  - name: shop
    listen: 127.0.0.1:{self.listen}
    instances: 3
    version: "1.0.0"
    run:
      command: [{DEMO}, --port, "{{port}}"]
      stopGracePeriod: 5s
    health: {{ path: /healthz, interval: 200ms, timeout: 150ms, unhealthyThreshold: 2, startDeadline: 10s }}
    strategy:
{strategy}
    analysis: {{ interval: 500ms, minRequests: 10, checks: ["successRate >= 99%"], failFast: ["successRate >= 95%"] }}
    warmup: {{ requests: {{ paths: [/], count: 30 }}, timeout: 20s }}
""")
        self.controllers, self.pids = [], set()

    def up(self):
        log = open(os.path.join(self.dir, f"up-{len(self.controllers) + 1}.log"), "w")
        process = subprocess.Popen([SLIPWAY, "up", "-f", "slipway.yaml"], cwd=self.dir, stdout=log, stderr=log)
        self.controllers.append(process)
        self.pids.add(process.pid)

    def kill(self):
        self.controllers[-1].send_signal(signal.SIGKILL)
        self.controllers[-1].wait(10)

    def cli(self, *arguments):
        return subprocess.run([SLIPWAY, *arguments, "-f", "slipway.yaml"], cwd=self.dir, capture_output=True,
                              timeout=60).returncode

    def events(self):
        path = os.path.join(self.dir, "state", "slipway.sqlite")
        if not os.path.exists(path):
            return []
        db = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=5)
        try:
            rows = db.execute("select kind, instance, payload from event where app = 'shop' order by id").fetchall()
        finally:
            db.close()
        result = []
        for kind, instance, payload in rows:
            fields = json.loads(payload)
            for key in ("pid", "supervisorPid"):
                if isinstance(fields.get(key), int):
                    self.pids.add(fields[key])
            result.append((kind, instance, fields))
        return result

    def wait(self, what, condition, timeout=90):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                if condition(self.events()):
                    return
            except sqlite3.Error:
                pass
            time.sleep(0.01)
        raise SystemExit(f"{self.dir}: timed out waiting for {what}")

    def teardown(self):
        self.cli("down")
        self.events()
        for pid in self.pids:
            try:
                os.kill(pid, signal.SIGKILL)
            except OSError:
                pass


def step(prefix):
    def reached(events):
        steps = [f.get("description", "") for k, _, f in events if k == "rolloutStepStarted"]
        return bool(steps) and steps[-1].startswith(prefix)
    return reached


def kinds(events, kind):
    return [e for e in events if e[0] == kind]


def candidate_started_not_warm(events):
    return any(f.get("role") == "candidate" for k, _, f in kinds(events, "instanceStarted")) and \
        not kinds(events, "instanceWarmedUp")


CANARY = """      canary:
        steps:
          - weight: 25
          - pause: 2s
          - analysis: { windows: 3 }
          - weight: 50
          - pause: 2s"""
BLUE_GREEN = """      blueGreen: { previewListen: 127.0.0.1:PREVIEW, autoPromote: true, scaleDownDelay: 3s,
                   postPromotion: { windows: 4 } }"""
ROLLING = """      rolling: { maxSurge: 1, maxUnavailable: 0 }"""
HOLD = """      canary:
        steps:
          - weight: 25
          - pause: {}"""

RUNS = [
    ("canary", CANARY, None, "promoted", [
        ("during warm-up", candidate_started_not_warm),
        ("mid-step (first pause)", step("pause 2s")),
        ("during analysis", step("analysis")),
        ("at 50%", lambda e: any(f.get("description", "").startswith("weight 50")
                                 for k, _, f in kinds(e, "rolloutStepStarted"))),
        ("second pause", step("pause 2s")),
        ("just after promotion", lambda e: bool(kinds(e, "rolloutPromoted"))),
    ]),
    ("blue-green", BLUE_GREEN, None, "promoted", [
        ("starting the candidate set", lambda e: any(f.get("role") == "candidate"
                                                       for k, _, f in kinds(e, "instanceStarted"))),
        ("preview open", lambda e: any("preview" in f for k, _, f in kinds(e, "routesChanged"))),
        ("candidate set healthy", lambda e: len([1 for k, _, f in kinds(e, "instanceHealthy")
                                                 if f.get("version") == "2.0.0"]) >= 3),
        ("just after the switch", lambda e: bool(kinds(e, "rolloutPromoted"))),
        ("old set kept warm, post-promotion analysis", lambda e: len(kinds(e, "analysisJudged")) >= 2),
    ]),
    ("rolling", ROLLING, None, "promoted", [
        ("first batch starting", lambda e: any(f.get("version") == "2.0.0" for k, _, f in kinds(e, "instanceStarted"))),
        ("first batch ready", lambda e: any(f.get("version") == "2.0.0" for k, _, f in kinds(e, "instanceHealthy"))),
        ("second batch", lambda e: len([1 for k, _, f in kinds(e, "instanceHealthy") if f.get("version") == "2.0.0"]) >= 2),
        ("last batch draining", lambda e: len(kinds(e, "instanceDrained")) >= 2),
    ]),
    ("going back", HOLD, "abort", "aborted", [
        ("holding at 25%", step("pause")),
        ("right after the decision to go back", lambda e: bool(kinds(e, "rolloutRollingBack"))),
        ("draining the candidates", lambda e: bool(kinds(e, "rolloutRollingBack")) and bool(kinds(e, "instanceDrained"))),
        ("stopping the candidates", lambda e: bool(kinds(e, "rolloutRollingBack"))
         and any(f.get("version") == "2.0.0" for k, _, f in kinds(e, "instanceExited"))),
        ("the last step", lambda e: bool(kinds(e, "rolloutRollingBack"))
         and len([1 for k, _, f in kinds(e, "instanceExited") if f.get("version") == "2.0.0"]) >= 1),
    ]),
]


def main():
    print("| rollout | kill points | requests | failed | outcome | rollouts started |")
    print("| ------- | ----------- | -------- | ------ | ------- | ---------------- |")
    total_points = total_failed = total_requests = 0
    for name, strategy, command, expected, points in RUNS:
        service = Service(name, strategy)
        try:
            service.up()
            service.wait("3 healthy instances", lambda e: len(kinds(e, "instanceHealthy")) >= 3)
            load = Load(service.listen)
            time.sleep(1)
            if service.cli("deploy", "shop", "--version", "2.0.0", "--env", "DEMO_SLOW_FIRST=30",
                           "--env", "DEMO_SLOW_FIRST_LATENCY=50ms") != 0:
                raise SystemExit(f"{name}: deploy refused")
            for index, (point, reached) in enumerate(points):
                service.wait(point, reached)
                service.kill()
                time.sleep(0.3)
                service.up()
                if command and index == 0:
                    time.sleep(0.5)
                    service.cli(command, "shop")
            service.wait("the rollout's end", lambda e: bool(kinds(e, "rolloutFinished")))
            time.sleep(1)
            ok, failed = load.finish()
            events = service.events()
            outcome = kinds(events, "rolloutFinished")[-1][2].get("outcome")
            started = len(kinds(events, "rolloutStarted"))
            mark = "" if outcome == expected and not failed and started == 1 else " (not met)"
            print(f"| {name} | {len(points)} | {ok + len(failed)} | {len(failed)} | {outcome}{mark} | {started} |")
            if failed:
                print(f"|   first failures: {failed[:3]} | | | | | |")
            total_points += len(points)
            total_failed += len(failed)
            total_requests += ok + len(failed)
        finally:
            service.teardown()
    print(f"\n{total_points} controller kills, {total_failed} of {total_requests} requests failed.")


main()
