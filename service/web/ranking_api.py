"""The weekly ranking over HTTP (service/ranking/weekly.py), for the campaign office and
leaders: ``GET /api/ranking?week=YYYY-Www&group=street|community|department`` (the published
ranking, or a draft computed now), ``POST /api/ranking/{week}/publish`` with ``{"group": …}``
(leaders; kept forever) and ``GET /api/ranking/flags?group=`` (the yellow flag's path). A
unit's users and inspectors get 403: the figures of every unit are the office's."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from zoneinfo import ZoneInfo

from flask import Blueprint, jsonify, render_template, request, url_for
from flask_login import current_user
from flask_wtf.csrf import generate_csrf
from sqlalchemy import text

from service.errors import Problem, field_error
from service.ranking import score, weekly
from service.store.db import reading, writing
from service.web.auth import actor, require_role
from service.web.i18n import catalogue, current_language, translator
from service.web.inputs import json_body

bp = Blueprint("ranking", __name__)

READERS = ("planner", "leader")  # and admins, who pass every require_role


def _group(value: object, errors: list) -> str:
    if value not in weekly.GROUPS:
        errors.append(field_error("group", f"one of {', '.join(weekly.GROUPS)}"))
        return ""
    return str(value)


def _week(value: object, errors: list) -> str:
    try:
        score.week_days(str(value))
    except ValueError:
        errors.append(field_error("week", "an ISO week as YYYY-Www, e.g. 2026-W49"))
        return ""
    return str(value)


def _query(args: Mapping[str, str], allowed: tuple[str, ...]) -> list:
    return [
        field_error(k, f"unknown parameter; takes {', '.join(allowed)}")
        for k in sorted(set(args) - set(allowed))
    ]


@bp.get("/api/ranking")
@require_role(*READERS)
def ranking():
    """A group's ranking for a week: scores, ranks, red and black lists, the yellow flag."""
    errors = _query(request.args, ("week", "group"))
    week = _week(request.args.get("week"), errors)
    group = _group(request.args.get("group", "street"), errors)
    if errors:
        raise Problem("Some query parameters are not understood.", status=400, errors=errors)
    with reading() as conn:
        return jsonify(weekly.read(conn, current_user.city_id, week, group))


@bp.post("/api/ranking/<week>/publish")
@require_role("leader")
def publish(week: str):
    """Publish a group's ranking of a week that is over: kept as it is from then on."""
    body = json_body()
    errors = []
    if not isinstance(body, dict):
        raise Problem(
            "Send a JSON object.", status=400, errors=[field_error("body", "not an object")]
        )
    errors += [field_error(k, "unknown field; takes group") for k in sorted(set(body) - {"group"})]
    week = _week(week, errors)
    group = _group(body.get("group"), errors)
    if errors:
        raise Problem("The ranking cannot be published.", status=422, errors=errors)
    with writing(actor()) as conn:
        published = weekly.publish(conn, current_user.city_id, week, group, current_user.id)
    return jsonify(published), 201


@bp.get("/api/ranking/flags")
@require_role(*READERS)
def flags():
    """The yellow flag's path through the published weeks of a group."""
    errors = _query(request.args, ("group",))
    group = _group(request.args.get("group", "street"), errors)
    if errors:
        raise Problem("Some query parameters are not understood.", status=400, errors=errors)
    with reading() as conn:
        return jsonify({"group": group, "weeks": weekly.flags(conn, current_user.city_id, group)})


@bp.get("/ranking")
@require_role(*READERS)
def ranking_page():
    """The week's ranking for leaders: a group's table with its red and black lists and the
    yellow flag, last week by default; a leader publishes a draft from here."""
    lang = current_language()
    t = translator(lang)
    with reading() as conn:
        tz = conn.execute(
            text("SELECT timezone FROM city WHERE id = :c"), {"c": current_user.city_id}
        ).scalar()
    last = score.week_of(dt.datetime.now(ZoneInfo(tz)).date() - dt.timedelta(days=7))
    return render_template(
        "ranking.html",
        t=t,
        lang=lang,
        other_lang="zh" if lang == "en" else "en",
        week=request.args.get("week", last),
        group=request.args.get("group", "street"),
        groups=weekly.GROUPS,
        may_publish=current_user.role in ("leader", "admin"),
        csrf_token=generate_csrf(),
        urls={
            "ranking": url_for("ranking.ranking"),
            "publish": url_for("ranking.publish", week="WEEK"),
            "flags": url_for("ranking.flags"),
        },
        messages={k: t(k) for k in catalogue("zh") if k.startswith("ranking.")},
    )
