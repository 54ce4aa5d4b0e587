"""An assessor's scores at a point, against the latest version of its category's sheet.

Every item is scored (0 to its points). An item scored below its points is a deduction: it
needs at least one photo and the place it was seen, within the point's surroundings (its
radius, plus the phone's stated accuracy up to 50 m); a deduction elsewhere belongs to
another point. Each deduction is filed as a case of the item's violation category at its
place, as any report is (service/layers/features/write.py: the rules give it its zone, unit,
department and deadline, and the loop takes it from there), and the points it lost are
attributed to the owners the rules found then: the unit and zone of its place (块) and the
department of its category (条). One with no owner is a gap (``unit_id`` null) until the zones
cover its place; its case waits in the office's queue.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field

from sqlalchemy import Connection, text

from service.assessments import sheets
from service.errors import NotFound, Problem, field_error
from service.layers.features import write
from service.layers.features.collections import VIOLATIONS

ACCURACY_SLACK_MAX_M = 50


@dataclass
class Deduction:
    """Where a deduction was seen and its photos (references of photos already kept)."""

    lon: float | None = None
    lat: float | None = None
    accuracy_m: float | None = None
    photos: list[str] = field(default_factory=list)


def score(
    conn: Connection,
    city: int,
    user_id: int,
    point_code: str,
    given: dict[str, float | None],
    seen: dict[str, Deduction],
) -> dict:
    """Score ``point_code``: ``given`` item code → points given, ``seen`` item code → its
    deduction's place and photos. The assessment as ``read`` gives it."""
    point = conn.execute(
        text(
            "SELECT id, code, name, category_code, radius_m FROM assessment_point "
            "WHERE city_id = :c AND code = :p AND active"
        ),
        {"c": city, "p": point_code},
    ).first()
    if point is None:
        raise NotFound(f"No active assessment point {point_code!r}.")
    sheet = sheets.current(conn, city, point.category_code)
    codes = {i["code"] for i in sheet["items"]}
    errors = [
        field_error(f"score.{k}", "not an item of the sheet") for k in sorted(set(given) - codes)
    ]
    errors += [
        field_error(f"lon.{k}", "not an item of the sheet") for k in sorted(set(seen) - codes)
    ]
    scores, lost = {}, []
    for item in sheet["items"]:
        code, points = item["code"], float(item["points"])
        value = given.get(code)
        if value is None or not 0 <= value <= points:
            errors.append(field_error(f"score.{code}", f"a number from 0 to {points:g}"))
            continue
        scores[code] = value
        if value >= points and code in seen:
            errors.append(field_error(f"lon.{code}", "only a deduction takes a place and photos"))
        if value < points:
            d = seen.get(code) or Deduction()
            if not d.photos:
                errors.append(field_error(f"photos.{code}", "a deduction needs a photo"))
            if d.lon is None or d.lat is None:
                errors.append(field_error(f"lon.{code}", "a deduction needs where it was seen"))
                continue
            if not (-180 <= d.lon <= 180 and -90 <= d.lat <= 90):
                errors.append(field_error(f"lon.{code}", "longitude and latitude in degrees"))
                continue
            if d.accuracy_m is not None and not 0 <= d.accuracy_m <= 10_000:
                errors.append(field_error(f"accuracy_m.{code}", "0 to 10000 metres"))
            away = conn.execute(
                text(
                    "SELECT ST_Distance(geom::geography, ST_SetSRID(ST_MakePoint(:x, :y), 4326)"
                    "::geography) FROM assessment_point WHERE city_id = :c AND id = :i"
                ),
                {"x": d.lon, "y": d.lat, "c": city, "i": point.id},
            ).scalar()
            slack = min(d.accuracy_m or 0.0, ACCURACY_SLACK_MAX_M)
            if away > point.radius_m + slack:
                errors.append(
                    field_error(
                        f"lon.{code}",
                        f"seen {away:.0f} m from the point; its surroundings reach "
                        f"{point.radius_m} m",
                    )
                )
                continue
            lost.append((item, points - value, d))
    if errors:
        raise Problem("The assessment is not complete.", status=422, errors=errors)
    aid = conn.execute(
        text(
            "INSERT INTO assessment (city_id, point_id, category_code, sheet_version, "
            "assessor_id, scores, score, max_score) VALUES (:c, :p, :k, :v, :u, "
            "CAST(:s AS jsonb), :score, :max) RETURNING id"
        ),
        {
            "c": city,
            "p": point.id,
            "k": point.category_code,
            "v": sheet["version"],
            "u": user_id,
            "s": json.dumps(scores),
            "score": sum(scores.values()),
            "max": sheet["max_score"],
        },
    ).scalar_one()
    for item, points, d in lost:
        told = f"模拟测评扣分：{point.name} · {item['name_zh']}（扣 {points:g} 分）"
        feature = {
            "type": "Feature",
            "properties": {
                "category": item["violation_category"],
                "description": told,
                "source": "inspection",
                "photos": d.photos,
                "location_accuracy_m": d.accuracy_m,
            },
            "geometry": {"type": "Point", "coordinates": [d.lon, d.lat]},
        }
        incoming = write.validate_feature(conn, VIOLATIONS, city, feature, "wgs84", False)
        case = write.insert(conn, VIOLATIONS, city, incoming.row, user_id)
        conn.execute(
            text(
                "INSERT INTO assessment_deduction (city_id, assessment_id, item_code, points, "
                "violation_id, unit_id, zone_id, department_code) SELECT :c, :a, :i, :p, v.id, "
                "v.unit_id, v.zone_id, v.department_code FROM violation v "
                "WHERE v.city_id = :c AND v.id = :v"
            ),
            {"c": city, "a": aid, "i": item["code"], "p": points, "v": case},
        )
    return read(conn, city, aid)


def read(conn: Connection, city: int, assessment_id: int) -> dict:
    """An assessment with its deductions, their cases and owners by name."""
    a = (
        conn.execute(
            text(
                "SELECT a.id, p.code AS point, p.name AS point_name, a.category_code, "
                "a.sheet_version, a.at, a.scores, a.score, a.max_score FROM assessment a "
                "JOIN assessment_point p ON p.city_id = a.city_id AND p.id = a.point_id "
                "WHERE a.city_id = :c AND a.id = :a"
            ),
            {"c": city, "a": assessment_id},
        )
        .mappings()
        .one()
    )
    deductions = (
        conn.execute(
            text(
                "SELECT d.item_code AS item, d.points, v.id AS case_id, v.case_no, "
                "u.code AS unit, u.name AS unit_name, z.code AS zone, d.department_code AS "
                "department, dep.name AS department_name FROM assessment_deduction d "
                "LEFT JOIN violation v ON v.city_id = d.city_id AND v.id = d.violation_id "
                "LEFT JOIN unit u ON u.city_id = d.city_id AND u.id = d.unit_id "
                "LEFT JOIN zone z ON z.city_id = d.city_id AND z.id = d.zone_id "
                "LEFT JOIN unit dep ON dep.city_id = d.city_id AND dep.code = d.department_code "
                "WHERE d.city_id = :c AND d.assessment_id = :a ORDER BY d.id"
            ),
            {"c": city, "a": assessment_id},
        )
        .mappings()
        .all()
    )
    return {
        **{k: v for k, v in a.items() if k != "at"},
        "at": a["at"].isoformat(),
        "lost": a["max_score"] - a["score"],
        "deductions": [dict(d) for d in deductions],
    }
