"""A unit's user sees only its own cases, on every route of the app.

Every route the app has (``app.url_map``) is called as the demo city's unit user, with real
parameters: real ids, the tiles over the city at zooms 10, 13 and 15, the photo of another
unit's case, a plan the unit user is on the team of. No answer may name a case of another
unit: not its case number (searched for in every text answer), nor its id (in JSON, in the
objects of an HTML page that carry a case number, in the features of a vector tile), nor
count it (the tiles' and problem points' counts are compared with the unit's own cases).
Where a route shows cases, the unit's own must be there, so nothing passes by showing none.

The probes are a table keyed by endpoint: a route with no probe fails the test, by name.
"""

from __future__ import annotations

import hashlib
import io
import json
import re
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass, field

import mapbox_vector_tile
import openpyxl
import pytest
from PIL import Image
from sqlalchemy import text

from gis.webtiles import tiles_over
from service.layers.map_layers import LAYERS
from service.layers.problems import OPEN_STATUSES
from service.store.db import Actor, set_actor
from tests.conftest import bearer

MVT = "application/vnd.mapbox-vector-tile"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
TILE_ZOOMS = (10, 13, 15)
RAW_FROM_ZOOM = 13  # from this zoom a violations tile holds the cases, below their counts


@dataclass
class Truth:
    """The demo city's cases as the unit user may and may not see them (read from the
    tables here, not through service/accounts/scope.py)."""

    city_id: int
    unit_id: int
    own_units: dict[int, str]  # id → code: the unit and its communities
    foreign_units: dict[int, str]
    own: dict[int, str]  # case id → case_no
    foreign: dict[int, str]
    case_id: dict[str, int]  # every case_no → its id
    open_near_own: dict[int, set[int]]  # assessment point → open own cases near it
    open_near_foreign: dict[int, set[int]]
    active_points: set[int]


def _truth(engine, city_id: int, unit_id: int) -> Truth:
    with engine.connect() as conn:
        units = conn.execute(
            text("SELECT id, code, parent_id FROM unit WHERE city_id = :c"), {"c": city_id}
        ).all()
        cases = conn.execute(
            text(
                "SELECT id, case_no, unit_id, status, permitted, near_points FROM violation "
                "WHERE city_id = :c"
            ),
            {"c": city_id},
        ).all()
        active = set(
            conn.execute(
                text("SELECT id FROM assessment_point WHERE city_id = :c AND active"),
                {"c": city_id},
            ).scalars()
        )
    mine = {u.id for u in units if u.id == unit_id or u.parent_id == unit_id}
    t = Truth(
        city_id=city_id,
        unit_id=unit_id,
        own_units={u.id: u.code for u in units if u.id in mine},
        foreign_units={u.id: u.code for u in units if u.id not in mine},
        own={},
        foreign={},
        case_id={},
        open_near_own={},
        open_near_foreign={},
        active_points=active,
    )
    for c in cases:
        own = c.unit_id in mine
        (t.own if own else t.foreign)[c.id] = c.case_no
        t.case_id[c.case_no] = c.id
        if c.status in OPEN_STATUSES and not c.permitted:
            near = t.open_near_own if own else t.open_near_foreign
            for p in c.near_points or []:
                near.setdefault(p["id"], set()).add(c.id)
    return t


_TOKEN = re.compile(r"[A-Za-z0-9_\-]+")
_CASE_OBJECT = re.compile(r"\{[^{}]*\"case_no\"[^{}]*\}")


@dataclass
class Seen:
    """The cases an answer names: by id or by case number."""

    ids: set[int] = field(default_factory=set)
    tile_counts: int = 0  # cases counted (not named) by low-zoom violations tiles


def _walk_json(node, truth: Truth, seen: Seen) -> None:
    if isinstance(node, dict):
        props = node.get("properties")
        if isinstance(props, dict) and "case_no" in props and isinstance(node.get("id"), int):
            seen.ids.add(node["id"])  # a GeoJSON feature of a case
        if "case_no" in node and isinstance(node.get("id"), int):
            seen.ids.add(node["id"])  # a case as a JSON object (nearby, a plan's details)
        if node.get("layer") == "violations" and isinstance(node.get("id"), int):
            seen.ids.add(node["id"])  # a search hit
        for v in node.values():
            _walk_json(v, truth, seen)
    elif isinstance(node, list):
        for v in node:
            _walk_json(v, truth, seen)


