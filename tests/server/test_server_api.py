"""The REST API end to end against a live server: learning, asking, streaming, browsing, deleting."""

from __future__ import annotations

import json
from pathlib import Path

import httpx
import orjson
from tests.server.conftest import Live

ERROR_KEYS = {"code", "message"}


def assert_error(response: httpx.Response, status: int, code: str | None = None) -> None:
    assert response.status_code == status, response.text
    body = response.json()
    assert set(body) == {"error"} and set(body["error"]) == ERROR_KEYS
    if code:
        assert body["error"]["code"] == code


def test_health_ready_and_security_headers(live: Live) -> None:
    with live.client() as c:
        health = c.get("/v1/health")
        assert health.json() == {"status": "ok"}
        assert health.headers["x-content-type-options"] == "nosniff"
        assert health.headers["x-frame-options"] == "DENY"
        assert "default-src 'none'" in health.headers["content-security-policy"]
        assert "strict-transport-security" not in health.headers  # plain HTTP here
        assert c.get("/v1/ready").json()["ready"] is True


def test_ask_explains_and_is_cached(live: Live) -> None:
    with live.client("rita") as c:
        first = c.post("/v1/spaces/ops/ask", json={"question": "Who owns the ledger database?"})
        assert first.status_code == 200, first.text
        answer = first.json()
        assert answer["text"] == "Priya Nair" and answer["status"] == "answered"
        assert answer["sources"] == ["runbook"] and answer["audit_id"]
        assert answer["paths"][0]["steps"][0]["statement"] == "Priya Nair owns the ledger database."
        again = c.post("/v1/spaces/ops/ask", json={"question": "Who owns the ledger database?"})
        assert again.json() == answer  # served from the answer cache: same audit id
        record = c.get(f"/v1/spaces/ops/audit/{answer['audit_id']}")
        assert record.status_code == 200 and record.json()["text"] == "Priya Nair"
        missing = c.get("/v1/spaces/ops/audit/q:doesnotexist")
        assert missing.status_code == 404 and "q:doesnotexist" in missing.json()["error"]["message"]
        assert str(live.data_dir) not in missing.text  # a caller learns no server path
        unknown = c.post("/v1/spaces/ops/ask", json={"question": "Who owns the billing service?"}).json()
        assert unknown["status"] == "unknown" and unknown["reason"]


def test_cache_is_invalidated_by_learning(live: Live) -> None:
    question = {"question": "Where is the cache server?"}
    with live.client("wendy") as c:
        before = c.post("/v1/spaces/ops/ask", json=question).json()
        assert before["status"] == "unknown"
        assert (
            c.post(
                "/v1/spaces/ops/learn", json={"text": "The cache server is in Paris.", "source": "s2"}
            ).status_code
            == 200
        )
        after = c.post("/v1/spaces/ops/ask", json=question).json()
        assert after["text"] == "Paris"
        assert c.delete("/v1/spaces/ops/sources/s2").json()["affected"] >= 1
        assert c.post("/v1/spaces/ops/ask", json=question).json()["status"] == "unknown"


def sse_events(response: httpx.Response) -> list[tuple[str, dict]]:
    events, name = [], None
    for line in response.iter_lines():
        if line.startswith("event: "):
            name = line[len("event: ") :]
        elif line.startswith("data: "):
            events.append((name, json.loads(line[len("data: ") :])))
    return events


def test_ask_stream_stages_in_order(live: Live) -> None:
    with (
        live.client("rita") as c,
        c.stream(
            "POST", "/v1/spaces/ops/ask/stream", json={"question": "What happens if the disk is full?"}
        ) as response,
    ):
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/event-stream")
        events = sse_events(response)
    names = [name for name, _ in events]
    assert names[0] == "first_candidate" and names[-2:] == ["consensus", "final"]
    assert set(names[1:-2]) == {"refinement"}
    assert events[0][1]["candidate"]["text"] == "If the disk is full then the database stops."
    final = events[-1][1]
    assert final["text"] == "the database stops" and final["paths"]
    assert events[-2][1]["text"] == final["text"]


