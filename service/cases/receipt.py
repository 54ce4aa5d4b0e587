"""What the reporter is told about a case just filed, in words: the owner, zone, department
and category by name, and the deadline in the city's time, not the phone's."""

from __future__ import annotations

from sqlalchemy import Connection, text


def receipt(conn: Connection, city_id: int, case_id: int, lang: str = "zh") -> dict:
    """Names and the local deadline of a case (None where the case has none)."""
    name = "coalesce(k.name_en, k.name_zh)" if lang == "en" else "k.name_zh"
    row = (
        conn.execute(
            text(
                f"SELECT u.name AS unit_name, z.name AS zone_name, d.name AS department_name, "
                f"{name} AS category_name, to_char(v.due_at AT TIME ZONE c.timezone, "
                "'YYYY-MM-DD HH24:MI') AS due_local, c.timezone "
                "FROM violation v JOIN city c ON c.id = v.city_id "
                "LEFT JOIN unit u ON u.city_id = v.city_id AND u.id = v.unit_id "
                "LEFT JOIN zone z ON z.city_id = v.city_id AND z.id = v.zone_id "
                "LEFT JOIN unit d ON d.city_id = v.city_id AND d.code = v.department_code "
                "LEFT JOIN violation_category k ON k.city_id = v.city_id "
                "AND k.code = v.category_code WHERE v.city_id = :c AND v.id = :v"
            ),
            {"c": city_id, "v": case_id},
        )
        .mappings()
        .one()
    )
    return dict(row)
