"""The official `openai` package against the live server: chat, streaming chat, models."""

from __future__ import annotations

import openai
import pytest
from tests.server.conftest import Live


@pytest.fixture
def client(live: Live) -> openai.OpenAI:
    return openai.OpenAI(base_url=live.url + "/v1", api_key=live.keys["wendy"], max_retries=0, timeout=60)


def test_models_are_the_callers_spaces(client: openai.OpenAI) -> None:
    assert [m.id for m in client.models.list()] == ["ops"]


def test_chat_answers_the_last_user_message_with_explanation(client: openai.OpenAI) -> None:
    completion = client.chat.completions.create(
        model="ops",
        messages=[
            {"role": "system", "content": "You are a helpful assistant."},
            {"role": "user", "content": "Where is Paris?"},
            {"role": "assistant", "content": "I don't know"},
            {"role": "user", "content": "Who owns the ledger database?"},
        ],
    )
    assert completion.choices[0].message.content == "Priya Nair"
    assert completion.choices[0].finish_reason == "stop"
    explanation = completion.model_extra["sutra"]
    assert explanation["sources"] == ["runbook"] and explanation["paths"] and explanation["audit_id"]
    assert completion.usage.completion_tokens == 2


def test_system_messages_are_learned_only_on_request(client: openai.OpenAI) -> None:
    question = {"role": "user", "content": "Where is the archive?"}
    system = {"role": "system", "content": "The archive is in Lisbon."}
    ignored = client.chat.completions.create(model="ops", messages=[system, question])
    assert ignored.model_extra["sutra"]["status"] == "unknown"
    learned = client.chat.completions.create(
        model="ops", messages=[system, question], extra_body={"learn_system": True}
    )
    assert learned.choices[0].message.content == "Lisbon"


def test_streaming_chat(client: openai.OpenAI) -> None:
    stream = client.chat.completions.create(
        model="ops", messages=[{"role": "user", "content": "What happens if the disk is full?"}], stream=True
    )
    chunks = list(stream)
    text = "".join(c.choices[0].delta.content or "" for c in chunks)
    assert text == "the database stops"
    assert chunks[0].choices[0].delta.role == "assistant"
    assert chunks[-1].choices[0].finish_reason == "stop"
    assert chunks[-1].model_extra["sutra"]["text"] == text


def test_errors_reach_the_client_typed(client: openai.OpenAI) -> None:
    with pytest.raises(openai.NotFoundError):
        client.chat.completions.create(model="hr", messages=[{"role": "user", "content": "Who is Mara?"}])
    with pytest.raises(openai.BadRequestError):
        client.chat.completions.create(model="ops", messages=[{"role": "system", "content": "No question."}])
    bad = openai.OpenAI(base_url=client.base_url, api_key="sk-sutra-wrong", max_retries=0)
    with pytest.raises(openai.AuthenticationError):
        bad.models.list()
