"""Benchmark of phone reports under load, with retries and a database restart.

    .venv/bin/python bench/load.py [--clients 8] [--seconds 60] [--restart-at 20]
                                   [--home var/bench-load] [--keep]

Runs a throw-away PostGIS cluster under --home with the Guixi demo city, serves it with
``chuangwen serve`` (its output in --home/server.log) and lets --clients threads POST phone
reports to ``/api/reports`` for --seconds, each logical report with its own
``Idempotency-Key``. A client sends a report again with the same key after a success one
time in five (the answer was lost), and after a connection error, a timeout or a 503 until
it gets a 201 (waiting what ``Retry-After`` asks, at most --retry-cap seconds). At
--restart-at seconds the database is stopped and started again while the clients go on.

At the end every acknowledged report (a 201 the client read, replays included) must be in
the database exactly once, under the case id it was answered with; no report may be there
twice; no 500s; 503s only in the outage window (from the restart to the first success after
it, plus --grace seconds). Latency outside that window: target p95 ≤ 200 ms. One client
alone for a few seconds before the load is the baseline, measured in the same run.
"""

from __future__ import annotations

import argparse
import datetime as dt
import http.client
import io
import json
import os
import random
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
import uuid
from collections import Counter, defaultdict
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from PIL import Image
from sqlalchemy import text

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.layers import ROOT, log  # noqa: E402
from service.accounts.users import create_user, issue_token  # noqa: E402
from service.cases import photos  # noqa: E402
from service.demo.build import build  # noqa: E402
from service.demo.load import load  # noqa: E402
from service.errors import Problem  # noqa: E402
from service.store.db import Actor, make_engine, set_actor, upgrade  # noqa: E402
from service.store.pgcluster import Cluster  # noqa: E402

CENTRE = (117.215, 28.29)  # Guixi's centre; reports fall within ~1 km of it
SPREAD_DEG = (0.010, 0.009)  # ~1 km in lon and lat at 28° N
RESEND_P = 0.2  # a success whose answer the client "lost": the same report, the same key
PHOTO_P = 0.3
TARGET_P95_MS = 200


@dataclass
class Sent:
    """One HTTP request as the client saw it."""

    phase: str
    client: int
    marker: str
    kind: str  # first (a new report), resend (after a success), retry (after a failure)
    start: float  # seconds since the run began
    end: float
    status: int  # 0: no answer (connection error or timeout)
    replayed: bool = False
    case_id: int | None = None
    error: str = ""
    body: str = ""

    @property
    def ms(self) -> float:
        return (self.end - self.start) * 1000


@dataclass
class Run:
    port: int
    token: str
    timeout_s: float
    retry_cap_s: float
    jpegs: list[bytes]
    t0: float = field(default_factory=time.monotonic)
    stop: threading.Event = field(default_factory=threading.Event)
    sent: list[Sent] = field(default_factory=list)
    reports: Counter = field(default_factory=Counter)  # logical reports per phase
    tag: str = field(default_factory=lambda: uuid.uuid4().hex[:8])

    def now(self) -> float:
        return time.monotonic() - self.t0


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--clients", type=int, default=8)
    ap.add_argument("--seconds", type=float, default=60)
    ap.add_argument("--restart-at", type=float, default=20, help="0 or ≥ --seconds: no restart")
    ap.add_argument("--home", default=str(ROOT / "var" / "bench-load"))
    ap.add_argument("--keep", action="store_true", help="leave --home (cluster, server.log)")
    ap.add_argument("--baseline-seconds", type=float, default=5)
    ap.add_argument("--server-threads", type=int, default=8)
    ap.add_argument("--timeout", type=float, default=10, help="a request's timeout, seconds")
    ap.add_argument("--retry-cap", type=float, default=1.0, help="longest wait between retries")
    ap.add_argument("--grace", type=float, default=2.0, help="seconds after the outage's end")
    args = ap.parse_args()
    signal.signal(signal.SIGTERM, _interrupted)  # a kill cleans up as Ctrl-C does
    home = Path(args.home).resolve()
    cluster = Cluster(home)
    if (home / "pg").exists():
        cluster.stop()
    shutil.rmtree(home, ignore_errors=True)
    home.mkdir(parents=True)
    home.chmod(0o755)  # the cluster's postgres user must reach pg/ when root runs this
    try:
        cluster.start()
        token = _prepare(cluster)
        port = _free_port()
        with _server(cluster.url, home, port, args.server_threads) as log_path:
            run = Run(port, token, args.timeout, args.retry_cap, _jpegs())
            _measure(run, cluster, args, log_path)
    except KeyboardInterrupt:
        log("interrupted")
    finally:
        cluster.stop()
        if args.keep:
            log(f"kept {home}")
        else:
            shutil.rmtree(home, ignore_errors=True)


