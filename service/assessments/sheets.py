"""A point category's sheet: the items an assessor scores, each with its points and the
violation category a deduction on it is filed as. Kept per version: an admin's edit adds a
version, and every score keeps the version it was made with."""

from __future__ import annotations

import json
import re

from sqlalchemy import Connection, text
from sqlalchemy.exc import IntegrityError

from service.errors import NotFound, Problem, field_error

_CODE = re.compile(r"[a-z0-9_]{1,32}")
ITEMS_MAX = 40


def current(conn: Connection, city: int, category: str) -> dict:
    """The sheet's latest version: ``{category, version, items, max_score}``; 404 without."""
    row = conn.execute(
        text(
            "SELECT version, items FROM assessment_sheet WHERE city_id = :c "
            "AND category_code = :k ORDER BY version DESC LIMIT 1"
        ),
        {"c": city, "k": category},
    ).first()
    if row is None:
        raise NotFound(f"No assessment sheet for the category {category!r}.")
    return {
        "category": category,
        "version": row.version,
        "items": row.items,
        "max_score": sum(float(i["points"]) for i in row.items),
    }


def edit(conn: Connection, city: int, category: str, body: object, user_id: int) -> dict:
    """A new version of the sheet from ``{"items": [...]}``: codes unique and short, names
    given, points in (0, 100], violation categories of the city's catalogue."""
    now = current(conn, city, category)  # 404 for a category without a sheet
    if not isinstance(body, dict) or not isinstance(body.get("items"), list):
        raise Problem(
            "Send the sheet as a JSON object with its items.",
            status=400,
            errors=[field_error("items", "a list of items")],
        )
    items = body["items"]
    errors = [field_error(k, "unknown field; takes items") for k in sorted(set(body) - {"items"})]
    known = set(
        conn.execute(
            text("SELECT code FROM violation_category WHERE city_id = :c"), {"c": city}
        ).scalars()
    )
    if not 1 <= len(items) <= ITEMS_MAX:
        errors.append(field_error("items", f"1 to {ITEMS_MAX} items"))
    seen: set[str] = set()
    clean = []
    for n, item in enumerate(items):
        where = f"items[{n}]"
        if not isinstance(item, dict):
            errors.append(field_error(where, "an object"))
            continue
        code = item.get("code")
        if not isinstance(code, str) or not _CODE.fullmatch(code) or code in seen:
            errors.append(field_error(f"{where}.code", "a unique code of a-z, 0-9 and _"))
        else:
            seen.add(code)
        name = item.get("name_zh")
        if not isinstance(name, str) or not 1 <= len(name.strip()) <= 100:
            errors.append(field_error(f"{where}.name_zh", "1 to 100 characters"))
        points = item.get("points")
        if isinstance(points, bool) or not isinstance(points, int | float) or not 0 < points <= 100:
            errors.append(field_error(f"{where}.points", "a number above 0, at most 100"))
        english = item.get("name_en")
        if english is not None and (not isinstance(english, str) or len(english.strip()) > 100):
            errors.append(field_error(f"{where}.name_en", "at most 100 characters, or none"))
        files_as = item.get("violation_category")
        if not isinstance(files_as, str) or files_as not in known:
            errors.append(
                field_error(f"{where}.violation_category", "a violation category of this city")
            )
        clean.append(
            {
                "code": code,
                "name_zh": name.strip() if isinstance(name, str) else name,
                "name_en": (english.strip() or None) if isinstance(english, str) else None,
                "points": points,
                "violation_category": item.get("violation_category"),
            }
        )
    if errors:
        raise Problem("The sheet is not valid.", status=422, errors=errors)
    version = now["version"] + 1
    try:
        conn.execute(
            text(
                "INSERT INTO assessment_sheet (city_id, category_code, version, items, "
                "created_by) VALUES (:c, :k, :v, CAST(:items AS jsonb), :u)"
            ),
            {
                "c": city,
                "k": category,
                "v": version,
                "items": json.dumps(clean, ensure_ascii=False),
                "u": user_id,
            },
        )
    except IntegrityError as exc:  # another edit took the same version number first
        if "assessment_sheet_pkey" not in str(exc.orig):
            raise
        raise Problem(
            "The sheet was changed by someone else meanwhile.",
            status=409,
            errors=[field_error("items", "read the sheet again and edit that version")],
        ) from exc
    return current(conn, city, category)
