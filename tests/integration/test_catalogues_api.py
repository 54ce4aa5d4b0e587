from sqlalchemy import text

from tests.conftest import bearer


def test_admins_edit_a_category_and_cases_follow(client, tokens, engine, demo):
    url = "/api/catalogues/violation-categories/graffiti"
    items = client.get("/api/catalogues/violation-categories", headers=bearer(tokens["unit"][1]))
    assert any(i["code"] == "graffiti" for i in items.get_json()["items"])
    read = client.get(url, headers=bearer(tokens["admin"][1]))
    etag, before = read.headers["ETag"], read.get_json()["deadline_h"]
    planner = client.patch(
        url, json={"deadline_h": 12}, headers={**bearer(tokens["planner"][1]), "If-Match": etag}
    )
    assert planner.status_code == 403
    bad = client.patch(
        url,
        json={"deadline_h": -1, "colour": "x"},
        headers={**bearer(tokens["admin"][1]), "If-Match": etag},
    )
    assert bad.status_code == 422
    assert {e["field"] for e in bad.get_json()["errors"]} == {"deadline_h", "colour"}
    ok = client.patch(
        url, json={"deadline_h": 12}, headers={**bearer(tokens["admin"][1]), "If-Match": etag}
    )
    assert ok.status_code == 200 and ok.get_json()["deadline_h"] == 12
    stale = client.patch(
        url, json={"deadline_h": 99}, headers={**bearer(tokens["admin"][1]), "If-Match": etag}
    )
    assert stale.status_code == 412
    with engine.connect() as conn:
        hours = (
            conn.execute(
                text(
                    "SELECT DISTINCT extract(epoch FROM due_at - observed_at) / 3600 "
                    "FROM violation WHERE city_id = :c AND category_code = 'graffiti' "
                    "AND NOT permitted AND due_override IS NULL"  # (a date the loop decided stands)
                ),
                {"c": demo[0]},
            )
            .scalars()
            .all()
        )
    assert hours == [12]
    back = client.patch(
        url,
        json={"deadline_h": before},
        headers={**bearer(tokens["admin"][1]), "If-Match": ok.headers["ETag"]},
    )
    assert back.status_code == 200
