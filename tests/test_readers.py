from __future__ import annotations

from pathlib import Path

import pytest

from sutra.errors import InputError
from sutra.readers import collect_files, documents_from_text, read_paths

HANDBOOK = """# Ops

The disk is full.
The database stops.

```
code that is
not learned
```
## Rules
If the disk is full then the database stops.
"""


def test_markdown_paragraphs_with_offsets_and_titles(tmp_path: Path) -> None:
    path = tmp_path / "ops.md"
    path.write_text(HANDBOOK, encoding="utf-8")
    docs = list(read_paths([path]))
    assert [d.text for d in docs] == [
        "The disk is full. The database stops.",
        "If the disk is full then the database stops.",
    ]
    assert [d.title for d in docs] == ["Ops", "Rules"]
    for doc in docs:
        offset = int(doc.id.rsplit(":", 1)[1])
        assert doc.id.startswith(path.as_posix() + ":")
        assert HANDBOOK[offset:].startswith(doc.text.split(".")[0])


def test_txt_keeps_headings_as_text() -> None:
    docs = list(documents_from_text("# not a heading\n\nsecond\n", name="n.txt", suffix=".txt"))
    assert [(d.id, d.text) for d in docs] == [("n.txt:0", "# not a heading"), ("n.txt:17", "second")]


def test_csv_text_column_or_joined_row() -> None:
    csv_text = "id,text,time\nr1,Mary left.,2024-01-02\n,Bob came.,\n"
    with_text = list(documents_from_text(csv_text, name="a.csv", suffix=".csv"))
    assert [(d.id, d.text, d.time) for d in with_text] == [
        ("r1", "Mary left.", "2024-01-02"),
        ("a.csv:2", "Bob came.", None),
    ]
    joined = list(documents_from_text("host,status\nweb1,down\n", name="b.csv", suffix=".csv"))
    assert joined[0].text == "host: web1; status: down"


def test_jsonl_corpus_rows() -> None:
    first = '{"id": "c1", "text": "Mary went home.", "time": "2024-05-01", "meta": {"k": 1}}'
    text = first + '\n\n{"text": "x"}\n'
    docs = list(documents_from_text(text, name="c.jsonl", suffix=".jsonl"))
    assert docs[0].id == "c1" and docs[0].time == "2024-05-01" and docs[0].meta == {"k": 1}
    assert docs[1].id == "c.jsonl:3"


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("bad.jsonl", '{"id": "a", "text": "ok"}\n{broken\n', r"bad\.jsonl:2: not valid JSON"),
        ("list.jsonl", "[1, 2]\n", r"list\.jsonl:1: expected a JSON object"),
        ("blank.jsonl", '{"id": "a", "text": "  "}\n', r"blank\.jsonl:1: 'text' must be a non-empty string"),
        ("empty.md", "\n\n", r"empty\.md: file is empty"),
        ("code.md", "# Title\n\n```\nx\n```\n", r"code\.md: no text found"),
        ("wide.csv", "a,b\n1,2,3\n", r"wide\.csv:2: row has more cells"),
        ("data.xml", "<a/>", r"data\.xml: unknown format '\.xml'"),
    ],
)
def test_bad_input_names_file_and_line(tmp_path: Path, name: str, content: str, message: str) -> None:
    path = tmp_path / name
    path.write_text(content, encoding="utf-8")
    with pytest.raises(InputError, match=message):
        list(read_paths([path]))


def test_not_utf8(tmp_path: Path) -> None:
    path = tmp_path / "latin.txt"
    path.write_bytes("caf\xe9".encode("latin-1"))
    with pytest.raises(InputError, match="not UTF-8"):
        list(read_paths([path]))


def test_folders_are_walked_sorted_skipping_hidden_and_unknown(tmp_path: Path) -> None:
    (tmp_path / "b.txt").write_text("B.", encoding="utf-8")
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "a.md").write_text("A.", encoding="utf-8")
    (tmp_path / "notes.log").write_text("skipped", encoding="utf-8")
    (tmp_path / ".hidden.txt").write_text("skipped", encoding="utf-8")
    assert [p.name for p in collect_files([tmp_path])] == ["b.txt", "a.md"]


def test_missing_paths_and_empty_folders(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="no such file or folder"):
        collect_files([tmp_path / "nope.txt"])
    (tmp_path / "empty").mkdir()
    with pytest.raises(InputError, match="folder has no"):
        collect_files([tmp_path / "empty"])
