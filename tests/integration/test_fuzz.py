"""Schema-driven fuzzing: schemathesis against the app's own ``/api`` document.

Every operation of the OpenAPI document is fed generated requests (valid and invalid) as an
admin and as a unit's user; no answer may be a 5xx, and every answer must be one the
document declares: its status code, its content type and its body's schema. The fuzzer
writes, so it works on a database of its own (``fuzz``, in the same cluster) with the demo
city loaded into it: the shared demo city the other tests read is left alone.
"""

from __future__ import annotations

import os

import pytest
import schemathesis
import schemathesis.engine
from schemathesis.engine import Status, events
from sqlalchemy import text

from service.store.db import Actor, make_engine, set_actor
from tests.conftest import NOW, app_on, bearer, own_database

SEED = 20261128
# values that once reached a 500, mixed into what the fuzzer draws: NUL (PostgreSQL refuses
# it in text), digits str.isdigit() takes and int() does not or reads differently, numbers past
# a bigint
HOSTILE_TEXT = ["\x00", "a\x00b", "²", "٣", "1²", "-", "9" * 30, "1e999", "NaN", "..", "/", ","]
HOSTILE_NUMBERS = [2**63, 2**64, -(2**63) - 1, 10**30, -1, 0]
REJECTED = [400, 401, 403, 404, 405, 406, 409, 412, 413, 415, 422, 428, 429]
ROLES = ("admin", "unit")
FUZZ_DB = "fuzz"
MAX_EXAMPLES = 5  # per operation and role: ~350 cases a role, ~10 s
# CHUANGWEN_FUZZ_DEEP=1 adds schemathesis' coverage phase: ~5,000 more cases a role (every
# boundary and type of every parameter), a minute or so a role
DEEP = os.environ.get("CHUANGWEN_FUZZ_DEEP") == "1"
CHECKS = (
    "not_a_server_error",
    "status_code_conformance",
    "content_type_conformance",
    "response_schema_conformance",
    "response_headers_conformance",
    "negative_data_rejection",
    "allow_header_conformance",
)


@pytest.fixture(scope="session")
def fuzz_app(pg_url, engine):
    """An app on a database of its own, with the demo city and a user per fuzzed role."""
    from service.accounts.users import create_user, issue_token
    from service.demo.build import build
    from service.demo.load import load

    with own_database(engine, pg_url, FUZZ_DB) as url:
        fuzz_engine = make_engine(url)
        tokens = {}
        with fuzz_engine.begin() as conn:
            set_actor(conn, Actor(None, "test-fuzz"))
            city_id, _, _ = load(conn, build(NOW))
            unit = conn.execute(
                text("SELECT code FROM unit WHERE city_id = :c AND kind = 'territorial' LIMIT 1"),
                {"c": city_id},
            ).scalar()
            for role in ROLES:
                user = create_user(
                    conn, city_id, f"fuzz_{role}", role, unit_code=unit if role == "unit" else None
                )
                tokens[role] = issue_token(conn, user)
        fuzz_engine.dispose()
        # the map page as for a big city (layers from tiles): a page in a tenth of the time
        with app_on(url, SECRET_KEY="fuzz-secret", EMBED_FEATURES=20, EMBED_MAX=100) as app:
            yield app, tokens


def _config(token: str) -> schemathesis.Config:
    return schemathesis.Config.from_dict(
        {
            "seed": SEED,
            "headers": bearer(token),
            "dictionaries": {
                "hostile_text": {"values": HOSTILE_TEXT},
                "hostile_numbers": {"values": HOSTILE_NUMBERS},
            },
            "generation": {
                "max-examples": MAX_EXAMPLES,
                "deterministic": True,
                "with-security-parameters": False,
                "dictionaries": {
                    "string": {"dictionary": "hostile_text", "probability": 0.1},
                    "integer": {"dictionary": "hostile_numbers", "probability": 0.1},
                },
            },
            "phases": {
                "examples": {"enabled": False},  # the document gives none
                "coverage": {"enabled": DEEP},
                "stateful": {"enabled": False},
            },
            "checks": {
                "enabled": False,
                **{name: {"enabled": True} for name in CHECKS},
                # RFC 9110 13.1.1: an If-Match that matches no ETag (a malformed one matches
                # none) is a 412, and says so
                "negative_data_rejection": {"expected-statuses": REJECTED},
            },
        }
    )


@pytest.mark.parametrize("role", ROLES)
def test_fuzz(fuzz_app, role):
    app, tokens = fuzz_app
    schema = schemathesis.openapi.from_wsgi(
        "/api", app, config=_config(tokens[role]), headers=bearer(tokens[role])
    )
    # accounts are not fuzzed with writes: a fuzzer that revokes its own token or disables
    # the other role's user would make the rest of the run a row of 401s
    schema = schema.exclude(
        path_regex=r"^/api/(users|me/password)", method=["POST", "PUT", "DELETE"]
    )
    operations = sum(1 for op in schema.get_all_operations())
    cases, tested, failures = 0, set(), []
    for event in schemathesis.engine.from_schema(schema).execute():
        if isinstance(event, events.ScenarioFinished):
            cases += len(event.recorder.interactions)
            tested.add(event.recorder.label)
            if event.status == Status.SKIP:
                failures.append(f"{event.recorder.label}: skipped, {event.skip_reason}")
            for case_id, checks in event.recorder.checks.items():
                failures += [
                    _describe(event.recorder, case_id, check)
                    for check in checks
                    if check.failure_info is not None
                ]
        elif isinstance(event, events.NonFatalError):
            failures.append(f"{event.label}: {event.value!r}")
        elif isinstance(event, events.FatalError):
            raise event.exception
    print(f"fuzzed as {role}: {cases} cases over {len(tested)} of {operations} operations")
    assert not failures, f"{len(failures)} failures in {cases} cases:\n" + "\n\n".join(
        sorted(set(failures))
    )
    assert len(tested) == operations and cases >= 3 * operations  # a few at least, each


def _describe(recorder, case_id: str, check) -> str:
    interaction = recorder.interactions.get(case_id)
    response = interaction.response if interaction else None
    body = response.content[:400].decode(errors="replace") if response else ""
    failure = check.failure_info.failure
    return (
        f"[{check.name}] {recorder.label}: {failure.title}\n{failure.message[:600]}\n"
        f"{check.failure_info.code_sample}\n-> {response.status_code if response else '-'} "
        f"{body}"
    )
