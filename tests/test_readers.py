from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from sutra.engine import MAX_TEXT_CHARS
from sutra.errors import InputError
from sutra.readers import (
    check_time,
    collect_files,
    documents_from_text,
    located_from_text,
    read_located,
    read_paths,
    select_files,
    validate_files,
)

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


# ---- line splitting, line numbers, the validating pass, what ingest leaves out ----


def test_csv_cells_keep_unicode_line_separators_and_quoted_newlines() -> None:
    text = 'id,text\nr1,"x\x85y \u2028z"\nr2,"multi\nline"\nr3,plain \x1c cell\n'
    located = list(located_from_text(text, name="a.csv", suffix=".csv"))
    assert [(line, d.id, d.text) for line, d in located] == [
        (2, "r1", "x\x85y \u2028z"),
        (3, "r2", "multi\nline"),
        (5, "r3", "plain \x1c cell"),
    ]


def test_csv_file_keeps_crlf_records_apart(tmp_path: Path) -> None:
    path = tmp_path / "rows.csv"
    path.write_bytes(b'id,text\r\nr1,"a\xc2\x85b"\r\nr2,c\r\n')
    assert [(w, d.text) for w, d in read_located([path])] == [
        (f"{path.as_posix()}:2", "a\x85b"),
        (f"{path.as_posix()}:3", "c"),
    ]


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ('id,text\nr1,ok\nr2,"never closed\nr3,z\n', r"u\.csv:3: malformed CSV: .*never closed"),
        ('id,text\nr1,"' + "y" * 200_000 + '"\n', r"u\.csv:2: malformed CSV: field larger than field limit"),
        ('id,text\nr1,"quoted"junk\n', r"u\.csv:2: malformed CSV"),
        ('"header never closed\n', r"u\.csv:1: malformed CSV: .*never closed"),
    ],
)
def test_malformed_csv_names_the_right_line(content: str, message: str) -> None:
    with pytest.raises(InputError, match=message):
        list(documents_from_text(content, name="u.csv", suffix=".csv"))


def test_jsonl_splits_on_newline_only() -> None:
    rows = [
        json.dumps({"id": "a", "text": "one\u2028two\x85three"}, ensure_ascii=False),
        "",
        json.dumps({"id": "b", "text": "four\u2029five"}, ensure_ascii=False),
        "{broken",
    ]
    text = "\n".join(rows) + "\n"
    docs = list(located_from_text(text.replace("{broken\n", ""), name="c.jsonl", suffix=".jsonl"))
    assert [(line, d.text) for line, d in docs] == [(1, "one\u2028two\x85three"), (3, "four\u2029five")]
    with pytest.raises(InputError, match=r"c\.jsonl:4: not valid JSON"):
        list(documents_from_text(text, name="c.jsonl", suffix=".jsonl"))


@pytest.mark.parametrize(
    "line",
    ["[" * 100_000 + "]" * 100_000, '{"id": "a", "text": ' + "[" * 100_000 + "]" * 100_000 + "}"],
)
def test_deeply_nested_jsonl_is_a_clean_error(line: str) -> None:
    with pytest.raises(InputError, match=r"deep\.jsonl:2: not valid JSON.*nested too deeply"):
        list(documents_from_text('{"text": "ok"}\n' + line + "\n", name="deep.jsonl", suffix=".jsonl"))


def test_huge_json_number_is_a_clean_error() -> None:
    with pytest.raises(InputError, match=r"n\.jsonl:1: not valid JSON"):
        list(
            documents_from_text(
                '{"text": "x", "meta": {"n": ' + "9" * 5000 + "}}\n", name="n.jsonl", suffix=".jsonl"
            )
        )


