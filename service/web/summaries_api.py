"""The summaries over HTTP for leaders and the campaign office: ``GET
/reports/<kind>/<period>`` (``kind`` daily, weekly or monthly; the period as
``YYYY-MM-DD``, ``YYYY-Www`` or ``YYYY-MM``) is the PDF, ``…/<period>.xlsx`` the same tables
as a spreadsheet (service/summaries/)."""

from __future__ import annotations

from flask import Blueprint
from flask_login import current_user

from service.errors import NotFound, Problem, field_error
from service.store.db import reading
from service.summaries import content, documents, period
from service.web.auth import require_role
from service.web.downloads import XLSX, attachment

bp = Blueprint("summaries", __name__)


def _summary(kind: str, label: str):
    if kind not in period.KINDS:
        raise NotFound(f"No summary {kind!r}: one of {', '.join(period.KINDS)}.")
    try:
        p = period.parse(kind, label)
    except ValueError:
        raise Problem(
            "The period is not understood.",
            status=400,
            errors=[field_error("period", f"as {period.form(kind)}")],
        ) from None
    return p


@bp.get("/reports/<kind>/<label>")
@require_role("planner", "leader")
def summary_pdf(kind: str, label: str):
    """The summary as a PDF in Chinese (``.xlsx``: the same tables as a spreadsheet)."""
    if label.endswith(".xlsx"):
        return summary_xlsx(kind, label.removesuffix(".xlsx"))
    p = _summary(kind, label.removesuffix(".pdf"))
    city = current_user.city_id
    with reading() as conn:
        data = documents.pdf(conn, city, content.gather(conn, city, p))
    return attachment(data, "application/pdf", f"{kind}-{p.label}.pdf")


def summary_xlsx(kind: str, label: str):
    p = _summary(kind, label)
    city = current_user.city_id
    with reading() as conn:
        data = documents.xlsx(content.gather(conn, city, p))
    return attachment(data, XLSX, f"{kind}-{p.label}.xlsx")
