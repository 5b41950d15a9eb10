"""Users, tokens, keys and roles: the role × endpoint × space matrix, isolation, and no self-granting."""

from __future__ import annotations

import httpx
import pytest
from tests.server.conftest import PASSWORD, Live

from sutra.server.tokens import TokenSigner, load_secret

READER, WRITER, ADMIN = "reader", "writer", "admin"
RANK = {None: -1, READER: 0, WRITER: 1, ADMIN: 2}
# who holds what in each space (see conftest)
ROLES = {
    "ops": {"admin": ADMIN, "wendy": WRITER, "rita": READER, "olga": None, "nora": None},
    "hr": {"admin": ADMIN, "wendy": None, "rita": None, "olga": ADMIN, "nora": None},
}
# (method, path under the space, request options, least role that may call it)
ENDPOINTS = [
    ("GET", "/stats", {}, READER),
    ("POST", "/ask", {"json": {"question": "Who owns the ledger database?"}}, READER),
    ("POST", "/ask/stream", {"json": {"question": "Who manages the payroll team?"}}, READER),
    ("GET", "/search", {"params": {"q": "ledger payroll", "mode": "hybrid"}}, READER),
    ("GET", "/paths", {"params": {"from": "Priya Nair", "to": "Dublin"}}, READER),
    ("GET", "/timeline", {"params": {"subject": "Mara Quinn"}}, READER),
    ("GET", "/effects", {"params": {"of": "the disk is full"}}, READER),
    ("GET", "/contradictions", {}, READER),
    ("POST", "/filter", {"json": {"semantic_type": "entity"}}, READER),
    ("GET", "/export", {}, READER),
    ("GET", "/concepts/e:none", {}, READER),
    ("GET", "/audit/q:none", {}, READER),
    ("POST", "/learn", {"json": {"text": "The matrix test ran.", "source": "matrix"}}, WRITER),
    ("POST", "/learn/batch", {"json": {"documents": [{"id": "mx", "text": "The batch ran."}]}}, WRITER),
    ("POST", "/ingest", {"files": {"file": ("m.txt", b"The upload ran.")}}, WRITER),
    ("DELETE", "/concepts/e:none", {}, WRITER),
    ("DELETE", "/sources/none", {}, WRITER),
    ("GET", "/members", {}, ADMIN),
]
SECRETS = ("Priya", "ledger", "Mara", "payroll", "Dublin")


def call(client: httpx.Client, method: str, path: str, options: dict) -> httpx.Response:
    return client.request(method, path, **options)


@pytest.mark.parametrize("space", ["ops", "hr"])
@pytest.mark.parametrize("user", ["admin", "wendy", "rita", "olga", "nora"])
def test_role_matrix(live: Live, user: str, space: str) -> None:
    role = ROLES[space][user]
    with live.client(user) as client:
        for method, path, options, least in ENDPOINTS:
            response = call(client, method, f"/v1/spaces/{space}{path}", options)
            where = f"{user} {method} {space}{path}"
            if role is None:
                # a space you are not in does not exist for you, and nothing of it leaks
                assert response.status_code == 404, where
                assert response.json()["error"]["code"] == "space_not_found", where
                assert not any(word in response.text for word in SECRETS), where
            elif RANK[role] < RANK[least]:
                assert response.status_code == 403, where
                assert response.json()["error"]["code"] == "forbidden", where
            else:
                assert response.status_code < 500, where
                if response.status_code >= 400:  # e.g. an id that does not exist: the engine's 404
                    assert response.json()["error"]["code"] == "not_found", where


@pytest.mark.parametrize("user", ["admin", "wendy", "rita", "olga", "nora"])
def test_openai_endpoints_respect_spaces(live: Live, user: str) -> None:
    with live.client(user) as client:
        models = {m["id"] for m in client.get("/v1/models").json()["data"]}
        assert models == {s for s, members in ROLES.items() if members[user]}
        for space, members in ROLES.items():
            ask = {"model": space, "messages": [{"role": "user", "content": "Who owns the ledger database?"}]}
            response = client.post("/v1/chat/completions", json=ask)
            if members[user] is None:
                assert response.status_code == 404 and not any(w in response.text for w in SECRETS)
            else:
                assert response.status_code == 200
            learning = {
                **ask,
                "learn_system": True,
                "messages": [{"role": "system", "content": "Ann is a nurse."}, *ask["messages"]],
            }
            response = client.post("/v1/chat/completions", json=learning)
            expected = 404 if members[user] is None else 403 if members[user] == READER else 200
            assert response.status_code == expected, (user, space)


