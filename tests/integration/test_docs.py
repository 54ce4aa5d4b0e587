"""Docs tested against code: every route is in the OpenAPI document or the README."""

import re
from pathlib import Path

from openapi_spec_validator import validate

from tests.conftest import bearer

README = (Path(__file__).resolve().parents[2] / "README.md").read_text(encoding="utf-8")


def test_openapi_document_is_valid_openapi_3(client, tokens):
    resp = client.get("/api", headers=bearer(tokens["planner"][1]))
    assert resp.status_code == 200
    validate(resp.get_json())


def test_every_route_is_documented(app, client, tokens):
    from service.layers.features.collections import COLLECTIONS

    doc = client.get("/api", headers=bearer(tokens["planner"][1])).get_json()
    documented = {re.sub(r"\{[^}]+\}", "<>", p) for p in doc["paths"]}
    in_readme = set(re.findall(r"(?:GET|POST|PUT|PATCH|DELETE)[A-Z, ]* (/[^\s`]*)", README))
    missing = []
    for rule in app.url_map.iter_rules():
        if rule.endpoint == "static" or rule.rule in in_readme:
            continue
        concrete = (
            [rule.rule.replace("<cid>", cid) for cid in COLLECTIONS]
            if "<cid>" in rule.rule
            else [rule.rule]
        )
        if not all(re.sub(r"<[^>]+>", "<>", c) in documented for c in concrete):
            missing.append(rule.rule)
    assert missing == []