def _cases_in(resp, truth: Truth) -> Seen:
    seen = Seen()
    if resp.mimetype == MVT:
        for name, layer in mapbox_vector_tile.decode(resp.data).items():
            for f in layer["features"]:
                if name == "violations" and "count" in f["properties"]:
                    seen.tile_counts += f["properties"]["count"]
                elif name == "violations":
                    seen.ids.add(f["id"])
        return seen
    if (resp.mimetype or "").startswith("image/"):
        return seen
    if resp.mimetype == XLSX:  # a workbook: the text of every cell
        sheets = openpyxl.load_workbook(io.BytesIO(resp.data)).worksheets
        body = " ".join(str(c.value) for ws in sheets for row in ws.iter_rows() for c in row)
        seen.ids |= {truth.case_id[t] for t in set(_TOKEN.findall(body)) if t in truth.case_id}
        return seen
    body = resp.get_data(as_text=True)
    # a case number anywhere in the text names its case
    seen.ids |= {truth.case_id[t] for t in set(_TOKEN.findall(body)) if t in truth.case_id}
    if resp.is_json or resp.mimetype in ("application/geo+json", "application/problem+json"):
        _walk_json(json.loads(body), truth, seen)
    else:  # a page: the JSON objects in it that carry a case number
        for m in _CASE_OBJECT.finditer(body):
            try:
                _walk_json(json.loads(m.group(0)), truth, seen)
            except ValueError:
                continue
    return seen


@dataclass
class World:
    """What the probes call with: real ids of the demo city."""

    truth: Truth
    user_id: int
    token: str
    own_photo: str
    foreign_photo: str
    member_plan: int  # a released plan with the unit user on its team
    other_plan: int  # a plan the unit user is not on
    collection_ids: dict[str, int]  # collection → an id of a feature in it
    catalogue_code: dict[str, str]  # catalogue → a code in it
    extent: tuple[float, float, float, float]  # of the city's cases, lon/lat


class Prober:
    """Calls routes as the unit user; every answer is searched for foreign cases."""

    def __init__(self, client, world: World):
        self.client, self.world, self.truth = client, world, world.truth
        self.failures: list[str] = []
        self.endpoint = ""

    def call(self, method: str, url: str, status: tuple[int, ...] | None = None, **kw):
        headers = {**bearer(self.world.token), **kw.pop("headers", {})}
        resp = self.client.open(url, method=method, headers=headers, **kw)
        seen = _cases_in(resp, self.truth)
        leaked = sorted(seen.ids & set(self.truth.foreign))
        if leaked:
            nos = [self.truth.foreign[i] for i in leaked[:5]]
            self.fail(f"{method} {url} shows {len(leaked)} foreign case(s), e.g. {nos}")
        if status and resp.status_code not in status:
            self.fail(
                f"{method} {url} answered {resp.status_code}, expected {status}: "
                f"{resp.data[:200].decode(errors='replace')}"
            )
        return resp, seen

    def get(self, url: str, status: tuple[int, ...] | None = (200,), **kw):
        return self.call("GET", url, status, **kw)

    def expect(self, ok: bool, message: str) -> None:
        if not ok:
            self.fail(message)

    def fail(self, message: str) -> None:
        self.failures.append(f"[{self.endpoint}] {message}")


REFUSED = (401, 403, 404, 405)  # what a write the unit may not make answers


def _all_own(p: Prober, what: str, seen: set[int], own: set[int]) -> None:
    """``what`` should show exactly the unit's cases ``own``."""
    p.expect(
        seen == own,
        f"{what} shows {len(seen & own)} of the unit's {len(own)} own cases "
        f"and {len(seen - own)} others (expected all its own and no other)",
    )


# ---- the probes, one per endpoint ------------------------------------------------------