def test_unauthenticated_and_bad_credentials(live: Live) -> None:
    with live.client() as anon:
        response = anon.get("/v1/spaces/ops/stats")
        assert response.status_code == 401 and response.headers["www-authenticate"] == "Bearer"
        assert response.json()["error"]["code"] == "unauthenticated"
        for bad in ("st.e30.AAAA", "sk-sutra-forged", "garbage", live.keys["rita"][:-2] + "xx"):
            r = anon.get("/v1/spaces/ops/stats", headers={"Authorization": f"Bearer {bad}"})
            assert r.status_code == 401 and r.json()["error"]["code"] == "invalid_credentials", bad
        wrong = anon.post("/v1/auth/login", json={"username": "rita", "password": "wrong password"})
        assert wrong.status_code == 401
        nobody = anon.post("/v1/auth/login", json={"username": "ghost", "password": PASSWORD})
        assert nobody.status_code == 401 and nobody.json() == wrong.json()  # no hint which part was wrong
        assert anon.get("/v1/models").status_code == 401
        assert anon.post("/v1/chat/completions", json={"model": "ops", "messages": []}).status_code in (
            401,
            422,
        )


def test_expired_token_is_refused(live: Live) -> None:
    secret = load_secret(live.data_dir / "token.secret")
    assert (live.data_dir / "token.secret").stat().st_mode & 0o777 == 0o600
    assert (live.data_dir / "accounts.db").stat().st_mode & 0o777 == 0o600  # password and key digests
    expired, _ = TokenSigner(secret, -5).issue(1)
    fresh, _ = TokenSigner(secret, 60).issue(1)
    with live.client() as anon:
        assert anon.get("/v1/me", headers={"Authorization": f"Bearer {expired}"}).status_code == 401
        assert anon.get("/v1/me", headers={"Authorization": f"Bearer {fresh}"}).json()["user"] == "admin"


def test_nobody_grants_themselves_a_role(live: Live) -> None:
    with live.client("admin") as admin:
        r = admin.put("/v1/spaces/ops/members/admin", json={"role": "reader"})
        assert r.status_code == 403 and r.json()["error"]["code"] == "self_grant"
        assert admin.delete("/v1/spaces/ops/members/admin").status_code == 403
    with live.client("wendy") as wendy:  # a writer cannot promote herself, nor anyone else
        assert wendy.put("/v1/spaces/ops/members/wendy", json={"role": "admin"}).status_code == 403
        assert wendy.put("/v1/spaces/ops/members/nora", json={"role": "reader"}).status_code == 403
    with live.client("olga") as olga:  # admin of hr, stranger to ops
        assert olga.put("/v1/spaces/ops/members/olga", json={"role": "admin"}).status_code == 404
        assert olga.put("/v1/spaces/hr/members/olga", json={"role": "reader"}).status_code == 403
        assert olga.post("/v1/spaces", json={"name": "mine"}).status_code == 403  # not a server admin
        assert olga.post("/v1/users", json={"name": "olga2", "password": PASSWORD}).status_code == 403


def test_space_admin_grants_and_revokes(live: Live) -> None:
    with live.client("olga") as olga, live.client("nora") as nora:
        assert (
            nora.post("/v1/spaces/hr/ask", json={"question": "Who manages the payroll team?"}).status_code
            == 404
        )
        assert olga.put("/v1/spaces/hr/members/nora", json={"role": "reader"}).json() == {
            "user": "nora",
            "role": "reader",
        }
        answer = nora.post("/v1/spaces/hr/ask", json={"question": "Who manages the payroll team?"}).json()
        assert answer["text"] == "Mara Quinn"
        assert {"user": "nora", "role": "reader"} in olga.get("/v1/spaces/hr/members").json()["members"]
        assert olga.delete("/v1/spaces/hr/members/nora").status_code == 204
        assert (
            nora.post("/v1/spaces/hr/ask", json={"question": "Who manages the payroll team?"}).status_code
            == 404
        )


def test_api_keys_act_as_their_user(live: Live) -> None:
    with live.client("rita") as rita:
        key = rita.post("/v1/keys", json={"label": "script"}).json()["key"]
    assert key.startswith("sk-sutra-")
    db = (live.data_dir / "accounts.db").read_bytes()
    assert key.encode() not in db  # only a digest is stored
    with httpx.Client(base_url=live.url, headers={"Authorization": f"Bearer {key}"}, timeout=60) as program:
        me = program.get("/v1/me").json()
        assert me["user"] == "rita" and me["spaces"] == [{"name": "ops", "role": "reader"}]
        assert program.post("/v1/spaces/ops/learn", json={"text": "Keys cannot write."}).status_code == 403
        listed = program.get("/v1/keys").json()["keys"]
        assert "script" in [k["label"] for k in listed] and all(len(k["id"]) == 12 for k in listed)
        mine = next(k["id"] for k in listed if k["label"] == "script")
    with live.client("wendy") as wendy:  # someone else's key id is not yours to revoke
        assert wendy.delete(f"/v1/keys/{mine}").status_code == 404
    with httpx.Client(base_url=live.url, headers={"Authorization": f"Bearer {key}"}, timeout=60) as program:
        assert program.delete(f"/v1/keys/{mine}").status_code == 204
        assert program.get("/v1/me").status_code == 401  # revoked at once