def _interrupted(signum, frame) -> None:
    raise KeyboardInterrupt


def _prepare(cluster: Cluster) -> str:
    upgrade(cluster.url)
    engine = make_engine(cluster.url)
    t = time.perf_counter()
    city = build(dt.datetime.now(dt.UTC))
    with engine.begin() as conn:
        set_actor(conn, Actor(None, "bench"))
        city_id, _, _ = load(conn, city)
        user = create_user(conn, city_id, "bench_load_inspector", "inspector")
        token = issue_token(conn, user, "bench/load.py")
    engine.dispose()
    log(f"demo city loaded in {time.perf_counter() - t:.1f} s")
    return token


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def _server(url: str, home: Path, port: int, threads: int) -> Iterator[Path]:
    """``chuangwen serve`` on the cluster, its output in ``home/server.log``; yields the log."""
    env = {
        **os.environ,
        "DATABASE_URL": url,
        "CHUANGWEN_HOME": str(home / "app"),
        "CHUANGWEN_TILES": "none",
        "CHUANGWEN_TILE_WARM_SECONDS": "0",
    }
    log_path = home / "server.log"
    cmd = [str(Path(sys.executable).with_name("chuangwen")), "serve", "--port", str(port)]
    with log_path.open("wb") as out:
        server = subprocess.Popen(
            [*cmd, "--threads", str(threads)], env=env, stdout=out, stderr=subprocess.STDOUT
        )
    try:
        deadline = time.monotonic() + 120
        while True:
            if server.poll() is not None:
                raise RuntimeError(f"the server exited ({server.returncode}):\n{_tail(log_path)}")
            if time.monotonic() > deadline:
                raise RuntimeError(f"the server did not become ready:\n{_tail(log_path)}")
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/health?ready", timeout=2)
                break
            except OSError:
                time.sleep(0.3)
        log(f"server ready on port {port}, log in {log_path}")
        yield log_path
    finally:
        server.terminate()
        try:
            server.wait(timeout=15)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()


def _tail(path: Path, lines: int = 30) -> str:
    return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])


def _jpegs(n: int = 8) -> list[bytes]:
    """Small real JPEGs (a gradient each) that the server's photo check takes."""
    rng = random.Random(7)
    out = []
    while len(out) < n:
        base = [rng.randrange(256) for _ in range(3)]
        img = Image.new("RGB", (96, 72))
        img.putdata(
            [
                ((base[0] + x) % 256, (base[1] + y) % 256, (base[2] + x + y) % 256)
                for y in range(72)
                for x in range(96)
            ]
        )
        buf = io.BytesIO()
        img.save(buf, "JPEG", quality=80)
        data = buf.getvalue()
        try:
            photos.check([("photo.jpg", data)], 1)
        except Problem:
            continue  # a marker the polyglot check refuses happened to appear in the bytes
        out.append(data)
    return out


# -- clients -------------------------------------------------------------------------------


def _client(run: Run, phase: str, client: int, until: float, seed: int) -> None:
    rng = random.Random(seed)
    conn = None
    i = 0
    while not run.stop.is_set() and run.now() < until:
        i += 1
        marker = f"bench-load {run.tag} {phase} c{client:02d} n{i:05d}"
        fields = {
            "category": "graffiti",
            "description": marker,
            "lon": f"{CENTRE[0] + rng.uniform(-1, 1) * SPREAD_DEG[0]:.7f}",
            "lat": f"{CENTRE[1] + rng.uniform(-1, 1) * SPREAD_DEG[1]:.7f}",
            "accuracy_m": f"{rng.uniform(3, 30):.1f}",
        }
        photo = rng.choice(run.jpegs) if rng.random() < PHOTO_P else None
        body, ctype = _multipart(fields, photo)
        key = str(uuid.uuid4())
        run.reports[phase] += 1
        conn, ok = _deliver(run, conn, phase, client, marker, key, body, ctype, "first", until)
        if ok and rng.random() < RESEND_P:
            conn, _ = _deliver(run, conn, phase, client, marker, key, body, ctype, "resend", until)
    if conn is not None:
        conn.close()