def _map_page(p: Prober) -> None:
    for query in ("", "?violations=features", "?lang=en"):
        resp, seen = p.get("/" + query, headers={"Accept": "text/html"})
        # the page is a shell: its cases come from /api/map/layers/violations
        p.expect(not seen.ids, f"/{query} carries cases {sorted(seen.ids)[:5]}")
        config = re.search(
            r'<script type="application/json" id="cw-config">(.*?)</script>',
            resp.get_data(as_text=True),
            re.S,
        )
        p.expect(config is not None, f"/{query}: no tools config in the page")
        if config:
            offered = {code for code, _ in json.loads(config.group(1))["filters"]["unit"]}
            mine = set(p.truth.own_units.values())
            p.expect(
                offered == mine,
                f"/{query}: the unit filter offers {len(offered - mine)} other units, e.g. "
                f"{sorted(offered - mine)[:5]}, and {len(offered & mine)} of its own {len(mine)}",
            )
    p.get("/?violations=tiles", headers={"Accept": "text/html"})
    p.get("/?f=json")


def _map_layer(p: Prober) -> None:
    own = set(p.truth.own)
    w, s, e, n = p.world.extent
    for layer in LAYERS:
        resp, seen = p.get(f"/api/map/layers/{layer}")
        if layer == "violations":
            _all_own(p, "/api/map/layers/violations", seen.ids, own)
            again, _ = p.get(
                "/api/map/layers/violations",
                status=(304,),
                headers={"If-None-Match": resp.headers["ETag"]},
            )
        resp, seen = p.get(f"/api/map/layers/{layer}?bbox={w},{s},{e},{n}")
        if layer == "violations":
            _all_own(p, "/api/map/layers/violations?bbox=", seen.ids, own)
    resp, seen = p.get(f"/api/map/layers/violations?bbox={w},{s},{e},{n}&limit=1")
    p.expect(seen.ids <= own and len(seen.ids) == 1, f"limit=1 gives {seen.ids}")
    p.get("/api/map/layers/nothing", status=(404,))


def _case_history(p: Prober) -> None:
    t = p.truth
    for fid in sorted(t.foreign)[:10]:
        p.get(f"/api/cases/{fid}/events", status=(404,))
    own = sorted(t.own)[0]
    _, seen = p.get(f"/api/cases/{own}/events")
    p.expect(seen.ids == {own}, f"the history of the unit's own case {own} shows {seen.ids}")


def _case_step(p: Prober) -> None:
    """A step on another unit's case is refused as if there were no such case."""
    t = p.truth
    for fid in sorted(t.foreign)[:10]:
        for action in ("accept", "dispute", "extend_request"):
            p.call(
                "POST",
                f"/api/cases/{fid}/events",
                (404,),
                json={"action": action, "comment": "x", "due_at": "2030-01-01"},
                headers={"If-Match": "*"},
            )


def _items(p: Prober) -> None:
    own, t = set(p.truth.own), p.truth
    for cid in p.world.collection_ids:
        resp, seen = p.get(f"/collections/{cid}/items?limit=10000")
        if cid == "violations":
            _all_own(p, "/collections/violations/items", seen.ids, own)
            p.expect(
                resp.get_json()["numberMatched"] == len(own),
                f"items: numberMatched {resp.get_json()['numberMatched']}, own {len(own)}",
            )
    foreign_unit = next(iter(t.foreign_units.values()))
    p.get(f"/collections/violations/items?limit=10000&unit={foreign_unit}")
    p.get("/collections/violations/items?limit=10000&status=open")
    p.get("/collections/violations/items?limit=10000&offset=10")


def _item(p: Prober) -> None:
    t = p.truth
    for cid, fid in p.world.collection_ids.items():
        if cid != "violations":
            p.get(f"/collections/{cid}/items/{fid}")
    for fid in sorted(t.foreign)[:20]:
        p.get(f"/collections/violations/items/{fid}", status=(404,))
    own = sorted(t.own)[0]
    resp, seen = p.get(f"/collections/violations/items/{own}")
    p.expect(seen.ids == {own}, f"the unit's own case {own} is not served")


def _collection(p: Prober) -> None:
    for cid in p.world.collection_ids:
        p.get(f"/collections/{cid}")


def _writes_refused(method: str, path: Callable[[World], str], **kw):
    def probe(p: Prober) -> None:
        for m in method.split(","):
            p.call(m, path(p.world), REFUSED, **kw)

    return probe