def _jsonl(path: Path, *rows: dict[str, object]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return path


def test_validating_pass_applies_the_engines_limits(tmp_path: Path) -> None:
    too_long = "x" * (MAX_TEXT_CHARS + 1)
    path = _jsonl(tmp_path / "c.jsonl", {"id": "a", "text": "Fine."}, {"id": "b", "text": too_long})
    with pytest.raises(InputError, match=r"c\.jsonl:2: document 'b' is .* characters, more than the"):
        validate_files([path])
    ok = _jsonl(tmp_path / "ok.jsonl", {"id": "a", "text": "x" * MAX_TEXT_CHARS})
    assert validate_files([ok]) == 1


@pytest.mark.parametrize(
    ("row", "message"),
    [
        ({"id": "a", "text": "bad \udcff byte"}, r"e\.jsonl:2: the text is not valid UTF-8 \(byte 0xff"),
        ({"id": "a\udc80", "text": "x"}, r"e\.jsonl:2: the document id is not valid UTF-8"),
        ({"id": "a\tb", "text": "x"}, r"e\.jsonl:2: the document id .*control character"),
        ({"id": "a", "text": "x", "time": "yesterday"}, r"e\.jsonl:2: time 'yesterday' is not an ISO-8601"),
    ],
)
def test_validating_pass_rejects_what_learning_would(
    tmp_path: Path, row: dict[str, str], message: str
) -> None:
    path = tmp_path / "e.jsonl"
    path.write_text('{"id": "ok", "text": "Fine."}\n' + json.dumps(row) + "\n", encoding="utf-8")
    with pytest.raises(InputError, match=message):
        validate_files([path])


def test_duplicate_ids_name_both_places(tmp_path: Path) -> None:
    first = _jsonl(tmp_path / "a.jsonl", {"id": "x", "text": "One."}, {"id": "y", "text": "Two."})
    second = tmp_path / "b.csv"
    second.write_text("id,text\nz,Three.\ny,Four.\n", encoding="utf-8")
    with pytest.raises(InputError, match=r"b\.csv:3: duplicate document id 'y' \(also at .*a\.jsonl:2\)"):
        validate_files([first, second])


def test_paragraphs_are_located_by_line(tmp_path: Path) -> None:
    path = tmp_path / "p.md"
    path.write_text("# T\n\nfirst para\nstill\n\n\nsecond\n", encoding="utf-8")
    located = [(w.rsplit(":", 1)[1], d.id.rsplit(":", 1)[1]) for w, d in read_located([path])]
    assert located == [("3", "5"), ("7", "24")]  # line of the paragraph, id keeps the character offset


def test_file_names_that_are_not_utf8_are_named_cleanly(tmp_path: Path) -> None:
    folder = tmp_path / "dir"
    folder.mkdir()
    (folder / os.fsdecode(b"caf\xe9.txt")).write_text("Hi.", encoding="utf-8")
    with pytest.raises(InputError, match=r"'.*dir/caf\\udce9\.txt': the file name is not valid UTF-8"):
        select_files([folder])


def test_sutra_spaces_and_the_data_directory_are_skipped(tmp_path: Path) -> None:
    (tmp_path / "notes.md").write_text("Mary went home.\n", encoding="utf-8")
    space = tmp_path / "space"  # the data directory being written to
    space.mkdir()
    (space / "audit.jsonl").write_text('{"id": "q:1"}\n', encoding="utf-8")
    other = tmp_path / "old" / "space"  # some other Sutra space under the folder
    other.mkdir(parents=True)
    for name in ("manifest.json", "wal.log"):
        (other / name).write_text("{}", encoding="utf-8")
    (other / "audit.jsonl").write_text("{}\n", encoding="utf-8")
    selection = select_files([tmp_path, tmp_path / "notes.md"], data_dir=space)
    assert selection.files == [tmp_path / "notes.md"]
    assert selection.skipped == [
        (other / "audit.jsonl", "inside a Sutra space"),
        (space / "audit.jsonl", "inside the data directory"),
        (tmp_path / "notes.md", "listed more than once"),
    ]
    with pytest.raises(InputError, match=r"nothing to ingest: .*audit\.jsonl is inside the data directory"):
        select_files([space], data_dir=space)


def test_time_check() -> None:
    check_time("2024-05-01", "--time")
    check_time("2024-05-01T14:30:00+02:00", "--time")
    with pytest.raises(InputError, match=r"--time '2024-13-01' is not an ISO-8601 date or datetime; e\.g\."):
        check_time("2024-13-01", "--time")
