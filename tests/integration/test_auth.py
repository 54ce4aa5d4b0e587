import re

from sqlalchemy import text

from tests.conftest import bearer


def _csrf(html: str) -> str:
    return re.search(r'name="csrf_token"[^>]*?value="([^"]+)"', html).group(1)


def test_me_with_a_bearer_token(client, tokens):
    user, token = tokens["planner"]
    resp = client.get("/api/me", headers=bearer(token))
    assert resp.status_code == 200
    assert resp.get_json() == {"id": user.id, "name": "t_planner", "role": "planner"}


def test_api_without_credentials_is_401_problem_json(client):
    for headers in ({}, bearer("cw_not-a-real-token"), {"Authorization": "Basic eDp5"}):
        resp = client.get("/api/me", headers=headers)
        assert resp.status_code == 401
        assert resp.mimetype == "application/problem+json"
        body = resp.get_json()
        assert body["status"] == 401 and body["detail"] and body["instance"] == "/api/me"


def test_pages_redirect_to_login(client):
    resp = client.get("/", headers={"Accept": "text/html"})
    assert resp.status_code == 302 and resp.headers["Location"].startswith("/login?next=")


def test_login_page_sign_in_and_out(client, tokens):
    page = client.get("/login").get_data(as_text=True)
    resp = client.post(
        "/login?next=/api/me",
        data={"csrf_token": _csrf(page), "username": "t_leader", "password": "leader-password"},
    )
    assert resp.status_code == 302 and resp.headers["Location"] == "/api/me"
    assert client.get("/api/me").get_json()["role"] == "leader"
    # sign-out is a POST with the session's CSRF token; without it, nothing happens
    assert client.post("/logout").status_code == 400
    assert client.get("/api/me").status_code == 200
    map_page = client.get("/").get_data(as_text=True)
    assert client.post("/logout", data={"csrf_token": _csrf(map_page)}).status_code == 302
    assert client.get("/api/me").status_code == 401


def test_login_needs_csrf_and_the_right_password(client, tokens):
    no_csrf = client.post("/login", data={"username": "t_leader", "password": "leader-password"})
    assert no_csrf.status_code == 200 and client.get("/api/me").status_code == 401
    page = client.get("/login").get_data(as_text=True)
    wrong = client.post(
        "/login", data={"csrf_token": _csrf(page), "username": "t_leader", "password": "nope-nope"}
    )
    assert wrong.status_code == 401 and "用户名或密码不正确" in wrong.get_data(as_text=True)
    assert client.get("/api/me").status_code == 401


def test_next_never_leaves_the_site(client, tokens):
    page = client.get("/login").get_data(as_text=True)
    resp = client.post(
        "/login?next=//evil.example/x",
        data={"csrf_token": _csrf(page), "username": "t_leader", "password": "leader-password"},
    )
    assert resp.headers["Location"] == "/rounds"  # a leader lands on the rounds


def test_passwords_are_stored_hashed(engine, tokens):
    with engine.connect() as conn:
        hashes = (
            conn.execute(text("SELECT password_hash FROM app_user WHERE name LIKE 't\\_%'"))
            .scalars()
            .all()
        )
    assert hashes and all(h.startswith("scrypt:") and "password" not in h for h in hashes)