def _problem_points(p: Prober) -> None:
    t = p.truth
    want = {pid: len(ids) for pid, ids in t.open_near_own.items() if pid in t.active_points and ids}
    resp, _ = p.get("/api/problem-points?limit=10000")
    got = {r["id"]: r["open_violations"] for r in resp.get_json()["points"]}
    p.expect(bool(want), "fixture: the unit has no open case near an assessment point")
    wrong = {pid: (n, want.get(pid, 0)) for pid, n in got.items() if n != want.get(pid, 0)}
    p.expect(
        not wrong,
        f"problem points count other units' cases: point → (counted, own) "
        f"{dict(list(wrong.items())[:5])}",
    )
    p.expect(set(got) == set(want), f"problem points list {len(got)} points, own {len(want)}")
    p.get("/api/problem-points?limit=5&category=farmers_market")


def _nearby(p: Prober) -> None:
    t = p.truth
    most_foreign = max(t.open_near_foreign, key=lambda k: len(t.open_near_foreign[k]))
    most_own = max(t.open_near_own, key=lambda k: len(t.open_near_own[k]))
    for pid in (most_foreign, most_own):
        resp, seen = p.get(f"/api/assessment-points/{pid}/nearby")
        _all_own(p, f"nearby {pid}", seen.ids, t.open_near_own.get(pid, set()))
    p.get("/api/assessment-points/999999999/nearby", status=(404,))


def _search(p: Prober) -> None:
    t = p.truth
    for no in [t.foreign[i] for i in sorted(t.foreign)[:10]]:
        resp, seen = p.get(f"/api/search?q={no}")
        p.expect(not seen.ids, f"search for foreign {no} finds {seen.ids}")
    own_no = t.own[sorted(t.own)[0]]
    resp, seen = p.get(f"/api/search?q={own_no}")
    p.expect(t.case_id[own_no] in seen.ids, f"search does not find the unit's own {own_no}")
    prefix = re.match(r"[A-Za-z]*", own_no).group(0) or own_no[:2]
    resp, seen = p.get(f"/api/search?q={prefix}&limit=50")
    p.expect(bool(seen.ids), f"search for {prefix!r} finds none of the unit's own cases")


def _tiles(p: Prober) -> None:
    t = p.truth
    w, s, e, n = p.world.extent
    foreign_unit = next(iter(t.foreign_units.values()))
    for z in TILE_ZOOMS:
        for query in ("", f"?unit={foreign_unit}", "?status=open"):
            ids, counted = set(), 0
            for x, y in tiles_over(w, s, e, n, z):
                resp, seen = p.get(f"/tiles/violations/{z}/{x}/{y}.pbf{query}")
                ids |= seen.ids
                counted += seen.tile_counts
            if query == "" and z >= RAW_FROM_ZOOM:
                _all_own(p, f"the violations tiles at zoom {z}", ids, set(t.own))
            elif query == "":
                p.expect(
                    counted == len(t.own),
                    f"the violations tiles at zoom {z} count {counted} cases, own {len(t.own)}",
                )
            elif query.startswith("?unit"):
                p.expect(not ids and not counted, f"tiles at {z}{query} show another unit's")
    for z in (13, 15):
        x, y = tiles_over(w, s, e, n, z)[0]
        p.get(f"/tiles/grid_cells/{z}/{x}/{y}.pbf")


