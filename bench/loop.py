"""Benchmark of the case's loop at a city's scale: a step through HTTP with millions of events.

    .venv/bin/python bench/loop.py [--violations 1000000] [--events 5000000] [--steps 200]
                                   [--home var/bench]

Reuses the synthetic city of bench/layers.py under --home (built and imported when missing;
migrations bring its cases their report events), gives its dispatched cases lives once (60 %
fixed and verified, 10 % after one rework, 3 % disputed, the rest left dispatched), tops
``case_event`` up to --events rows with filler steps, then serves it
with ``chuangwen serve`` and, as a planner, takes --steps steps (``reassign`` of a random
case to its own unit: a real step with its checks, lock, event and audited update) through
``POST /api/cases/{id}/events`` with the ETag read just before (not timed). The baseline
beside it is the same server answering ``GET /collections/violations/items/{id}`` for the
same cases. Target (issue "The closed loop"): a step's p95 ≤ 30 ms with 1 M cases and
5 M events stored.
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import sys
import time
import urllib.request
from pathlib import Path

from sqlalchemy import text

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.layers import (  # noqa: E402
    ROOT,
    benchmark_city,
    log,
    print_table,
    running_cluster,
    start_server,
)
from service.accounts.users import create_user, issue_token  # noqa: E402
from service.cases import tally  # noqa: E402
from service.store.db import Actor, set_actor  # noqa: E402

TARGET_P95_MS = 30


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--violations", type=int, default=1_000_000)
    ap.add_argument("--events", type=int, default=5_000_000)
    ap.add_argument("--steps", type=int, default=200)
    ap.add_argument("--home", default=str(ROOT / "var" / "bench"))
    args = ap.parse_args()
    home = Path(args.home).resolve()
    with running_cluster(home) as (cluster, engine):
        city, _ = benchmark_city(engine, args.violations)
        stored = _top_up_events(engine, city, args.events)
        with engine.begin() as conn:
            set_actor(conn, Actor(None, "bench"))
            user = create_user(conn, city, f"bench_loop_{time.time_ns()}", "planner")
            token = issue_token(conn, user)
            cases = conn.execute(
                text(
                    "SELECT v.id, u.code FROM violation v JOIN unit u ON u.city_id = v.city_id "
                    "AND u.id = v.unit_id WHERE v.city_id = :c AND v.status IN ('open', "
                    "'dispatched') ORDER BY random() LIMIT :n"
                ),
                {"c": city, "n": args.steps},
            ).all()
            n = conn.execute(
                text("SELECT count(*) FROM violation WHERE city_id = :c"), {"c": city}
            ).scalar()
        with start_server(cluster.url, home) as base:
            for cid, _ in cases[:10]:  # warm the connections and the plans
                _item(base, token, cid)
            reads, steps = [], []
            rng = random.Random(7)
            for cid, unit in rng.sample(cases, len(cases)):
                ms, etag = _item(base, token, cid)
                reads.append(ms)
                steps.append(_step(base, token, cid, etag, unit))
        rows = [
            _row("a step (reassign) through HTTP", steps, f"{stored:,} events stored", True),
            _row("baseline: the case read through HTTP", reads, "same cases", False),
        ]
        print_table(rows, n, "Case loop benchmark")


# the lives given to the benchmark's dispatched cases once, by a stable draw per case: the
# share of cases, then each step (hours after observation, action, from, to)
_LIVES = {
    "closed": (0.60, [(2, "accept", "dispatched", "rectifying"),
                      (20, "fix", "rectifying", "resolved"),
                      (30, "verify_pass", "resolved", "closed")]),
    "reworked": (0.10, [(2, "accept", "dispatched", "rectifying"),
                        (20, "fix", "rectifying", "resolved"),
                        (30, "verify_fail", "resolved", "rectifying"),
                        (50, "fix", "rectifying", "resolved"),
                        (60, "verify_pass", "resolved", "closed")]),
    "disputed": (0.03, [(3, "dispute", "dispatched", "disputed")]),
}  # fmt: skip
_DRAW = "((hashtext(v.case_no || 'life') & 65535) / 65536.0)"


def _give_lives(engine, city: int) -> None:
    """Once: the dispatched cases' steps as a year of work leaves them (closed, some after a
    rework, a few disputed, the rest still dispatched), their status, closing time and tally
    (service/cases/tally.py) written from those steps; earlier filler steps go."""
    with engine.connect() as conn:
        if conn.execute(
            text("SELECT EXISTS (SELECT 1 FROM case_event WHERE city_id = :c AND action = 'fix')"),
            {"c": city},
        ).scalar():
            return
    t = time.perf_counter()
    life, lo, steps = [], 0.0, []
    for name, (share, path) in _LIVES.items():
        life.append(f"WHEN {_DRAW} < {lo + share} THEN '{name}'")
        lo += share
        steps += [f"('{name}', {h}, '{a}', '{f}', '{to}')" for h, a, f, to in path]
    life_of = f"CASE {' '.join(life)} END"
    with engine.begin() as conn:
        set_actor(conn, Actor(None, "bench"))
        conn.execute(text("DELETE FROM case_event WHERE city_id = :c AND comment = 'filler'"),
                     {"c": city})  # fmt: skip
        conn.execute(
            text(
                "INSERT INTO case_event (city_id, violation_id, at, action, from_status, "
                "to_status, unit_id) SELECT v.city_id, v.id, v.observed_at + interval '1 hour' "
                f"* s.h, s.a, s.f, s.t, v.unit_id FROM violation v JOIN (VALUES {', '.join(steps)}"
                f") s(life, h, a, f, t) ON s.life = {life_of} WHERE v.city_id = :c "
                "AND v.status = 'dispatched'"
            ),
            {"c": city},
        )
        # a year of steps stands in for users' changes: not audited one by one here
        conn.execute(text("ALTER TABLE violation DISABLE TRIGGER violation_audit"))
        conn.execute(
            text(
                "UPDATE violation v SET status = l.t, closed_at = CASE WHEN l.t = 'closed' "
                "THEN l.at END FROM (SELECT DISTINCT ON (violation_id) violation_id, to_status "
                "t, at FROM case_event WHERE city_id = :c AND action IN ('accept', 'fix', "
                "'verify_pass', 'verify_fail', 'dispute') ORDER BY violation_id, at DESC) l "
                "WHERE v.city_id = :c AND v.id = l.violation_id"
            ),
            {"c": city},
        )
        conn.execute(text(tally.RECOUNT.format(where="v.city_id = :c")), {"c": city})
        conn.execute(text("ALTER TABLE violation ENABLE TRIGGER violation_audit"))
        conn.execute(text("ANALYZE violation"))
    log(f"lives given to the cases in {time.perf_counter() - t:.1f} s")


def _top_up_events(engine, city: int, want: int) -> int:
    _give_lives(engine, city)
    with engine.connect() as conn:
        have = conn.execute(
            text("SELECT count(*) FROM case_event WHERE city_id = :c"), {"c": city}
        ).scalar()
    if have < want:
        t = time.perf_counter()
        with engine.begin() as conn:
            set_actor(conn, Actor(None, "bench"))
            conn.execute(
                text(
                    "INSERT INTO case_event (city_id, violation_id, at, action, from_status, "
                    "to_status, comment, unit_id) SELECT v.city_id, v.id, v.observed_at + "
                    "interval '1 hour' * k, 'extend_request', v.status, v.status, "
                    "'filler', v.unit_id FROM (SELECT * FROM violation WHERE city_id = :c "
                    "ORDER BY id) v CROSS JOIN generate_series(1, :per) k LIMIT :more"
                ),
                {"c": city, "per": -(-(want - have) // 1_000_000) + 1, "more": want - have},
            )
            conn.execute(text("ANALYZE case_event"))
        log(f"{want - have:,} events added in {time.perf_counter() - t:.1f} s")
        have = want
    return have


def _request(req) -> tuple[float, object]:
    t = time.perf_counter()
    with urllib.request.urlopen(req) as resp:
        resp.read()
        return (time.perf_counter() - t) * 1000, resp


def _item(base: str, token: str, cid: int) -> tuple[float, str]:
    req = urllib.request.Request(
        f"{base}/collections/violations/items/{cid}",
        headers={"Authorization": f"Bearer {token}", "Accept": "application/geo+json"},
    )
    ms, resp = _request(req)
    return ms, resp.headers["ETag"]


def _step(base: str, token: str, cid: int, etag: str, unit: str) -> float:
    req = urllib.request.Request(
        f"{base}/api/cases/{cid}/events",
        data=json.dumps({"action": "reassign", "unit": unit, "comment": "bench"}).encode(),
        method="POST",
        headers={
            "Authorization": f"Bearer {token}",
            "Content-Type": "application/json",
            "If-Match": etag,
        },
    )
    ms, resp = _request(req)
    assert resp.status == 201, resp.status
    return ms


def _row(what: str, ms: list[float], detail: str, targeted: bool) -> tuple:
    q = statistics.quantiles(sorted(ms), n=100, method="inclusive")
    return (
        what,
        f"p50 {q[49]:.1f} ms, p95 {q[94]:.1f} ms",
        f"{detail}; {len(ms)} requests",
        f"p95 ≤ {TARGET_P95_MS} ms" if targeted else "—",
        q[94] <= TARGET_P95_MS if targeted else True,
    )


if __name__ == "__main__":
    main()