def _deliver(run, conn, phase, client, marker, key, body, ctype, kind, until):
    """Send until a 201, a status not worth retrying, or the end of the run."""
    attempt = 0
    while not run.stop.is_set() and run.now() < until:
        if conn is None:
            conn = http.client.HTTPConnection("127.0.0.1", run.port, timeout=run.timeout_s)
        headers = {
            "Authorization": f"Bearer {run.token}",
            "Idempotency-Key": key,
            "Content-Type": ctype,
            "Accept": "application/json",
        }
        rec = Sent(phase, client, marker, kind, run.now(), 0.0, 0)
        retry_after = None
        try:
            conn.request("POST", "/api/reports", body=body, headers=headers)
            resp = conn.getresponse()
            data = resp.read()
            rec.end = run.now()
            rec.status = resp.status
            rec.replayed = resp.getheader("Idempotent-Replayed") == "true"
            retry_after = resp.getheader("Retry-After")
            if resp.status == 201:
                rec.case_id = _case_id(data, resp.getheader("Location"))
            else:
                rec.body = data[:400].decode(errors="replace")
            if resp.getheader("Connection", "").lower() == "close":
                conn.close()
                conn = None
        except (OSError, http.client.HTTPException) as exc:
            rec.end = run.now()
            rec.error = f"{type(exc).__name__}: {exc}"[:200]
            conn.close()
            conn = None
        run.sent.append(rec)
        if rec.status == 201:
            return conn, True
        if rec.status not in (0, 503):
            return conn, False  # a 4xx or 500 will not change by sending it again
        attempt += 1
        kind = "retry"
        try:
            wait = float(retry_after) if retry_after else 0.05 * 2**attempt
        except ValueError:
            wait = 0.05 * 2**attempt
        wait = min(wait, run.retry_cap_s) * random.uniform(0.8, 1.0)
        run.stop.wait(max(0.0, min(wait, until - run.now())))
    return conn, False


def _case_id(data: bytes, location: str | None) -> int | None:
    try:
        fid = json.loads(data).get("id")
        if fid is not None:
            return int(fid)
    except (ValueError, AttributeError, TypeError):
        pass
    if location:
        return int(location.rstrip("/").rsplit("/", 1)[-1])
    return None


def _multipart(fields: dict[str, str], photo: bytes | None) -> tuple[bytes, str]:
    boundary = uuid.uuid4().hex
    parts = [
        f'--{boundary}\r\nContent-Disposition: form-data; name="{k}"\r\n\r\n{v}\r\n'.encode()
        for k, v in fields.items()
    ]
    if photo is not None:
        head = (
            f'--{boundary}\r\nContent-Disposition: form-data; name="photos"; '
            f'filename="photo.jpg"\r\nContent-Type: image/jpeg\r\n\r\n'
        )
        parts.append(head.encode() + photo + b"\r\n")
    parts.append(f"--{boundary}--\r\n".encode())
    return b"".join(parts), f"multipart/form-data; boundary={boundary}"


def _threads(run: Run, phase: str, n: int, seconds: float) -> list[threading.Thread]:
    until = run.now() + seconds
    threads = [
        threading.Thread(target=_client, args=(run, phase, c, until, f"{phase} {c}"), daemon=True)
        for c in range(n)
    ]
    for t in threads:
        t.start()
    return threads


def _health(run: Run, seen: list[tuple[float, int]]) -> None:
    """``/health?ready`` twice a second: when the server said the database was away."""
    url = f"http://127.0.0.1:{run.port}/health?ready"
    while not run.stop.is_set():
        t = run.now()
        try:
            with urllib.request.urlopen(url, timeout=run.timeout_s) as resp:
                seen.append((t, resp.status))
        except urllib.error.HTTPError as exc:
            seen.append((t, exc.code))
        except OSError:
            seen.append((t, 0))
        run.stop.wait(0.5)


# -- the run -------------------------------------------------------------------------------