def _basemap(p: Prober) -> None:
    """The base map draws streets and areas, no cases: a unit's users read it as anyone."""
    w, s, e, n = p.world.extent
    for z in (13, 16):
        x, y = tiles_over(w, s, e, n, z)[len(tiles_over(w, s, e, n, z)) // 2]
        resp, _ = p.get(f"/tiles/basemap/{z}/{x}/{y}.png")
        p.expect(resp.mimetype == "image/png", f"the base map at zoom {z} is {resp.mimetype}")


def _photo(p: Prober) -> None:
    p.get(f"/photos/{p.world.foreign_photo}", status=(404,))
    p.get(f"/photos/{p.world.own_photo}", status=(200,))


def _plan_json(suffix: str, status=(200,)):
    def probe(p: Prober) -> None:
        p.get(f"/api/inspection-plans/{p.world.member_plan}{suffix}", status=status)
        p.get(f"/api/inspection-plans/{p.world.other_plan}{suffix}", status=(403, 404))

    return probe


def _route_page(p: Prober) -> None:
    t = p.truth
    plan = p.get(f"/api/inspection-plans/{p.world.member_plan}")[0].get_json()
    stops = {s["point_id"] for s in plan["stops"]}
    p.expect(bool(stops), "fixture: the unit user's plan has no stops")
    own = set().union(*(t.open_near_own.get(s, set()) for s in stops))
    foreign = set().union(*(t.open_near_foreign.get(s, set()) for s in stops))
    p.expect(bool(foreign), "fixture: no other unit's open case near the plan's stops")
    resp, seen = p.get(f"/inspection-plans/{p.world.member_plan}")
    _all_own(p, "the route page", seen.ids, own)
    p.get(f"/inspection-plans/{p.world.other_plan}", status=(404,))


def _arrive(p: Prober) -> None:
    p.call("POST", f"/api/inspection-plans/{p.world.member_plan}/stops/1/arrive", (200,))
    p.call("POST", f"/api/inspection-plans/{p.world.other_plan}/stops/1/arrive", (404,))


def _catalogues(p: Prober) -> None:
    for name in p.world.catalogue_code:
        p.get(f"/api/catalogues/{name}")


def _catalogue(p: Prober) -> None:
    for name, code in p.world.catalogue_code.items():
        p.get(f"/api/catalogues/{name}/{code}")


def _plain(*urls: str, status=(200,)):
    def probe(p: Prober) -> None:
        for url in urls:
            p.get(url, status=status)

    return probe


def _tasks_page(p: Prober) -> None:
    """The unit's cases to fix: its own open ones only (the call checks that no other's is
    named); the demo gives the unit some."""
    for query in ("", "?lang=en"):
        _, seen = p.get("/tasks" + query)
        p.expect(bool(seen.ids), f"/tasks{query} shows none of the unit's own cases")


def _kpis(suffix: str):
    """The loop's figures: rows of the unit and its communities only, at every level, and
    no more cases counted than the unit owns (some, in a window holding the demo's)."""

    def probe(p: Prober) -> None:
        t = p.truth
        for level in ("unit", "department", "street", "community"):
            url = f"/api/kpis{suffix}?from=2000-01-01&to=2100-12-31&level={level}"
            resp, _ = p.get(url)
            if suffix:
                book = openpyxl.load_workbook(io.BytesIO(resp.data))
                rows = list(book.active.iter_rows(min_row=2, values_only=True))
                got = [(r[0], r[2]) for r in rows if len(r) > 2 and r[2] is not None]
            else:
                got = [(r["code"], r["received"]) for r in resp.get_json()["rows"]]
            received = sum(n for _, n in got)
            p.expect(0 < received <= len(t.own), f"{url} counts {received} cases, own {len(t.own)}")
            if level == "unit":
                strange = [c for c, _ in got if c not in t.own_units.values()]
                p.expect(not strange, f"{url} has rows of other units: {strange[:5]}")

    return probe


def _lost_points(suffix: str):
    """The lost points: rows of the unit and its communities only, and no gap (a gap has
    no unit)."""

    def probe(p: Prober) -> None:
        url = f"/api/lost-points{suffix}?from=2000-01-01&to=2100-12-31&level=unit"
        resp, _ = p.get(url)
        if suffix:
            book = openpyxl.load_workbook(io.BytesIO(resp.data))
            rows = book.active.iter_rows(min_row=2, values_only=True)
            codes = [r[0] for r in rows if len(r) > 2 and r[2] is not None]  # not the note
            gaps = []
        else:
            codes = [r["code"] for r in resp.get_json()["rows"]]
            gaps = resp.get_json()["gaps"]
        strange = [c for c in codes if c not in p.truth.own_units.values()]
        p.expect(not strange and not gaps, f"{url} shows others' lost points: {strange[:5]}")

    return probe


def _foreign_case(w: World) -> int:
    return sorted(w.truth.foreign)[0]


PROBES: dict[str, Callable[[Prober], None]] = {
    "pages.planner_map": _map_page,
    "pages.login": _plain("/login"),
    "pages.logout": lambda p: p.call("POST", "/logout", (302, 303)),
    "pages.attribution": _plain("/attribution"),
    "pages.favicon": _plain("/favicon.ico", status=(301,)),
    "pages.health": _plain("/health"),
    "openapi.openapi": _plain("/api"),
    "openapi.swagger": _plain("/api.html"),
    "api.template": _plain("/api/templates/units.xlsx", "/api/templates/assessment_points.xlsx"),
    "static": _plain("/static/chuangwen.css"),
    "api.me": _plain("/api/me"),
    "api.problem_points": _problem_points,
    "api.nearby": _nearby,
    "api.search_view": _search,
    "api.zone_check_view": _plain("/api/zone-check"),
    "api.zone_clean": _writes_refused("POST", lambda w: "/api/zones/clean", json={}),
    "ogc.conformance": _plain("/conformance"),
    "ogc.collections": _plain("/collections"),
    "ogc.collection": _collection,
    "ogc.items": _items,
    "ogc.item": _item,
    "ogc.create": _writes_refused(
        "POST",
        lambda w: "/collections/violations/items",
        json={
            "type": "Feature",
            "properties": {"category": "graffiti", "description": "probe"},
            "geometry": {"type": "Point", "coordinates": [117.215, 28.29]},
        },
    ),
    "ogc.replace": _writes_refused(
        "PUT,PATCH",
        lambda w: f"/collections/violations/items/{_foreign_case(w)}",
        json={"properties": {}},
        headers={"If-Match": '"0.0"'},
    ),
    "ogc.remove": _writes_refused(
        "DELETE",
        lambda w: f"/collections/violations/items/{_foreign_case(w)}",
        headers={"If-Match": '"0.0"'},
    ),
    "ogc.import_file": _writes_refused(
        "POST",
        lambda w: "/collections/violations/import",
        data={"file": (io.BytesIO(b"{}"), "x.geojson"), "dry_run": "true"},
    ),
    "catalogues.list_catalogue": _catalogues,
    "catalogues.one": _catalogue,
    "catalogues.edit": _writes_refused(
        "PATCH", lambda w: "/api/catalogues/violation-categories/graffiti", json={}
    ),
    "plans.create_plan": _writes_refused("POST", lambda w: "/api/inspection-plans", json={}),
    # every unit's figures are the office's: 403 for a unit's users
    "ranking.ranking": _plain("/api/ranking?week=2026-W01&group=street", status=(403,)),
    "ranking.flags": _plain("/api/ranking/flags?group=street", status=(403,)),
    "ranking.ranking_page": _plain("/ranking", status=(403,)),
    "dashboard.dashboard_page": _plain("/dashboard", status=(403,)),
    "dashboard.overview": _plain("/api/dashboard", status=(403,)),
    "dashboard.heat": _plain("/api/dashboard/heat", status=(403,)),
    "dashboard.drill": _plain("/api/dashboard/drill", status=(403,)),
    "summaries.summary_pdf": _plain("/reports/weekly/2026-W01", status=(403,)),
    "ranking.publish": _writes_refused(
        "POST", lambda w: "/api/ranking/2026-W01/publish", json={"group": "street"}
    ),
    "plans.get_plan": _plan_json(""),
    "plans.list_plans": _plain("/api/inspection-plans", "/api/inspection-plans?from=2000-01-01"),
    "plans.rounds_page": _plain("/rounds"),
    "plans.plan_gpx": _plan_json(".gpx"),
    "plans.plan_geojson": _plan_json(".geojson"),
    "plans.plan_views": _plan_json("/views", status=(403,)),
    "plans.arrive": _arrive,
    # a unit's user cancels no round, its own or another's, and reads no coverage report
    "plans.cancel": lambda p: [
        p.call("POST", f"/api/inspection-plans/{plan}/cancel", (404,))
        for plan in (p.world.member_plan, p.world.other_plan)
    ],
    "plans.inspection_coverage": _plain(
        "/api/inspection-coverage?window=20:00-23:00&depot=117.215,28.29", status=(403,)
    ),
    "plans.route_page": _route_page,
    "reports.report_page": _plain("/report", status=(403,)),
    "tasks.tasks_page": _tasks_page,
    "tasks.verify_page": _plain("/verify", status=(403,)),
    "reports.create_report": _writes_refused("POST", lambda w: "/api/reports", data={}),
    "reports.photo": _photo,
    "tiles.tile": _tiles,
    "basemap.tile": _basemap,
    "map_layers.layer": _map_layer,
    "cases.case_history": _case_history,
    "cases.take_step": _case_step,
    "users.list_users": _plain("/api/users", status=(403,)),
    "users.tokens": lambda p: p.get(f"/api/users/{p.world.user_id}/tokens", status=(403,)),
    "users.create_user": _writes_refused(
        "POST", lambda w: "/api/users", json={"name": "probe", "role": "unit"}
    ),
    "users.disable": _writes_refused("POST", lambda w: f"/api/users/{w.user_id}/disable"),
    "users.enable": _writes_refused("POST", lambda w: f"/api/users/{w.user_id}/enable"),
    "users.reset_password": _writes_refused(
        "PUT", lambda w: f"/api/users/{w.user_id}/password", json={"password": "x" * 12}
    ),
    "users.issue": _writes_refused("POST", lambda w: f"/api/users/{w.user_id}/tokens", json={}),
    "users.revoke": _writes_refused("DELETE", lambda w: f"/api/users/{w.user_id}/tokens/1"),
    "admin.city_page": _plain("/admin/city", status=(403,)),
    "admin.users_page": _plain("/admin/users", status=(403,)),
    "admin.audit_page": _plain("/admin/audit?table=violation", status=(403,)),
    "admin.audit_api": _plain("/api/audit", "/api/audit?table=violation&limit=1000", status=(403,)),
    "admin.checklist_api": _plain("/api/city/checklist", status=(403,)),
    "kpis.kpis_json": _kpis(""),
    # mock assessments are for assessors; the lost points a unit's users see are their own
    "assess.sheet": _plain("/api/assessment-sheets/school", status=(403,)),
    "assess.edit_sheet": _writes_refused(
        "PUT", lambda w: "/api/assessment-sheets/school", json={"items": []}
    ),
    "assess.create_assessment": _writes_refused("POST", lambda w: "/api/assessments", data={}),
    "assess.assess_page": _plain("/assess/P00001", status=(403,)),
    "assess.lost_points": _lost_points(""),
    "assess.lost_points_xlsx": _lost_points(".xlsx"),
    # advertising coverage reads no case: every role reads it, a unit's users included
    "ads.ad_coverage": _plain("/api/ad-coverage"),
    "ads.ad_coverage_xlsx": _plain("/api/ad-coverage.xlsx"),
    "kpis.kpis_xlsx": _kpis(".xlsx"),
    # Open311 is for client systems (role system): a unit's user is refused every route
    "open311.service_list": _plain("/open311/v2/services.json", status=(403,)),
    "open311.request_list": _plain("/open311/v2/requests.json", status=(403,)),
    "open311.request_one": lambda p: p.get(
        f"/open311/v2/requests/{_foreign_case(p.world)}.json", status=(403,)
    ),
    "open311.request_create": lambda p: p.call(
        "POST",
        "/open311/v2/requests.json",
        (403,),
        data={"service_code": "graffiti", "lat": "28.29", "long": "117.215"},
    ),
    # the unit user's own password, asked with a wrong current one: nothing changes
    "users.own_password": lambda p: p.call(
        "POST",
        "/api/me/password",
        (422,),
        json={"current_password": "not-the-password", "new_password": "y" * 12},
    ),
}


# ---- the world the probes call into ----------------------------------------------------


def _jpeg(colour: str) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (8, 8), colour).save(out, "JPEG")
    return out.getvalue()


