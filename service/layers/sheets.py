"""Spreadsheets as a campaign office keeps them: column headers in Chinese or English, and
the templates (a header row in Chinese and an example row) to fill in."""

from __future__ import annotations

import io

import pandas as pd

from service.errors import NotFound, field_error

# per collection: field → its Chinese header first, then other names it is found under
HEADERS: dict[str, dict[str, tuple[str, ...]]] = {
    "areas": {
        "code": ("区划代码", "代码", "编码"),
        "level": ("层级", "级别"),
        "name": ("名称", "区划名称"),
        "parent_code": ("上级代码", "上级编码", "上级区划代码"),
    },
    "units": {
        "code": ("单位编码", "编码", "代码"),
        "name": ("单位名称", "名称"),
        "kind": ("类型", "单位类型"),
        "parent_code": ("上级单位编码", "上级编码"),
        "area_code": ("所属区划代码", "区划代码"),
        "phone": ("联系电话", "电话"),
    },
    "persons": {
        "name": ("姓名", "名称"),
        "unit_code": ("单位编码", "所属单位编码"),
        "role": ("职责", "角色", "职务"),
        "phone": ("联系电话", "电话", "手机"),
    },
    "assessment_points": {
        "code": ("点位编码", "编码"),
        "name": ("点位名称", "名称"),
        "category": ("点位类别", "类别"),
        "address": ("地址",),
        "weight": ("权重",),
        "radius_m": ("周边半径(米)", "半径(米)", "半径"),
        "lon": ("经度",),
        "lat": ("纬度",),
    },
    "stall_areas": {
        "code": ("摊点编码", "编码"),
        "name": ("摊点名称", "名称"),
        "opens_at": ("开始时间", "开放时间"),
        "closes_at": ("结束时间", "关闭时间"),
        "allowed_categories": ("允许经营类别", "允许类别"),
        "unit": ("管理单位编码", "单位编码"),
        "wkt": ("范围WKT", "WKT"),
    },
    "ad_sites": {
        "code": ("广告编码", "编码"),
        "name": ("广告名称", "名称"),
        "content": ("广告内容", "内容", "主题"),
        "facing_deg": ("朝向", "朝向(度)"),
        "width_m": ("宽(米)", "宽度"),
        "height_m": ("高(米)", "高度"),
        "last_checked": ("最近检查日期", "检查日期"),
        "unit": ("维护单位编码", "单位编码"),
        "lon": ("经度",),
        "lat": ("纬度",),
    },
}

EXAMPLES: dict[str, dict[str, object]] = {
    "areas": {
        "code": "110108001",
        "level": "street",
        "name": "学院路街道",
        "parent_code": "110108",
    },
    "units": {
        "code": "XYL-JD",
        "name": "学院路街道办事处",
        "kind": "街道",
        "parent_code": "",
        "area_code": "110108001",
        "phone": "010-00000000",
    },
    "persons": {"name": "张三", "unit_code": "XYL-JD", "role": "第一责任人", "phone": ""},
    "assessment_points": {
        "code": "",
        "name": "学院路农贸市场",
        "category": "农贸市场",
        "address": "学院路 1 号",
        "weight": "",
        "radius_m": "",
        "lon": 116.3500,
        "lat": 39.9900,
    },
    "stall_areas": {
        "code": "ST001",
        "name": "学院路夜市便民摊点",
        "opens_at": "18:00",
        "closes_at": "23:00",
        "allowed_categories": '["street_vending"]',
        "unit": "XYL-JD",
        "wkt": "POLYGON ((116.35 39.99, 116.351 39.99, 116.351 39.991, 116.35 39.99))",
    },
    "ad_sites": {
        "code": "AD0001",
        "name": "学院路农贸市场东门公益广告牌",
        "content": "讲文明 树新风",
        "facing_deg": "西",
        "width_m": 4,
        "height_m": 2,
        "last_checked": "2026-11-30",
        "unit": "XYL-JD",
        "lon": 116.3505,
        "lat": 39.9900,
    },
}


def rename_headers(table: pd.DataFrame, collection: str) -> pd.DataFrame:
    """A sheet's columns under the field names the collection takes (Chinese or English
    headers, any case, spaces around them ignored); unknown columns are left as they are."""
    names = {}
    for field, aliases in HEADERS.get(collection, {}).items():
        for alias in (field, *aliases):
            names[alias.strip().lower()] = field
    return table.rename(columns=lambda c: names.get(str(c).strip().lower(), c))


def template_xlsx(collection: str) -> bytes:
    """An XLSX to fill in: the Chinese headers, the English field names as a second row's
    comment, and one example row."""
    from openpyxl import Workbook
    from openpyxl.comments import Comment

    if collection not in HEADERS:
        raise NotFound(
            f"No template for {collection!r}.",
            errors=[field_error("collection", f"one of {', '.join(HEADERS)}")],
        )
    wb = Workbook()
    ws = wb.active
    ws.title = collection
    fields = list(HEADERS[collection])
    ws.append([HEADERS[collection][f][0] for f in fields])
    for cell, field in zip(ws[1], fields, strict=True):
        cell.comment = Comment(f"field: {field}", "chuangwen")
    ws.append([EXAMPLES[collection].get(f, "") for f in fields])
    for cell in ws[2]:
        if isinstance(cell.value, str):
            cell.data_type = "s"
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def table_xlsx(
    title: str,
    headers: dict[str, str],
    rows: list[dict],
    note: str,
    percent=(),
    more: tuple[tuple[str, dict[str, str], list[dict]], ...] = (),
) -> bytes:
    """A table as a sheet: ``headers`` field → its (Chinese) header, a row per dict, the
    fields in ``percent`` shown as percentages, and ``note`` under the table; ``more``: other
    tables (title, headers, rows), a sheet each."""
    from openpyxl import Workbook

    wb = Workbook()

    def sheet(ws, headers: dict[str, str], rows: list[dict]) -> None:
        fields = list(headers)
        ws.append([headers[f] for f in fields])
        for row in rows:
            ws.append([row.get(f) for f in fields])
            for cell, name in zip(ws[ws.max_row], fields, strict=True):
                if name in percent and cell.value is not None:
                    cell.number_format = "0.0%"
                elif isinstance(cell.value, str):
                    cell.data_type = "s"  # a name starting with = stays a name, not a formula

    ws = wb.active
    ws.title = title
    sheet(ws, headers, rows)
    ws.append([])
    ws.append([note])
    for other, other_headers, other_rows in more:
        sheet(wb.create_sheet(other), other_headers, other_rows)
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()
