"""A summary as a PDF in Chinese (A4, reportlab, the CJK font from the system) and as an XLSX
of the same tables: the figures against the period before, the rankings with their red and
black lists and the yellow flag, a map of the period's cases (overdue ones red), a map of the
top problem points, the trend charts, and each unit's overdue cases."""

from __future__ import annotations

import io
from functools import cache
from xml.sax.saxutils import escape as esc  # Paragraph reads a markup: user text is text

from reportlab.graphics.charts.barcharts import VerticalBarChart
from reportlab.graphics.charts.lineplots import LinePlot
from reportlab.graphics.shapes import Drawing, String
from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.platypus import (
    Image,
    PageBreak,
    Paragraph,
    SimpleDocTemplate,
    Spacer,
    Table,
    TableStyle,
)
from sqlalchemy import Connection

from maps.basemap import cjk_font_path
from service.cases import kpis
from service.summaries import mapimage
from service.summaries.period import NAME_ZH

FONT = "CJK"
GROUP_ZH = {"street": "街道办事处", "department": "职能部门"}
LIST_ZH = {"red": "红榜", "black": "黑榜", None: ""}
WIDTH = A4[0] - 30 * mm


@cache
def _font() -> str:
    pdfmetrics.registerFont(TTFont(FONT, str(cjk_font_path()), subfontIndex=0))
    return FONT


def _styles() -> dict[str, ParagraphStyle]:
    font = _font()
    base = ParagraphStyle("body", fontName=font, fontSize=9.5, leading=13, wordWrap="CJK")
    return {
        "title": ParagraphStyle("title", parent=base, fontSize=17, leading=23, spaceAfter=6),
        "h2": ParagraphStyle(
            "h2", parent=base, fontSize=12.5, leading=17, spaceBefore=8, spaceAfter=4
        ),  # fmt: skip
        "body": base,
    }


def _table(rows: list[list], widths=None, marks=()) -> Table:
    t = Table(rows, colWidths=widths, repeatRows=1)
    style = [
        ("FONTNAME", (0, 0), (-1, -1), _font()),
        ("FONTSIZE", (0, 0), (-1, -1), 8.5),
        ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#eeeeee")),
        ("GRID", (0, 0), (-1, -1), 0.3, colors.HexColor("#999999")),
        ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
    ]
    style += [("BACKGROUND", (0, r), (-1, r), colors.HexColor(c)) for r, c in marks]
    t.setStyle(TableStyle(style))
    return t


def _rate(v) -> str:
    return "—" if v is None else f"{v * 100:.1f}%"


def _change(now, before) -> str:
    if now is None or before is None:
        return "—"
    d = now - before
    return f"{d * 100:+.1f} 个百分点" if isinstance(now, float) and now <= 1 else f"{d:+d}"


def _chart(trend: list[dict]) -> Drawing:
    """Cases received per period (bars) and the on-time rate (line), over the trend."""
    d = Drawing(WIDTH, 200)
    bars = VerticalBarChart()
    bars.x, bars.y, bars.width, bars.height = 40, 30, WIDTH - 80, 140
    bars.data = [[t["received"] for t in trend]]
    bars.categoryAxis.categoryNames = [t["period"][-3:] for t in trend]
    bars.categoryAxis.labels.fontName = _font()
    bars.categoryAxis.labels.fontSize = 7
    bars.valueAxis.labels.fontName = _font()
    bars.valueAxis.valueMin = 0
    bars.bars[0].fillColor = colors.HexColor("#90caf9")
    d.add(bars)
    line = LinePlot()
    line.x, line.y, line.width, line.height = 40, 30, WIDTH - 80, 140
    pts = [(i, (t["on_time_rate"] or 0) * 100) for i, t in enumerate(trend)]
    line.data = [pts]
    line.xValueAxis.valueMin, line.xValueAxis.valueMax = -0.5, len(trend) - 0.5
    line.xValueAxis.visible = False
    line.yValueAxis.valueMin, line.yValueAxis.valueMax = 0, 100
    line.yValueAxis.visible = False
    line.lines[0].strokeColor = colors.HexColor("#d50000")
    line.lines[0].strokeWidth = 2
    d.add(line)
    d.add(String(40, 180, "柱：受理案件数　线：按期整改率（0–100%）", fontName=_font(), fontSize=9))
    return d