def _add_photo(app_home, engine, city_id: int, case_id: int, content: bytes) -> str:
    name = hashlib.sha256(content).hexdigest() + ".jpg"
    folder = app_home / "photos" / name[:2]
    folder.mkdir(parents=True, exist_ok=True)
    (folder / name).write_bytes(content)
    with engine.begin() as conn:
        set_actor(conn, Actor(None, "test-unit-scope"))
        conn.execute(
            text(
                "UPDATE violation SET photos = photos || CAST(:p AS jsonb) "
                "WHERE city_id = :c AND id = :id"
            ),
            {"p": json.dumps([f"/photos/{name}"]), "c": city_id, "id": case_id},
        )
    return name


def _plan(client, tokens, team: list[int]) -> int:
    resp = client.post(
        "/api/inspection-plans",
        json={
            "date": "2026-11-29",
            "window_start": "20:00",
            "window_end": "23:00",
            "depot": [117.2150, 28.2900],
            "mode": "walk",
            "team": team,
            "release_at": "2020-01-01T00:00:00+08:00",
        },
        headers=bearer(tokens["leader"][1]),
    )
    assert resp.status_code == 201, resp.get_data(as_text=True)
    return resp.get_json()["id"]


def _plan_near_foreign_cases(client, tokens, team: list[int], truth) -> int:
    """A plan (drawn at random, as every plan is) with a stop near another unit's open
    case, so the route page has something to hide; drawn again until it has one."""
    for _ in range(12):
        pid = _plan(client, tokens, team)
        plan = client.get(f"/api/inspection-plans/{pid}", headers=bearer(tokens["leader"][1]))
        if any(truth.open_near_foreign.get(s["point_id"]) for s in plan.get_json()["stops"]):
            return pid
    raise AssertionError("no drawn plan passed another unit's open case")


