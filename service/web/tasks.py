"""The loop's phone pages: ``/tasks`` (a unit's users: their unit's open cases, with the
steps they may take) and ``/verify`` (inspectors, planners, leaders, admins: the cases
awaiting verification, before- and after-photos side by side). Both are pages only; every step
goes to ``POST /api/cases/{id}/events`` with the case's ETag (static/tasks.js)."""

from __future__ import annotations

from flask import Blueprint, render_template, url_for
from flask_login import current_user
from flask_wtf.csrf import generate_csrf

from service.accounts.scope import case_scope
from service.cases import loop, worklist
from service.cases.photos import MAX_PHOTO_BYTES, MAX_PHOTOS
from service.errors import Forbidden
from service.store.db import reading
from service.web.i18n import catalogue, current_language, translator

bp = Blueprint("tasks", __name__)

UNIT_ACTIONS = ("accept", "fix", "dispute", "extend_request")
VERIFY_ACTIONS = ("verify_pass", "verify_fail")


def _page(template: str, statuses: tuple[str, ...], actions: tuple[str, ...], **more):
    lang = current_language()
    t = translator(lang)
    with reading() as conn:
        cases = worklist.cases(
            conn, current_user.city_id, case_scope(current_user), statuses, lang, current_user.id
        )  # fmt: skip
    for case in cases:
        case["actions"] = [
            _button(t, "start" if a == "accept" and case["status"] == "hung" else a, case["status"])
            for a in actions
        ]  # a long-term case is taken up again with start
    return render_template(
        template,
        t=t,
        lang=lang,
        other_lang="zh" if lang == "en" else "en",
        cases=cases,
        csrf_token=generate_csrf(),
        events_url=url_for("cases.take_step", cid=0).replace("/0/", "/{id}/"),
        tile_url=url_for("basemap.tile", z=0, x=0, y=0).replace("/0/0/0.png", ""),
        limits={"photos": MAX_PHOTOS, "mb": MAX_PHOTO_BYTES // (1024 * 1024)},
        messages={k: t(k) for k in catalogue("zh") if k.startswith(("tasks.", "field."))},
        **more,
    )


def _button(t, action: str, status: str) -> dict:
    """A step's button on a case: enabled when the reader's role and the case's state allow
    it, else disabled with the reason (its title)."""
    step = loop.STEPS[action]
    why = None
    if current_user.role not in step.roles:
        why = t("tasks.why.role")
    elif status not in step.before:
        why = t(
            "tasks.why.state",
            status=t(f"status.{status}"),
            allowed="、".join(t(f"status.{s}") for s in step.before),
        )
    return {"action": action, "label": t(f"tasks.action.{action}"), "why": why}


@bp.get("/tasks")
def tasks_page():
    """A unit's open cases, for a phone: overdue first, then by due time."""
    if current_user.role != "unit":
        raise Forbidden("The task list is for a unit's users.")
    return _page("tasks.html", worklist.TASK_STATUSES, UNIT_ACTIONS)


@bp.get("/verify")
def verify_page():
    """The cases awaiting verification, for a phone: nearest first when the phone says where
    it is."""
    if current_user.role not in loop.VERIFIERS:
        raise Forbidden(f"Verifying needs one of the roles: {', '.join(loop.VERIFIERS)}.")
    return _page("verify.html", ("resolved",), VERIFY_ACTIONS)
