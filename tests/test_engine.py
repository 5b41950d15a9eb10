"""The engine as a user sees it: learn, ask with explanations, refuse honestly, forget, audit, reopen."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from sutra.engine import MAX_QUESTION_CHARS, MAX_TEXT_CHARS, Sutra
from sutra.errors import InputError, NotFoundError
from sutra.learning import nlp
from sutra.model import ConceptKind, Document

HANDBOOK = [
    Document("h1", "If the disk is full then the database stops."),
    Document("h2", "If the database stops then the API gateway returns errors."),
    Document("h3", "The outage happened because the disk was full."),
    Document("h4", "Priya Nair owns the ledger database. The ledger database is located in Frankfurt."),
    Document(
        "h5", "The ledger database is a PostgreSQL cluster. A PostgreSQL cluster is a relational database."
    ),
]


@pytest.fixture
def handbook(make_space: Callable[..., Sutra]) -> Sutra:
    space = make_space()
    space.learn_documents(HANDBOOK)
    return space


def test_answer_cites_the_statement_and_source(handbook: Sutra) -> None:
    answer = handbook.ask("Where is the ledger database located?")
    assert answer.text == "Frankfurt"
    assert answer.sources == ["h4"]
    assert answer.paths[0].steps[0].statement == "The ledger database is located in Frankfurt."
    assert 0.5 < answer.confidence <= 1.0


def test_consequences_follow_the_chain_of_rules(handbook: Sutra) -> None:
    answer = handbook.ask("What happens if the disk is full?")
    assert answer.known
    assert "the database stops" in answer.items
    chain = max(answer.paths, key=lambda p: len(p.steps))
    assert [s.object for s in chain.steps] == ["the database stops", "the API gateway returns errors"]
    assert {"h1", "h2"} <= set(answer.sources)


def test_why_walks_back_to_the_cause(handbook: Sutra) -> None:
    answer = handbook.ask("Why did the outage happen?")
    # "the disk was full" and the rule's "the disk is full" are one event (same content lemmas)
    assert answer.text in ("the disk was full", "the disk is full")
    assert answer.sources == ["h3"]


def test_yes_no_through_class_membership(handbook: Sutra) -> None:
    answer = handbook.ask("Is the ledger database a PostgreSQL cluster?")
    assert answer.label == "yes"


def test_unknown_names_are_refused_with_a_reason(handbook: Sutra) -> None:
    answer = handbook.ask("Where is Gondolin?")
    assert not answer.known
    assert answer.text == "I don't know"
    assert "Gondolin" in answer.reason
    assert answer.sources == []


def test_relearning_reinforces_and_never_wipes(handbook: Sutra) -> None:
    before = handbook.stats()
    handbook.learn_documents(HANDBOOK[3:4])
    after = handbook.stats()
    assert after["concepts"] == before["concepts"]
    assert after["associations"] == before["associations"]
    assert handbook.ask("Where is the ledger database located?").text == "Frankfurt"
    statement = next(c for c in handbook.store.concepts(ConceptKind.STATEMENT) if "Frankfurt" in c.text)
    assert statement.strength >= 2


def test_forget_removes_only_what_came_from_that_source(handbook: Sutra) -> None:
    assert handbook.forget("h4") > 0
    assert not handbook.ask("Where is the ledger database located?").known
    assert handbook.ask("Is the ledger database a PostgreSQL cluster?").label == "yes"
    assert handbook.store.check() == []
    with pytest.raises(NotFoundError, match="no learned item cites source 'h4'"):
        handbook.forget("h4")  # already gone


def test_forgetting_an_unknown_source_is_an_error(make_space: Callable[..., Sutra]) -> None:
    space = make_space()
    with pytest.raises(NotFoundError, match="no learned item cites source 'nope'"):
        space.forget("nope")


def test_audit_record_is_retrievable(handbook: Sutra) -> None:
    answer = handbook.ask("Who owns the ledger database?")
    record = handbook.audit(answer.audit_id)
    assert record["question"] == "Who owns the ledger database?"
    assert record["text"] == answer.text
    with pytest.raises(NotFoundError):
        handbook.audit("q:0000000000000000")


def test_bad_input_gets_a_clear_error(handbook: Sutra) -> None:
    with pytest.raises(InputError, match="empty"):
        handbook.learn("   ")
    with pytest.raises(InputError, match="empty"):
        handbook.ask("")
    with pytest.raises(InputError, match="no text"):
        handbook.learn_documents([Document("x", "")])


def _doc(id: Any, text: Any, **fields: Any) -> Document:
    """A document with fields of any type, as a caller without a type checker might build it."""
    return Document(id, text, **fields)


def _empty(space: Sutra) -> bool:
    return space.stats()["concepts"] == 0


def test_texts_longer_than_the_parser_accepts_are_refused(make_space: Callable[..., Sutra]) -> None:
    assert nlp.load().max_length >= MAX_TEXT_CHARS  # spaCy refuses longer texts with a traceback (E088)
    space = make_space()
    too_long = "Mary went to the kitchen. " * (MAX_TEXT_CHARS // 26 + 1)
    with pytest.raises(InputError, match=r"characters, above the limit of 1,000,000.*split it"):
        space.learn(too_long)
    with pytest.raises(InputError, match=r"document 'big'.*split it"):
        space.learn_documents([Document("big", too_long)])
    with pytest.raises(InputError, match=r"question is 10,001 characters.*one short question"):
        space.ask("x" * (MAX_QUESTION_CHARS + 1))
    with pytest.raises(InputError, match="question is"):
        space.ask(too_long)
    assert _empty(space)


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda s: s.learn(123), r"text must be a string \(str\), got int"),
        (lambda s: s.learn(b"bytes"), r"text must be a string \(str\), got bytes"),
        (lambda s: s.learn("Fay likes tea.", source=123), r"source must be a string \(str\), got int"),
        (lambda s: s.learn("Fay likes tea.", source=["a"]), r"source must be a string \(str\), got list"),
        (lambda s: s.learn("Fay likes tea.", source=""), "source is empty"),
        (lambda s: s.learn("Fay likes tea.", time=2020), "time must be an ISO-8601 date.*got int"),
        (
            lambda s: s.learn("Fay likes tea.", time="yesterday"),
            "'yesterday' is not a valid date.*2024-05-01",
        ),
        (lambda s: s.learn("Fay likes tea.", time="2024-13-01"), "not a valid date"),
        (lambda s: s.learn_documents("abc"), "documents must be a list .* of sutra.Document, got str"),
        (lambda s: s.learn_documents(5), "documents must be a list .*got int"),
        (lambda s: s.learn_documents(Document("a", "b")), "got Document; to learn one text"),
        (
            lambda s: s.learn_documents([{"id": "a", "text": "b"}]),
            "document 0 must be a sutra.Document, got dict",
        ),
        (lambda s: s.learn_documents([_doc(5, "Fay likes tea.")]), "document 0: id must be a string.*int"),
        (lambda s: s.learn_documents([_doc("a", 5)]), "document 'a': text must be a string.*int"),
        (lambda s: s.learn_documents([_doc("a", "Fay.", time=5)]), "document 'a': time must be"),
        (lambda s: s.learn_documents([_doc("a", "Fay.", meta=[])]), "meta must be a dict"),
        (lambda s: s.ask(42), r"question must be a string \(str\), got int"),
        (lambda s: s.ask(None), r"question must be a string \(str\), got NoneType"),
        (lambda s: s.audit(None), r"audit id must be a string \(str\).*got NoneType"),
        (lambda s: s.audit(5), r"audit id must be a string \(str\).*got int"),
        (lambda s: s.audit(""), "audit id is empty"),
        (lambda s: s.forget(5), r"source must be a string \(str\), got int"),
    ],
)
def test_wrong_argument_types_name_the_argument(
    make_space: Callable[..., Sutra], call: Callable[[Any], object], message: str
) -> None:
    space = make_space()
    with pytest.raises(InputError, match=message):
        call(space)
    assert _empty(space)


def test_the_data_directory_must_be_a_path(tmp_path: Path) -> None:
    with pytest.raises(InputError, match=r"data_dir must be a path .*got int"):
        Sutra(5)  # type: ignore[arg-type]
    with pytest.raises(InputError, match="data_dir is empty"):
        Sutra("")


BAD_UTF8 = b"Fay \xff likes tea".decode("utf-8", errors="surrogateescape")  # how argv keeps invalid bytes


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda s: s.learn(BAD_UTF8), "text contains bytes that are not valid UTF-8 .at character 4"),
        (
            lambda s: s.learn("Fay likes tea.", source=BAD_UTF8),
            "source contains bytes that are not valid UTF-8",
        ),
        (
            lambda s: s.learn("Fay likes tea.", time="2024\udcff"),
            "time contains bytes that are not valid UTF-8",
        ),
        (
            lambda s: s.learn_documents([Document("ok", "Fine."), Document("d", BAD_UTF8)]),
            "text of document 'd'",
        ),
        (lambda s: s.learn_documents([Document(BAD_UTF8, "Fine.")]), "document 0: id contains bytes"),
        (lambda s: s.ask(f"Where is {BAD_UTF8}?"), "question contains bytes that are not valid UTF-8"),
        (lambda s: s.forget(BAD_UTF8), "source contains bytes that are not valid UTF-8"),
        (lambda s: s.audit("q:\udcff"), "audit id contains bytes that are not valid UTF-8"),
    ],
)
def test_invalid_utf8_is_refused_naming_the_argument(
    make_space: Callable[..., Sutra], call: Callable[[Any], object], message: str
) -> None:
    space = make_space()
    with pytest.raises(InputError, match=message):
        call(space)
    assert _empty(space)


@pytest.mark.parametrize(
    ("source", "message"),
    [
        ("s" * 1001, "is 1,001 characters; a source id may have at most 1,000"),
        ("notes\nmore", "contains the control character '\\n'"),
        ("tab\there", "contains the control character '\\t'"),
        ("bell\x07", "contains the control character '\\x07'"),
        ("line\u2028separator", "contains the control character"),
        ("   ", "is empty"),
    ],
)
def test_source_ids_are_short_single_lines(
    make_space: Callable[..., Sutra], source: str, message: str
) -> None:
    space = make_space()
    with pytest.raises(InputError, match=f"^source.*{re.escape(message)}"):
        space.learn("Fay likes tea.", source=source)
    with pytest.raises(InputError, match=f"^document 0: id.*{re.escape(message)}"):
        space.learn_documents([Document(source, "Fay likes tea.")])
    assert _empty(space)


def test_a_valid_iso_time_is_accepted(make_space: Callable[..., Sutra]) -> None:
    space = make_space()
    report = space.learn("Fay went to the garden.", source="f1", time="2024-05-01T09:30:00+02:00")
    assert report.documents == 1
    assert space.ask("Where is Fay?").text == "garden"


def test_one_bad_document_means_nothing_of_the_call_is_learned(make_space: Callable[..., Sutra]) -> None:
    space = make_space()
    good = [Document(f"d{i}", f"Person{i} went to the kitchen.") for i in range(70)]
    with pytest.raises(InputError, match="document 'bad' has no text"):
        space.learn_documents([*good, Document("bad", " ")], batch_size=8)
    assert _empty(space)  # not even the first batches of 8


def test_documents_may_come_from_a_generator_read_once(make_space: Callable[..., Sutra]) -> None:
    space = make_space()
    reads = 0

    def docs() -> Iterator[Document]:
        nonlocal reads
        reads += 1
        yield Document("g1", "Mary went to the kitchen.")
        yield Document("g2", "John went to the garden.")

    seen: list[int] = []
    report = space.learn_documents(docs(), batch_size=1, progress=seen.append)
    assert (report.documents, seen, reads) == (2, [1, 1], 1)
    assert space.ask("Where is John?").text == "garden"


def test_state_survives_reopen(tmp_path: Path, embedder: object) -> None:
    with Sutra(tmp_path / "kb", embedder=embedder) as space:  # type: ignore[arg-type]
        space.learn("Mary moved to the bathroom.", source="m1")
        space.learn("Mary went to the kitchen.", source="m2")
    with Sutra(tmp_path / "kb", embedder=embedder) as space:  # type: ignore[arg-type]
        answer = space.ask("Where is Mary?")
        assert (answer.text, answer.sources) == ("kitchen", ["m2"])
        assert space.store.check() == []


@pytest.mark.parametrize(
    ("question", "expected"),
    [
        ("What are the effects of high latency?", "request timeout"),
        ("What does high latency cause?", "request timeout"),
        ("What is the cause of request timeouts?", "high latency"),
        ("What causes high latency?", "slow query"),
    ],
)
def test_causes_and_effects_in_both_directions(
    make_space: Callable[..., Sutra], question: str, expected: str
) -> None:
    space = make_space()
    space.learn("Slow queries cause high latency. High latency causes request timeouts.", source="ops")
    answer = space.ask(question)
    assert answer.text == expected
    assert answer.sources == ["ops"]


def test_many_valued_relations_answer_with_a_list(make_space: Callable[..., Sutra]) -> None:
    space = make_space()
    space.learn_documents(
        [
            Document("1", "Mary picked up the apple."),
            Document("2", "Mary got the football."),
            Document("3", "John took the milk."),
        ]
    )
    for question in ("What is Mary carrying?", "What does Mary have?"):
        answer = space.ask(question)
        assert sorted(answer.items) == ["apple", "football"]
        assert sorted(answer.sources) == ["1", "2"]
    space.learn_documents([Document("4", "Mary dropped the apple.")])
    assert space.ask("What is Mary carrying?").items == ["football"]


def test_a_statement_that_only_restates_the_question_is_no_answer(make_space) -> None:
    space = make_space()
    space.learn("The disk is full.", source="observation")
    answer = space.ask("What happens if the disk is full?")
    assert not answer.known, answer.text  # it answered "The disk is full." with confidence 0.64
    space.learn("If the disk is full then the database stops.", source="runbook")
    assert space.ask("What happens if the disk is full?").text == "the database stops"


def test_a_timeline_or_contradiction_subject_may_be_named_with_its_article(handbook: Sutra) -> None:
    with_article = handbook.timeline("the ledger database")
    assert with_article == handbook.timeline("ledger database") and with_article
    assert handbook.contradictions("the ledger database") == handbook.contradictions("ledger database")
    with pytest.raises(NotFoundError, match="nothing is known about 'the moon'"):
        handbook.timeline("the moon")


def test_how_much_with_no_stored_amount_is_i_dont_know_not_zero(make_space: Callable[..., Sutra]) -> None:
    space = make_space()
    space.learn("The ledger database server has 16 GB of memory.", source="inventory")
    answer = space.ask("How much memory does the ledger database server have?")
    assert answer.status == "unknown" and answer.text != "0"


def test_a_duration_keeps_its_number_written_out_or_not(make_space: Callable[..., Sutra]) -> None:
    space = make_space()
    space.learn("Draining the consumers takes about five minutes. The backup takes 2 hours.", source="ops")
    assert space.ask("How long does draining the consumers take?").text == "about five minutes"
    assert space.ask("How long does the backup take?").text == "2 hours"


def test_how_many_reads_a_stated_amount_or_counts_things_held(make_space: Callable[..., Sutra]) -> None:
    space = make_space()
    space.learn("The cluster runs 3 replicas. Mary picked up the football. Mary took the apple.", source="a")
    space.learn("John went to the kitchen.", source="c")
    stated = space.ask("How many replicas does the cluster run?")
    assert stated.text == "3 replicas"
    assert stated.paths[0].steps[0].statement == "The cluster runs 3 replicas."
    assert space.ask("How many objects is Mary carrying?").text == "2"  # counted, not read
    space.learn("Mary dropped the football. Mary dropped the apple.", source="e")
    none_now = space.ask("How many objects is Mary carrying?")
    assert none_now.text == "0" and none_now.paths  # the evidence: what she held and let go
    space.learn("The job runs 2 or 3 workers. The job runs 10,000 tasks.", source="d")
    assert space.ask("How many workers does the job run?").text == "2 or 3 workers"
    assert space.ask("How many tasks does the job run?").text == "10,000 tasks"  # not the workers
    # "0" needs evidence as any answer does: nothing stored about what John holds is not "none"
    unstated = space.ask("How many objects is John carrying?")
    assert not unstated.known and "none can be counted" in unstated.reason
    space.learn("The cluster runs 5 replicas.", source="b")
    changed = space.ask("How many replicas does the cluster run?")
    assert changed.conflicts and {changed.text, *(alt.answer for alt in changed.alternatives)} >= {
        "3 replicas",
        "5 replicas",
    }


def test_an_answer_as_a_dict_is_a_deep_copy_like_asdict(handbook: Sutra) -> None:
    from dataclasses import asdict

    for question in ("What happens if the disk is full?", "Who owns the ledger database?", "Is Mars a dog?"):
        answer = handbook.ask(question)
        as_dict = answer.to_dict()
        assert as_dict == asdict(answer)
        for path in as_dict["paths"]:
            path["steps"][0]["sources"].append("changed")
        as_dict["plan"]["focus"].append("changed")
        assert answer.to_dict() == asdict(answer) != as_dict  # nothing of the answer itself was shared
