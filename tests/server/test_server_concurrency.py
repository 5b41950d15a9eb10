"""Many clients at once: asks of one space run side by side and answer as they do one at a time; a learn
runs alone, and asks after it see what it learned."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

from tests.server.conftest import Live

QUESTIONS = [
    "Who owns the ledger database?",
    "Where is the ledger database?",
    "Is the ledger database in Ireland?",
    "What happens if the disk is full?",
    "What stops the database?",
    "Is Dublin in Ireland?",
    "Who owns the payroll?",
    "Where is Priya Nair?",
]


def _ask(live: Live, question: str) -> dict[str, object]:
    with live.client("admin") as c:
        response = c.post("/v1/spaces/ops/ask", json={"question": question})
        assert response.status_code == 200, response.text
        body = response.json()
    return {k: body[k] for k in ("text", "status", "confidence", "sources", "paths")}


def test_concurrent_asks_answer_as_sequential_ones(live: Live) -> None:
    # distinct wordings (the trailing spaces are kept) so the answer cache serves none of them
    alone = {q: _ask(live, q + " ") for q in QUESTIONS}
    wanted = [(q, q + " " * (2 + i)) for i in range(4) for q in QUESTIONS]
    with ThreadPoolExecutor(max_workers=16) as pool:
        together = list(pool.map(lambda item: (item[0], _ask(live, item[1])), wanted))
    for question, answer in together:
        assert answer == alone[question], question
    assert alone["Who owns the ledger database?"]["text"] == "Priya Nair"


def test_a_learn_among_concurrent_asks_is_seen_by_the_asks_after_it(live: Live) -> None:
    question = "Who maintains the billing service?"
    with ThreadPoolExecutor(max_workers=8) as pool:
        asks = [pool.submit(_ask, live, f"{q} (round {i})") for i in range(3) for q in QUESTIONS]
        with live.client("admin") as c:
            learned = c.post(
                "/v1/spaces/ops/learn", json={"text": "Omar Haddad maintains the billing service."}
            )
        assert learned.status_code == 200, learned.text
        assert all(f.result()["status"] in ("answered", "unknown") for f in asks)
    assert _ask(live, question)["text"] == "Omar Haddad"