def _png(data: bytes, width: float) -> Image:
    img = Image(io.BytesIO(data))
    img.drawHeight = width * img.imageHeight / img.imageWidth
    img.drawWidth = width
    return img


def pdf(conn: Connection, city: int, s: dict) -> bytes:
    """The summary ``s`` (service/summaries/content.py) as a PDF."""
    st = _styles()
    p = s["period"]
    name = NAME_ZH[p.kind]
    story = [
        Paragraph(f"{esc(s['city']['name'])}创建全国文明城市{name}", st["title"]),
        Paragraph(f"{p.label}（{p.start.isoformat()} 至 {p.end.isoformat()}）", st["body"]),
        Paragraph("一、主要指标（与上期比较）", st["h2"]),
    ]
    now, before = s["figures"], s["before"]
    rows = [["指标", "本期", "上期", "变化"]]
    for key, label in (("received", "受理案件数"), ("closed", "结案数"),
                       ("closed_on_time", "按期结案数"), ("overdue_now", "当前超期数"),
                       ("reworks", "返工次数"), ("disputes", "争议数")):  # fmt: skip
        rows.append([label, now[key], before[key], _change(now[key], before[key])])
    rows.append(["按期整改率", _rate(now["on_time_rate"]), _rate(before["on_time_rate"]),
                 _change(now["on_time_rate"], before["on_time_rate"])])  # fmt: skip
    story.append(_table(rows))
    for n, (group, r) in enumerate(s["rankings"].items(), start=2):
        state = {"published": "已发布", "draft": "草稿", "computed": "按本期数据计算"}[r["status"]]
        story.append(Paragraph(f"{'二三'[n - 2]}、{GROUP_ZH[group]}排名（{state}）", st["h2"]))
        flag = r.get("flag")
        if flag:
            weeks = f"，连续 {flag['weeks']} 周" if flag.get("weeks") else ""
            talk = "，约谈" if flag.get("talk") else ""
            story.append(Paragraph(f"流动黄旗：{esc(flag['name'])}{weeks}{talk}", st["body"]))
        rows = [["名次", "单位", "得分", "受理", "按期率", "超期", "争议", "红黑榜", "黄旗"]]
        marks = []
        for i, x in enumerate(r["rows"], start=1):
            rows.append([x["rank"], Paragraph(esc(x["name"]), st["body"]), f"{x['score']:.2f}",
                         x["received"], _rate(x["closed_on_time"] / x["received"])
                         if x["received"] else "—", x["overdue_now"], x["disputes"],
                         LIST_ZH[x["list"]], "黄旗" if x["worst"] else ""])  # fmt: skip
            if x["list"]:
                marks.append((i, "#ffcdd2" if x["list"] == "red" else "#cfd8dc"))
        story.append(_table(rows, [12 * mm, 50 * mm, 16 * mm, 14 * mm, 16 * mm, 14 * mm,
                                   14 * mm, 16 * mm, 14 * mm], marks))  # fmt: skip
    # the maps: the period's cases, then the top problem points
    story += [PageBreak(), Paragraph("四、本期案件分布（红点为超期未结案件）", st["h2"])]
    dots = [(lon, lat, "#d50000" if late else "#1565c0") for lon, lat, late in s["cases"]]
    story.append(_png(mapimage.draw(conn, city, s["extent"], dots), WIDTH))
    late = sum(1 for d in s["cases"] if d[2])
    told = f"案件 {len(dots)} 件，其中超期 {late} 件；底图由本市道路与行政区划数据绘制。"
    story.append(Paragraph(told, st["body"]))
    story += [PageBreak(), Paragraph("五、问题突出点位（前十）", st["h2"])]
    top = s["problem_points"]
    if top:
        xs, ys = [t["lon"] for t in top], [t["lat"] for t in top]
        pad = max(max(xs) - min(xs), max(ys) - min(ys), 0.005) * 0.15
        box = (min(xs) - pad, min(ys) - pad, max(xs) + pad, max(ys) + pad)
        marks = [(t["lon"], t["lat"], "#b71c1c") for t in top]
        story.append(_png(mapimage.draw(conn, city, box, marks, labels=True), WIDTH))
        rows = [["序号", "点位", "未结案件", "超期", "问题分值"]]
        rows += [[i, Paragraph(esc(t["name"]), st["body"]), t["open_violations"], t["overdue"],
                  t["score"]] for i, t in enumerate(top, start=1)]  # fmt: skip
        story.append(_table(rows, [14 * mm, 80 * mm, 24 * mm, 20 * mm, 24 * mm]))
    else:
        story.append(Paragraph("本期无未结案件的点位。", st["body"]))
    story += [Paragraph(f"六、近 {len(s['trend'])} 期趋势", st["h2"]), _chart(s["trend"])]
    story += [PageBreak(), Paragraph("七、各单位超期案件清单", st["h2"])]
    if not s["overdue"]:
        story.append(Paragraph("当前无超期案件。", st["body"]))
    for u in s["overdue"]:
        told = f"{esc(u['name'])}（{esc(u['code'])}）：超期 {u['count']} 件"
        story.append(Paragraph(told, st["body"]))
        rows = [["案件编号", "类别", "整改期限", "超期天数"]]
        rows += [[c["case_no"], c["category"], c["due_local"], c["days"]] for c in u["cases"]]
        story += [_table(rows, [40 * mm, 50 * mm, 40 * mm, 24 * mm]), Spacer(1, 4)]
    out = io.BytesIO()
    doc = SimpleDocTemplate(out, pagesize=A4, leftMargin=15 * mm, rightMargin=15 * mm,
                            topMargin=15 * mm, bottomMargin=15 * mm,
                            title=f"{s['city']['name']} {name} {p.label}")  # fmt: skip
    doc.build(story)
    return out.getvalue()