def test_learn_batch_ingest_and_bad_input(live: Live) -> None:
    with live.client("wendy") as c:
        docs = [
            {"id": "d1", "text": "Bo is a cat."},
            {"id": "d2", "text": "Cats are mammals.", "time": "2024-05-01"},
        ]
        report = c.post("/v1/spaces/ops/learn/batch", json={"documents": docs}).json()
        assert report["documents"] == 2 and report["statements"] == 2
        assert_error(
            c.post("/v1/spaces/ops/learn/batch", json={"documents": [docs[0], docs[0]]}), 400, "invalid_input"
        )
        assert_error(
            c.post("/v1/spaces/ops/learn", json={"text": "x", "time": "not a date"}), 400, "invalid_input"
        )
        assert_error(c.post("/v1/spaces/ops/learn", json={"text": ""}), 422, "invalid_request")
        assert_error(
            c.post(
                "/v1/spaces/ops/learn", content=b"{not json", headers={"content-type": "application/json"}
            ),
            422,
        )
        upload = c.post(
            "/v1/spaces/ops/ingest", files={"file": ("notes.md", b"# Net\n\nThe router is in Cork.\n")}
        )
        assert upload.status_code == 200 and upload.json()["documents"] == 1
        assert_error(
            c.post("/v1/spaces/ops/ingest", files={"file": ("x.pdf", b"%PDF")}), 400, "invalid_input"
        )
        assert_error(
            c.post("/v1/spaces/ops/ingest", files={"file": ("x.txt", b"\xff\xfe bad")}), 400, "invalid_input"
        )
        bad_line = b'{"id": "a", "text": "ok"}\n{"id": "b"\n'
        assert_error(
            c.post("/v1/spaces/ops/ingest", files={"file": ("c.jsonl", bad_line)}), 400, "invalid_input"
        )
        # nothing of a refused file was learned
        assert c.get("/v1/spaces/ops/search", params={"q": "ok", "mode": "keyword"}).json()["results"] == []


def test_search_modes(live: Live) -> None:
    with live.client("rita") as c:
        for mode in ("keyword", "vector", "hybrid"):
            found = c.get("/v1/spaces/ops/search", params={"q": "who owns the ledger", "mode": mode}).json()
            assert found["mode"] == mode
            assert found["results"][0]["text"] == "Priya Nair owns the ledger database.", mode
        assert_error(c.get("/v1/spaces/ops/search", params={"q": "x", "mode": "psychic"}), 422)


def test_concepts_neighbourhood_paths(live: Live) -> None:
    with live.client("rita") as c:
        paths = c.get("/v1/spaces/ops/paths", params={"from": "Priya Nair", "to": "Ireland"}).json()
        best = paths["paths"][0]
        assert [n["text"] for n in best["nodes"]] == ["Priya Nair", "ledger database", "Dublin", "Ireland"]
        assert len(best["edges"]) == 3
        start = paths["start"][0]
        concept = c.get(f"/v1/spaces/ops/concepts/{start}").json()
        assert concept["text"] == "Priya Nair" and concept["kind"] == "entity"
        graph = c.get(f"/v1/spaces/ops/concepts/{start}/neighbourhood", params={"depth": 2}).json()
        ids = {n["id"] for n in graph["nodes"]}
        assert start in ids and {"Dublin", "ledger database"} <= {n["text"] for n in graph["nodes"]}
        assert all(e["source"] in ids and e["target"] in ids for e in graph["edges"])
        assert_error(c.get("/v1/spaces/ops/concepts/e:nope"), 404, "not_found")
        assert_error(c.get("/v1/spaces/ops/paths", params={"from": "Atlantis", "to": "Dublin"}), 404)


def test_timeline_causes_effects_contradictions_filter(live: Live) -> None:
    with live.client("wendy") as c:
        timeline = c.get("/v1/spaces/ops/timeline", params={"subject": "Priya Nair"}).json()
        assert timeline["entries"][0]["value"] == "ledger database"
        effects = c.get("/v1/spaces/ops/effects", params={"of": "the disk is full"}).json()
        assert effects["chains"][0]["answer"] == "the database stops"
        causes = c.get("/v1/spaces/ops/causes", params={"of": "the database stops"}).json()
        assert causes["chains"][0]["answer"] == "the disk is full"
        assert_error(c.get("/v1/spaces/ops/effects", params={"of": "the moon melts"}), 404)
        c.post("/v1/spaces/ops/learn", json={"text": "The tank is full.", "source": "p1"})
        c.post("/v1/spaces/ops/learn", json={"text": "The tank is not full.", "source": "p2"})
        found = c.get("/v1/spaces/ops/contradictions", params={"subject": "tank"}).json()["contradictions"]
        assert found and found[0]["kind"] == "negation"
        assert {s for claim in found[0]["claims"] for s in claim["sources"]} == {"p1", "p2"}
        rules = c.post("/v1/spaces/ops/filter", json={"semantic_type": "rule"}).json()["concepts"]
        assert [r["text"] for r in rules] == ["If the disk is full then the database stops."]
        assert_error(c.post("/v1/spaces/ops/filter", json={"since": "yesterday-ish"}), 400)


