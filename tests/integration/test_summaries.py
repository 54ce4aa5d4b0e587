"""日检查、周通报、月总结 on the demo city: ``chuangwen report weekly`` writes a PDF in Chinese
whose text holds the week, the rankings and the yellow flag, with two map pages and a chart,
and an XLSX whose tables equal ``/api/kpis`` and ``/api/ranking``; the same over HTTP for
leaders, the day's and the month's by the same machinery."""

from __future__ import annotations

import io

import openpyxl
import pytest
from flask.cli import ScriptInfo
from pypdf import PdfReader
from sqlalchemy import text

from service.cases.kpis import HEADERS_ZH
from service.cli import main
from service.ranking import score
from service.summaries.documents import RANK_HEADERS
from tests.conftest import bearer


@pytest.fixture(scope="module")
def week(engine, demo) -> str:
    """The ISO week of the demo's latest cases (in the city's time)."""
    with engine.connect() as conn:
        day = conn.execute(
            text(
                "SELECT (max(v.observed_at) AT TIME ZONE min(c.timezone))::date FROM violation v "
                "JOIN city c ON c.id = v.city_id WHERE v.city_id = :c AND v.provenance = 'invented'"
            ),
            {"c": demo[0]},
        ).scalar()
    return score.week_of(day)


def _cli(app, args):
    result = app.test_cli_runner().invoke(main, args, obj=ScriptInfo(create_app=lambda: app))
    assert result.exit_code == 0, result.output
    return result.output


def test_the_weekly_report_as_pdf_and_xlsx(app, client, tokens, tmp_path, week):
    pdf_path, xlsx_path = tmp_path / "week.pdf", tmp_path / "week.xlsx"
    _cli(app, ["report", "weekly", "--week", week, "--out", str(pdf_path)])
    _cli(app, ["report", "weekly", "--week", week, "--out", str(xlsx_path)])
    leader = bearer(tokens["leader"][1])
    ranking = client.get(f"/api/ranking?week={week}&group=street", headers=leader).get_json()
    assert ranking["rows"] and ranking["flag"]
    reader = PdfReader(str(pdf_path))
    pages = [p.extract_text() for p in reader.pages]
    text_all = "".join(pages)
    assert week in text_all and "周通报" in text_all
    assert "街道办事处排名" in text_all and "职能部门排名" in text_all
    assert "流动黄旗" in text_all and ranking["flag"]["name"] in text_all
    assert all(r["name"] in text_all.replace("\n", "") for r in ranking["rows"][:3])
    with_maps = [i for i, p in enumerate(reader.pages) if p.images]
    assert len(with_maps) >= 2, with_maps  # the cases' map and the problem points' map
    assert "柱：受理案件数" in text_all  # the trend chart
    assert "各单位超期案件清单" in text_all
    # the XLSX holds the same tables as the API
    book = openpyxl.load_workbook(io.BytesIO(xlsx_path.read_bytes()))
    start, end = score.week_days(week)
    kpis = client.get(f"/api/kpis?from={start}&to={end}&level=unit", headers=leader).get_json()[
        "rows"
    ]
    units = [r for r in book["单位指标"].iter_rows(min_row=2, values_only=True)]
    assert units == [tuple(r[f] for f in HEADERS_ZH) for r in kpis]
    sheet = [r for r in book["排名-街道办事处"].iter_rows(min_row=2, values_only=True)]
    assert [(r[0], r[1], r[3]) for r in sheet] == [
        (x["rank"], x["code"], x["score"]) for x in ranking["rows"]
    ]
    assert list(next(book["排名-街道办事处"].iter_rows(max_row=1, values_only=True))) == list(
        RANK_HEADERS.values()
    )


def test_summaries_over_http(client, tokens, week):
    leader = bearer(tokens["leader"][1])
    got = client.get(f"/reports/weekly/{week}", headers=leader)
    assert got.status_code == 200 and got.mimetype == "application/pdf"
    assert got.data.startswith(b"%PDF")
    start, _ = score.week_days(week)
    for kind, label in (("daily", start.isoformat()), ("monthly", start.isoformat()[:7])):
        pdf = client.get(f"/reports/{kind}/{label}", headers=leader)
        assert pdf.status_code == 200, pdf.get_json()
        body = "".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf.data)).pages)
        assert label in body and {"daily": "日检查", "monthly": "月总结"}[kind] in body
    sheet = client.get(f"/reports/weekly/{week}.xlsx", headers=leader)
    assert sheet.status_code == 200 and sheet.data[:2] == b"PK"
    assert client.get("/reports/monthly/0001-01", headers=leader).status_code == 400
    bad = client.get("/reports/weekly/2026-49", headers=leader)
    assert bad.status_code == 400 and bad.get_json()["errors"][0]["field"] == "period"
    assert client.get("/reports/yearly/2026", headers=leader).status_code == 404
    for role in ("unit", "inspector"):
        assert (
            client.get(f"/reports/weekly/{week}", headers=bearer(tokens[role][1])).status_code
            == 403
        )


def test_names_are_text_in_the_pdf(client, engine, demo, tokens, week):
    """reportlab's Paragraph reads a markup: a unit named like markup is printed as it is."""
    evil = '<img src=x onerror="1"> & <b>名</b>'
    with engine.begin() as conn:
        conn.execute(text("SELECT set_config('chuangwen.actor_name', 'test', true)"))
        old = conn.execute(
            text(
                "UPDATE unit SET name = :n WHERE city_id = :c AND code = (SELECT min(code) FROM "
                "unit WHERE city_id = :c AND kind = 'functional') RETURNING code"
            ),
            {"n": evil, "c": demo[0]},
        ).scalar()
    try:
        got = client.get(f"/reports/weekly/{week}", headers=bearer(tokens["leader"][1]))
        assert got.status_code == 200
        body = "".join(p.extract_text() for p in PdfReader(io.BytesIO(got.data)).pages)
        assert evil.replace(" ", "") in body.replace(" ", "").replace("\n", "")
    finally:
        with engine.begin() as conn:
            conn.execute(text("SELECT set_config('chuangwen.actor_name', 'test', true)"))
            conn.execute(
                text("UPDATE unit SET name = :n WHERE city_id = :c AND code = :code"),
                {"n": _department_name(old), "c": demo[0], "code": old},
            )


def _department_name(code: str) -> str:
    import json
    from pathlib import Path

    catalogue = Path(__file__).resolve().parents[2] / "data" / "catalogues" / "departments.json"
    return next(
        d["name"] for d in json.loads(catalogue.read_text())["departments"] if d["code"] == code
    )
