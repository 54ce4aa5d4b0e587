"""The admin's pages: the city's setup checklist with imports and the zone check, the
city's users, the audit log; and the JSON behind them (``/api/audit``, the checklist)."""

from __future__ import annotations

import json

from flask import Blueprint, jsonify, render_template, request, url_for
from flask_login import current_user
from flask_wtf.csrf import generate_csrf

from service.accounts import audit
from service.errors import Problem
from service.layers import reads, setup
from service.layers.features.collections import COLLECTIONS
from service.layers.transfer import UPLOAD_FORMATS
from service.store.db import reading
from service.store.models import AUDITED_TABLES, ROLES
from service.web.auth import require_role
from service.web.i18n import catalogue, current_language, translator

bp = Blueprint("admin", __name__)

# the collections a city is filled from by file, in the order a city is set up
IMPORTABLE = (
    "areas",
    "units",
    "persons",
    "assessment_points",
    "stall_areas",
    "ad_sites",
    "zones",
    "grid_cells",
)
WITH_TEMPLATE = ("areas", "units", "persons", "assessment_points", "stall_areas", "ad_sites")
ACTIONS = ("INSERT", "UPDATE", "DELETE", "view", "refused")  # those the audit page names
ZONE_PROBLEMS = (
    "gap",
    "overlap",
    "point_without_zone",
    "point_in_two_zones",
    "sliver_zone",
    "case_without_owner",
)


def _page(template: str, script: bool = True, **values):
    """An admin page: its labels, the language switch, the admins' links, the CSRF token."""
    lang = current_language()
    t = translator(lang)
    prefixes = ("admin.", "check.")
    return render_template(
        template,
        t=t,
        lang=lang,
        other_lang="zh" if lang == "en" else "en",
        csrf_token=generate_csrf(),
        user=current_user.display_name or current_user.name,
        links=[
            (t("admin.nav.city"), url_for("admin.city_page")),
            (t("admin.nav.users"), url_for("admin.users_page")),
            (t("admin.nav.audit"), url_for("admin.audit_page")),
            (t("admin.nav.map"), url_for("pages.planner_map")),
        ],
        messages={k: t(k) for k in catalogue("zh") if k.startswith(prefixes)} if script else {},
        **values,
    )


@bp.get("/admin/city")
@require_role("admin")
def city_page():
    """What the admin's city has and lacks, file imports (checked first), the zone check."""
    with reading() as conn:
        city = reads.city(conn, current_user.city_id)
        items = setup.checklist(conn, current_user.city_id)
    imports = [
        {
            "id": cid,
            "url": url_for("ogc.import_file", cid=cid),
            "template": f"{request.script_root}/api/templates/{cid}.xlsx"
            if cid in WITH_TEMPLATE
            else None,
        }
        for cid in IMPORTABLE
        if cid in COLLECTIONS
    ]
    config = {
        "csrf": generate_csrf(),
        "checklist": url_for("admin.checklist_api"),
        "zoneCheck": url_for("api.zone_check_view"),
    }
    return _page(
        "admin_city.html",
        city=city,
        items=items,
        imports=imports,
        imported={c["id"] for c in imports},
        accept=",".join(sorted(UPLOAD_FORMATS)),
        zone_problems=ZONE_PROBLEMS,
        config=config,
    )


@bp.get("/admin/users")
@require_role("admin")
def users_page():
    """The city's users: create, reset a password, disable and enable, tokens."""
    with reading() as conn:
        units = setup.units(conn, current_user.city_id)
    config = {
        "csrf": generate_csrf(),
        "users": url_for("users.list_users"),
        "me": current_user.id,
    }
    return _page("admin_users.html", roles=ROLES, units=units, config=config)


@bp.get("/admin/audit")
@require_role("admin")
def audit_page():
    """The audit log as a table, filtered by user, table and day (a bad filter is shown)."""
    problem, rows = None, []
    try:
        filled = {k: v for k, v in request.args.items() if v != ""}  # the form's empty fields
        wanted = audit.parse_filter(filled, also=("lang",))
    except Problem as exc:
        problem, wanted = exc, audit.AuditFilter()
    if problem is None:
        with reading() as conn:
            rows = audit.entries(conn, current_user.city_id, wanted)
    return _page(
        "admin_audit.html",
        script=False,
        rows=[{**r, "old": _text(r["old"]), "new": _text(r["new"])} for r in rows],
        problem=problem,
        args=request.args,
        tables=AUDITED_TABLES,
        actions=ACTIONS,
        limits=(audit.DEFAULT_LIMIT, audit.MAX_LIMIT),
    )


def _text(value: dict | None) -> str | None:
    """A row's values as JSON text for the page (Chinese as itself, escaped by Jinja)."""
    return None if value is None else json.dumps(value, ensure_ascii=False, sort_keys=True)


@bp.get("/api/audit")
@require_role("admin")
def audit_api():
    """The city's audit log, newest first: ``user`` (name or id), ``table``, ``day``
    (YYYY-MM-DD, city time), ``limit``."""
    wanted = audit.parse_filter(request.args)
    with reading() as conn:
        return jsonify(entries=audit.entries(conn, current_user.city_id, wanted))


@bp.get("/api/city/checklist")
@require_role("admin")
def checklist_api():
    """What the admin's city has and lacks: ``{items: [{key, count, missing, collection}]}``."""
    with reading() as conn:
        return jsonify(items=setup.checklist(conn, current_user.city_id))