def test_delete_concept_and_export(live: Live) -> None:
    with live.client("wendy") as c:
        c.post("/v1/spaces/ops/learn", json={"text": "The kiosk is in Galway.", "source": "k1"})
        lines = [orjson.loads(line) for line in c.get("/v1/spaces/ops/export").text.splitlines()]
        kinds = {line["record"] for line in lines}
        assert kinds == {"concept", "association"}
        kiosk = next(line for line in lines if line["record"] == "concept" and line["text"] == "kiosk")
        ids = {line["id"] for line in lines if line["record"] == "concept"}
        assert all(line["source"] in ids for line in lines if line["record"] == "association")
        deleted = c.delete(f"/v1/spaces/ops/concepts/{kiosk['id']}").json()
        assert deleted["deleted"] == kiosk["id"] and deleted["affected"] >= 2
        assert_error(c.get(f"/v1/spaces/ops/concepts/{kiosk['id']}"), 404)
        assert_error(c.delete(f"/v1/spaces/ops/concepts/{kiosk['id']}"), 404)
        assert_error(c.delete("/v1/spaces/ops/sources/never-learned"), 404)
        stats = c.get("/v1/spaces/ops/stats").json()
        assert stats["statements"] >= 4 and "path" not in stats


def test_body_limit_and_unknown_routes(live: Live) -> None:
    with live.client("wendy") as c:
        big = b'{"text": "' + b"a" * (9 * 1024 * 1024) + b'"}'
        assert_error(
            c.post("/v1/spaces/ops/learn", content=big, headers={"content-type": "application/json"}),
            413,
            "too_large",
        )

        def chunked():  # no Content-Length: the server counts the bytes as they arrive
            for _ in range(10):
                yield b"a" * (1024 * 1024)

        assert_error(
            c.post("/v1/spaces/ops/learn", content=chunked(), headers={"content-type": "application/json"}),
            413,
        )
        assert_error(c.get("/v1/nothing-here"), 404, "not_found")
        assert_error(c.put("/v1/health"), 405, "method_not_allowed")


def test_error_messages_name_no_server_path(tmp_path: Path) -> None:
    from sutra.server.errors import without_paths

    data = tmp_path / "srv"
    message = f"cannot open the data directory {data}/spaces/ops: disk full; model in {Path.home()}/.cache/m"
    assert without_paths(message, data) == (
        "cannot open the data directory <data>/spaces/ops: disk full; model in ~/.cache/m"
    )
    assert without_paths("no audit record 'q:1' here", data) == "no audit record 'q:1' here"


def _raw_json(client: httpx.Client, path: str, body: str) -> httpx.Response:
    """POST JSON text as written, escapes and all (no JSON library encodes a lone surrogate)."""
    return client.post(path, content=body.encode("ascii"), headers={"content-type": "application/json"})


def test_odd_text_gets_a_clear_error_never_a_5xx(live: Live) -> None:
    with live.client("wendy") as c:
        for question in ("\u200b", "\x01\x7f", "\u0301"):  # zero-width, control, a lone combining mark
            refused = c.post("/v1/spaces/ops/ask", json={"question": question})
            assert_error(refused, 400, "invalid_input")
            assert "no words" in refused.json()["error"]["message"]
        assert_error(c.post("/v1/spaces/ops/learn", json={"text": "\x01\u200b"}), 400, "invalid_input")
        for mode in ("keyword", "vector", "hybrid"):
            found = c.get("/v1/spaces/ops/search", params={"q": "\x01", "mode": mode})
            assert_error(found, 400, "invalid_input")
            assert "no words" in found.json()["error"]["message"], mode
        chat = '{"model": "ops", "messages": [{"role": "user", "content": "Where is \\udc80?"}]}'
        assert_error(_raw_json(c, "/v1/chat/completions", chat), 422, "invalid_request")
        part = '{"type": "text", "text": "\\ud800"}'
        parts = '{"model": "ops", "messages": [{"role": "user", "content": [' + part + "]}]}"
        assert_error(_raw_json(c, "/v1/chat/completions", parts), 422, "invalid_request")
    with live.client("admin") as admin:
        odd_admin = _raw_json(admin, "/v1/spaces", '{"name": "sz", "admin": "\\ud800"}')
        assert_error(odd_admin, 422, "invalid_request")
        for name in ("nl\n", "bob\n"):  # a name is whole: no trailing newline slips through
            made = admin.post("/v1/spaces", json={"name": name})
            assert made.status_code in (400, 422), made.text
            user = admin.post("/v1/users", json={"name": name, "password": "password123"})
            assert user.status_code in (400, 422), user.text
    with live.client() as anon:
        odd = anon.get("/v1/me", headers={"Authorization": b"Bearer st.a.\xe9"})
        assert_error(odd, 401)
