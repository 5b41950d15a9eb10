"""Forgetting one of two overlapping real documents removes exactly what only it said.

Two documents are cut from one bAbI story so that they share their middle sentences. Learned alone, each
gives a set of statements and facts; learned together and then forgetting the first, the space must hold
what the second one gives alone: its exclusive facts gone, the shared ones kept with the second source, and
nothing of the first left in the entity, keyword or vector indexes, before and after a reopen.
"""

from __future__ import annotations

from tests.conftest import read_jsonl

from sutra.model import ConceptKind, Document


def story_documents(shared_data, size: int = 6, overlap: int = 2) -> tuple[Document, Document]:
    lines = [
        r
        for r in read_jsonl(shared_data / "babi" / "corpus.jsonl")
        if r["meta"].get("task") == 1 and r["meta"].get("story") == 1 and r["meta"].get("split") == "train"
    ]
    lines.sort(key=lambda r: r["meta"]["line"])
    assert len(lines) >= 2 * size - overlap, "the bAbI story is shorter than the test needs"
    first, second = lines[:size], lines[size - overlap : 2 * size - overlap]
    return (
        Document(id="story-part-1", text=" ".join(r["text"] for r in first)),
        Document(id="story-part-2", text=" ".join(r["text"] for r in second)),
    )


def contents(space) -> dict[str, set[str]]:
    store = space.store
    concepts = store.concepts()
    return {
        "statements": {c.id for c in concepts if c.kind == ConceptKind.STATEMENT},
        "entities": {c.id for c in concepts if c.kind == ConceptKind.ENTITY},
        "facts": {a.id for c in concepts for a in store.neighbors(c.id, "out")},
    }


def test_forgetting_one_overlapping_document_removes_only_its_exclusive_facts(make_space, shared_data):
    doc1, doc2 = story_documents(shared_data)
    alone1, alone2 = make_space("alone1"), make_space("alone2")
    alone1.learn_documents([doc1])
    alone2.learn_documents([doc2])
    only1, only2 = contents(alone1), contents(alone2)
    exclusive = {key: only1[key] - only2[key] for key in only1}
    shared = {key: only1[key] & only2[key] for key in only1}
    assert exclusive["statements"] and exclusive["facts"] and shared["statements"] and shared["facts"]
    exclusive_texts = {alone1.store.get_concept(cid).text for cid in exclusive["statements"]}
    exclusive_vectors = [alone1.store.get_concept(cid).vector for cid in exclusive["statements"]]

    both = make_space("both")
    both.learn_documents([doc1, doc2])
    assert contents(both)["facts"] >= only1["facts"] | only2["facts"]
    assert both.forget(doc1.id) > 0

    for reopened in (False, True):
        if reopened:
            both.close()
            both = make_space("both")
        store = both.store
        assert contents(both) == only2  # exactly what the second document gives on its own
        assert store.by_source(doc1.id) == []
        for cid in shared["statements"]:
            assert store.get_concept(cid).sources == [doc2.id]
        for aid in shared["facts"]:
            edge = store.get_association(aid)
            assert edge.sources == [doc2.id]
            assert all(h[1] in only2["statements"] for h in edge.history if h[1])
        for text in exclusive_texts:
            hits = {cid for cid, _ in store.search_text(text, k=50)}
            assert not hits & exclusive["statements"]
        for vector in exclusive_vectors:
            hits = {cid for cid, _ in store.search_vector(vector, k=50)}
            assert not hits & exclusive["statements"]
        assert store.stats()["vectors"] == len(only2["statements"])
        assert store.check() == []