def _measure(run: Run, cluster: Cluster, args, log_path: Path) -> None:
    for t in _threads(run, "warmup", 1, 2.0):
        t.join()
    for t in _threads(run, "baseline", 1, args.baseline_seconds):
        t.join()
    baseline = [s.ms for s in run.sent if s.phase == "baseline" and s.status]
    log(f"baseline: {len(baseline)} requests from one client")

    health: list[tuple[float, int]] = []
    load_start = run.now()
    threads = _threads(run, "load", args.clients, args.seconds)
    watcher = threading.Thread(target=_health, args=(run, health), daemon=True)
    watcher.start()
    restart = None
    try:
        if 0 < args.restart_at < args.seconds:
            time.sleep(max(0.0, load_start + args.restart_at - run.now()))
            down = run.now()
            log("stopping the database")
            cluster.stop()
            stopped = run.now()
            cluster.start()
            up = run.now()
            restart = (down, stopped, up)
            log(f"database down {up - down:.2f} s (stop {stopped - down:.2f} s)")
        for t in threads:
            t.join()
    finally:
        run.stop.set()
        for t in threads:
            t.join(timeout=args.timeout + 5)
        watcher.join(timeout=args.timeout + 5)
    log(f"load done: {len(run.sent)} requests in all; checking the database")
    found = _stored(cluster, run.tag)
    _report(run, args, restart, health, found, baseline, log_path)


def _stored(cluster: Cluster, tag: str) -> dict[str, list[int]]:
    """Case ids by marker, for every case this run wrote."""
    engine = make_engine(cluster.url)
    with engine.connect() as conn:
        rows = conn.execute(
            text("SELECT description, id FROM violation WHERE starts_with(description, :p)"),
            {"p": f"bench-load {tag} "},
        ).all()
    engine.dispose()
    found: dict[str, list[int]] = defaultdict(list)
    for marker, fid in rows:
        found[marker].append(fid)
    return found


def _check(sent: list[Sent], found: dict[str, list[int]], phases: set[str]) -> dict[str, int]:
    """The acknowledged reports of these phases against what the database holds."""
    found = {m: ids for m, ids in found.items() if m.split()[2] in phases}
    acked: dict[str, set[int]] = defaultdict(set)
    for s in sent:
        if s.status == 201 and s.phase in phases:
            acked[s.marker].add(s.case_id)
    present = sum(1 for m, ids in acked.items() if len(ids) == 1 and found.get(m) == list(ids))
    return {
        "acknowledged": len(acked),
        "present": present,
        "missing": sum(1 for m in acked if m not in found),
        "wrong id": sum(1 for m, ids in acked.items() if m in found and found[m] != list(ids)),
        "two ids answered": sum(1 for ids in acked.values() if len(ids) > 1),
        "duplicates": sum(1 for ids in found.values() if len(ids) > 1),
        "written, never acknowledged": sum(1 for m in found if m not in acked),
    }


def _pcts(ms: list[float]) -> tuple[float, float, float]:
    if not ms:
        return (float("nan"),) * 3
    if len(ms) == 1:
        return ms[0], ms[0], ms[0]
    q = statistics.quantiles(ms, n=100, method="inclusive")
    return q[49], q[94], q[98]