@pytest.fixture()
def world(client, engine, demo, tokens, app_home):
    from service.layers.features.collections import COLLECTIONS

    city_id = demo[0]
    user, token = tokens["unit"]
    truth = _truth(engine, city_id, user.unit_id)
    assert truth.own and truth.foreign, "the unit should own some cases and not others"
    with engine.connect() as conn:
        ids = {
            cid: conn.execute(
                text(f"SELECT min(id) FROM {c.table} WHERE city_id = :c"), {"c": city_id}
            ).scalar()
            for cid, c in COLLECTIONS.items()
        }
        codes = {
            "violation-categories": conn.execute(
                text("SELECT min(code) FROM violation_category WHERE city_id = :c"),
                {"c": city_id},
            ).scalar(),
            "assessment-point-categories": conn.execute(
                text("SELECT min(code) FROM assessment_point_category WHERE city_id = :c"),
                {"c": city_id},
            ).scalar(),
        }
        extent = conn.execute(
            text(
                "SELECT ST_XMin(e), ST_YMin(e), ST_XMax(e), ST_YMax(e) FROM "
                "(SELECT ST_Extent(geom) e FROM violation WHERE city_id = :c) s"
            ),
            {"c": city_id},
        ).one()
    own_case, foreign_case = sorted(truth.own)[0], sorted(truth.foreign)[0]
    w = World(
        truth=truth,
        user_id=user.id,
        token=token,
        own_photo=_add_photo(app_home, engine, city_id, own_case, _jpeg("green")),
        foreign_photo=_add_photo(app_home, engine, city_id, foreign_case, _jpeg("red")),
        member_plan=_plan_near_foreign_cases(client, tokens, [user.id], truth),
        other_plan=_plan(client, tokens, [tokens["inspector"][0].id]),
        collection_ids=ids,
        catalogue_code=codes,
        extent=tuple(extent),
    )
    yield w
    with engine.begin() as conn:
        set_actor(conn, Actor(None, "test-unit-scope"))
        conn.execute(
            text("UPDATE violation SET photos = '[]'::jsonb WHERE city_id = :c AND id = ANY(:ids)"),
            {"c": city_id, "ids": [own_case, foreign_case]},
        )


def test_every_route_shows_a_unit_user_only_its_own_cases(app, client, world):
    prober = Prober(client, world)
    endpoints = {r.endpoint: r for r in app.url_map.iter_rules()}
    missing = [
        f"route {sorted(r.methods - {'HEAD', 'OPTIONS'})} {r.rule} ({name}) has no probe: add "
        "one to PROBES that calls it as a unit user with real parameters"
        for name, r in sorted(endpoints.items())
        if name not in PROBES
    ]
    stale = [f"PROBES has {name}: no route of the app" for name in PROBES if name not in endpoints]
    for name, probe in PROBES.items():
        if name in endpoints:
            prober.endpoint = name
            probe(prober)
    problems = missing + stale + prober.failures
    assert not problems, "\n".join(problems)


def test_the_scope_and_the_rooms_that_use_it_load_no_web_code():
    code = (
        "import sys, service.accounts.scope, service.layers.problems, service.layers.reads\n"
        "print(','.join(sorted(m for m in sys.modules if m.split('.')[0] in "
        "('flask', 'flask_login', 'werkzeug'))))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""