RANK_HEADERS = {"rank": "名次", "code": "编码", "name": "名称", "score": "得分",
                "received": "受理数", "closed_on_time": "按期结案数", "overdue_now": "当前超期数",
                "reworked_cases": "返工案件数", "fixed_cases": "已整改案件数",
                "disputes": "争议数", "list": "红黑榜", "worst": "流动黄旗"}  # fmt: skip


def xlsx(s: dict) -> bytes:
    """The summary's tables as sheets: the units' figures (as ``/api/kpis`` gives them), the
    rankings (as ``/api/ranking``), the trend and the overdue cases."""
    from openpyxl import Workbook

    wb = Workbook()
    ws = wb.active
    ws.title = "单位指标"
    fields = list(kpis.HEADERS_ZH)
    ws.append([kpis.HEADERS_ZH[f] for f in fields])
    for row in s["units"]["rows"]:
        ws.append([row[f] for f in fields])
    for group, r in s["rankings"].items():
        sheet = wb.create_sheet(f"排名-{GROUP_ZH[group]}")
        sheet.append(list(RANK_HEADERS.values()))
        for x in r["rows"]:
            sheet.append([LIST_ZH[x[f]] if f == "list" else ("是" if x[f] else "")
                          if f == "worst" else x[f] for f in RANK_HEADERS])  # fmt: skip
    trend = wb.create_sheet("趋势")
    trend.append(["期", "受理数", "按期整改率"])
    for t in s["trend"]:
        trend.append([t["period"], t["received"], t["on_time_rate"]])
    late = wb.create_sheet("超期清单")
    late.append(["单位编码", "单位", "超期数", "案件编号", "类别", "整改期限", "超期天数"])
    for u in s["overdue"]:
        for c in u["cases"]:
            late.append([u["code"], u["name"], u["count"], c["case_no"], c["category"],
                         c["due_local"], c["days"]])  # fmt: skip
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()