def _report(run, args, restart, health, found, baseline, log_path) -> None:
    sent = [s for s in run.sent if s.phase == "load"]
    window = None
    if restart is not None:
        down, stopped, up = restart
        after = [s.end for s in sent if s.status == 201 and s.end > stopped]
        back = min(after) if after else run.now()
        window = (down, back + args.grace)

    def inside(s: Sent) -> bool:
        return window is not None and s.start < window[1] and s.end > window[0]

    by = Counter()
    for s in sent:
        if s.status == 201:
            by["replay" if s.replayed else "first"] += 1
            if s.kind == "resend" and not s.replayed:
                by["resend answered as new"] += 1
        elif s.status == 503:
            by["503 in" if inside(s) else "503 out"] += 1
        elif s.status == 500:
            by["500"] += 1
        elif s.status == 0:
            by["no answer in" if inside(s) else "no answer out"] += 1
    others = Counter(s.status for s in sent if s.status not in (0, 201, 500, 503))
    check = _check(sent, found, {"load"})
    pre = _check(run.sent, found, {"warmup", "baseline"})
    outside = [s.ms for s in sent if s.status and not inside(s)]
    p50, p95, p99 = _pcts(outside)
    b50, b95, _ = _pcts(baseline)
    healthy_again = None
    if restart is not None:
        not_ready = [t for t, st in health if st != 200 and t >= restart[0]]
        if not_ready:
            later = [t for t, st in health if st == 200 and t > not_ready[0]]
            healthy_again = (not_ready[0], later[0] if later else None)
    wrong = ("missing", "wrong id", "two ids answered", "duplicates")
    correct = by["500"] == by["503 out"] == 0 and not any(check[k] or pre[k] for k in wrong)

    rows = [
        ("clients", f"{args.clients}"),
        ("seconds", f"{args.seconds:g} (restart at {args.restart_at:g} s)"),
        ("logical reports", f"{run.reports['load']:,}"),
        ("requests sent", f"{len(sent):,}"),
        ("201 first answers", f"{by['first']:,}"),
        (
            "201 replays (Idempotent-Replayed)",
            f"{by['replay']:,} (resends answered as new: {by['resend answered as new']})",
        ),
        ("503s in / out of outage", f"{by['503 in']:,} / {by['503 out']:,}"),
        ("500s", f"{by['500']:,}"),
        ("other statuses", ", ".join(f"{k}: {v}" for k, v in sorted(others.items())) or "0"),
        (
            "no answer (connection error, timeout) in / out of outage",
            f"{by['no answer in']:,} / {by['no answer out']:,}",
        ),
        ("acknowledged reports", f"{check['acknowledged']:,}"),
        (
            "present once under the answered id",
            f"{check['present']:,} (wrong id {check['wrong id']}, "
            f"two ids answered {check['two ids answered']})",
        ),
        ("missing", f"{check['missing']:,}"),
        ("duplicates", f"{check['duplicates']:,}"),
        ("written, never acknowledged", f"{check['written, never acknowledged']:,}"),
    ]
    if restart is not None:
        down, stopped, up = restart
        rows += [
            (
                "outage: database down",
                f"{up - down:.2f} s (stop {stopped - down:.2f} s, start {up - stopped:.2f} s)",
            ),
            (
                "outage: restart to first 201 after it (window + grace)",
                f"{window[1] - args.grace - down:.2f} s (+{args.grace:g} s)",
            ),
        ]
        if healthy_again:
            first, again = (f"+{t - down:.2f} s" if t else "the end" for t in healthy_again)
            rows.append(("/health?ready not ready", f"from {first} to {again} after the restart"))
    else:
        rows.append(("outage", "no restart"))
    rows += [
        (
            "latency outside outage p50 / p95 / p99",
            f"{p50:.1f} / {p95:.1f} / {p99:.1f} ms ({len(outside):,} requests)",
        ),
        (
            f"baseline, one client alone {args.baseline_seconds:g} s, p50 / p95",
            f"{b50:.1f} / {b95:.1f} ms ({len(baseline)} requests)",
        ),
        (f"target p95 ≤ {TARGET_P95_MS} ms met", "yes" if p95 <= TARGET_P95_MS else "NO"),
        (
            "correct (0 × 500, 0 × 503 outside, 0 missing, 0 duplicates, same case replayed)",
            "yes" if correct else "NO",
        ),
    ]
    if pre["acknowledged"]:
        rows.append(
            (
                "warm-up and baseline reports (checked too)",
                f"{pre['acknowledged']} acknowledged, {pre['present']} present, "
                f"{pre['missing']} missing, {pre['duplicates']} duplicates",
            )
        )
    _samples(sent, inside, log_path)
    print(
        f"\nLoad benchmark: phone reports with retries and a database restart, "
        f"{os.cpu_count()} cores\n"
    )
    w = max(len(r[0]) for r in rows)
    v = max(len(r[1]) for r in rows)
    print(f"| {'measure'.ljust(w)} | {'result'.ljust(v)} |")
    print(f"|{'-' * (w + 2)}|{'-' * (v + 2)}|")
    for name, value in rows:
        print(f"| {name.ljust(w)} | {value.ljust(v)} |")


def _samples(sent: list[Sent], inside, log_path: Path) -> None:
    """A few answers of each unexpected kind and the server's error lines, to stderr."""
    shown = Counter()
    for s in sent:
        kind = None
        if s.status == 500 or (s.status not in (0, 201, 503)):
            kind = f"status {s.status}"
        elif s.status == 503 and not inside(s):
            kind = "503 outside the outage"
        elif s.status == 0 and not inside(s):
            kind = "no answer outside the outage"
        elif s.kind == "resend" and s.status == 201 and not s.replayed:
            kind = "resend answered as new"
        if kind and shown[kind] < 3:
            shown[kind] += 1
            log(f"{kind} at +{s.start:.2f} s ({s.marker}): {s.error or s.body}")
    text_ = log_path.read_text(errors="replace") if log_path.exists() else ""
    errors = [ln for ln in text_.splitlines() if "ERROR" in ln or "Traceback" in ln]
    away = text_.count("database unavailable")
    log(f"server log: {away} 'database unavailable' warnings, {len(errors)} error lines")
    for ln in errors[:10]:
        log(f"server: {ln}")


if __name__ == "__main__":
    main()
