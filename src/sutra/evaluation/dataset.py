"""Load and validate an evaluation set in the shared format (`corpus.jsonl` + `questions.jsonl`).

A folder with a `corpus.jsonl` and no `questions.jsonl` (WorldTree) is a corpus-only set: it loads with no
questions (`Dataset.ingest_only`) and is evaluated by learning the whole corpus once.

Every problem is an `InputError` naming the file and line. Ids a question refers to (`support`,
`context_ids`, `meta.task1_context_ids`, each a list of ids) must resolve; ids missing from the set's own
corpus are looked up in corpora given explicitly, then in the corpus-only folders beside it (EntailmentBank's
questions point into `../worldtree/corpus.jsonl`). Only the set's own files and explicit corpora must be
valid: a sibling folder whose corpus cannot be read is passed over (and named if ids stay missing), so an
unrelated broken folder next to the set never fails its run.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sutra.errors import InputError
from sutra.model import Document
from sutra.readers import document_from_json, parse_json_line

REFERENCE_FIELDS = ("support", "context_ids")
META_REFERENCE_FIELDS = ("task1_context_ids",)
LABELS = frozenset({"true", "false", "unknown", "yes", "no", "maybe"})


@dataclass(slots=True)
class Question:
    id: str
    question: str
    answers: list[str]
    label: str | None = None
    support: list[str] = field(default_factory=list)
    context_ids: list[str] = field(default_factory=list)
    meta: dict[str, Any] = field(default_factory=dict)

    @property
    def answer_kind(self) -> str:
        """`single`, `set` (bAbI task 8) or `ordered_list` (bAbI task 19)."""
        return str(self.meta.get("answer_kind") or "single")

    @property
    def group(self) -> str | None:
        """The breakdown key: `meta.task`, else `meta.category`, else none."""
        for key in ("task", "category"):
            if self.meta.get(key) is not None:
                return str(self.meta[key])
        return None

    def query(self, query_field: str | None) -> str:
        """The text to ask: `question`, or `meta.<field>` / a top-level field when one is named."""
        if not query_field:
            return self.question
        value = self.meta.get(query_field, getattr(self, query_field, None))
        if not isinstance(value, str) or not value.strip():
            raise InputError(
                f"question {self.id}: has no text field {query_field!r} (looked in meta and top level)"
            )
        return value


@dataclass(slots=True)
class Dataset:
    name: str
    path: Path
    corpus: dict[str, Document]  # every corpus row the set may use, in file order (own corpus first)
    questions: list[Question]
    corpus_files: list[Path] = field(default_factory=list)
    ingest_only: bool = False  # a corpus-only folder: nothing to ask, only learning to measure


def load_dataset(
    path: str | Path,
    *,
    extra_corpora: Sequence[str | Path] = (),
    tasks: Iterable[str] = (),
    per_group: int | None = None,
    limit: int | None = None,
) -> Dataset:
    """Read and validate a set, then keep: the questions of `tasks` (by `meta.task`/`meta.category`), the
    first `per_group` of each task/category (a quick estimate across all bAbI tasks), the first `limit`."""
    root = Path(path)
    if not root.is_dir():
        raise InputError(f"{root}: not a folder; give the folder that holds corpus.jsonl and questions.jsonl")
    questions_file = root / "questions.jsonl"
    own_corpus = root / "corpus.jsonl"
    for file in (questions_file, own_corpus):
        if file.exists() and not file.is_file():
            raise InputError(f"{file}: is a folder or other non-file; it must be a JSONL file")
    if not questions_file.is_file() and not own_corpus.is_file():
        raise InputError(
            f"{root}: no questions.jsonl or corpus.jsonl here; an evaluation folder holds questions.jsonl "
            "(usually with corpus.jsonl), or corpus.jsonl alone for an ingest-only run"
        )
    corpus_files = [own_corpus] if own_corpus.is_file() else []
    corpus_files += [_corpus_file(Path(p)) for p in extra_corpora]
    corpus: dict[str, Document] = {}
    for file in corpus_files:
        _read_corpus(file, corpus)
    if not questions_file.is_file():
        # Corpus-only: question filters (--task, --per-task, --limit) have nothing to select from.
        if not corpus:
            raise InputError(f"{own_corpus}: no documents in the file; nothing to learn")
        return Dataset(
            name=root.name,
            path=root,
            corpus=corpus,
            questions=[],
            corpus_files=corpus_files,
            ingest_only=True,
        )
    questions = _read_questions(questions_file)

    missing = _unresolved(questions, corpus)
    unreadable: list[str] = []
    if missing:
        missing = _from_siblings(root, questions, corpus, corpus_files, missing, unreadable)
    if missing:
        example = sorted(missing)[:3]
        passed_over = f" (unreadable corpora passed over: {'; '.join(unreadable)})" if unreadable else ""
        raise InputError(
            f"{questions_file}: {len(missing)} referenced corpus id(s) not found, e.g. {', '.join(example)}; "
            f"add the corpus that holds them with --corpus{passed_over}"
        )

    wanted = {str(t) for t in tasks}
    if wanted:
        questions = [q for q in questions if q.group in wanted]
        if not questions:
            raise InputError(f"{questions_file}: no question has task/category {', '.join(sorted(wanted))}")
    if per_group is not None:
        if per_group < 1:
            raise InputError(f"--per-task must be at least 1, got {per_group}")
        taken: dict[str | None, int] = {}
        kept = []
        for question in questions:
            taken[question.group] = taken.get(question.group, 0) + 1
            if taken[question.group] <= per_group:
                kept.append(question)
        questions = kept
    if limit is not None:
        if limit < 1:
            raise InputError(f"--limit must be at least 1, got {limit}")
        questions = questions[:limit]
    return Dataset(name=root.name, path=root, corpus=corpus, questions=questions, corpus_files=corpus_files)


def _from_siblings(
    root: Path,
    questions: Sequence[Question],
    corpus: dict[str, Document],
    corpus_files: list[Path],
    missing: set[str],
    unreadable: list[str],
) -> set[str]:
    """Resolve `missing` ids from corpus-only sibling folders (no questions of their own: shared fact
    corpora); returns the ids still missing. A sibling whose corpus fails to load is skipped and its error
    added to `unreadable`: it is not part of this set unless it holds the ids, and then the error says so."""
    here = root.resolve()
    try:
        siblings = sorted(p for p in here.parent.iterdir() if p.is_dir() and p != here)
    except OSError:
        return missing
    for sibling in siblings:
        shared = sibling / "corpus.jsonl"
        if not shared.is_file() or (sibling / "questions.jsonl").exists():
            continue
        rows: dict[str, Document] = {}
        try:
            _read_corpus(shared, rows)
        except InputError as exc:
            unreadable.append(str(exc))
            continue
        if missing & rows.keys():
            corpus_files.append(shared)
            for doc_id, doc in rows.items():
                corpus.setdefault(doc_id, doc)
            missing = _unresolved(questions, corpus)
        if not missing:
            break
    return missing


def _corpus_file(path: Path) -> Path:
    file = path / "corpus.jsonl" if path.is_dir() else path
    if not file.is_file():
        raise InputError(f"{path}: no corpus file here (expected a corpus.jsonl or a folder holding one)")
    return file


def _read_corpus(file: Path, corpus: dict[str, Document]) -> None:
    seen: set[str] = set()
    for number, line in _lines(file):
        doc = document_from_json(line, where=f"{file}:{number}")  # no default id: rows must carry one
        if doc.id in seen:
            raise InputError(f"{file}:{number}: duplicate corpus id {doc.id!r}")
        seen.add(doc.id)
        # a set's own corpus comes first and wins over a shared corpus with the same id
        corpus.setdefault(doc.id, doc)


def _read_questions(file: Path) -> list[Question]:
    questions: list[Question] = []
    seen: set[str] = set()
    for number, line in _lines(file):
        where = f"{file}:{number}"
        row = parse_json_line(line, where=where)
        if not isinstance(row, dict):
            raise InputError(f"{where}: expected a JSON object")
        question = _question(row, where)
        if question.id in seen:
            raise InputError(f"{where}: duplicate question id {question.id!r}")
        seen.add(question.id)
        questions.append(question)
    if not questions:
        raise InputError(f"{file}: no questions in the file")
    return questions


def _question(row: dict[str, Any], where: str) -> Question:
    for key in ("id", "question"):
        if not isinstance(row.get(key), str) or not row[key].strip():
            raise InputError(f"{where}: {key!r} must be a non-empty string")
    answers = row.get("answers", [])
    if not isinstance(answers, list) or not all(isinstance(a, str) for a in answers):
        raise InputError(f"{where}: 'answers' must be a list of strings")
    label = row.get("label")
    if label is not None and label not in LABELS:
        raise InputError(f"{where}: 'label' {label!r} is not one of {', '.join(sorted(LABELS))}")
    lists: dict[str, list[str]] = {}
    for key in REFERENCE_FIELDS:
        value = row.get(key) or []
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise InputError(f"{where}: {key!r} must be a list of corpus ids")
        lists[key] = value
    meta = row.get("meta") or {}
    if not isinstance(meta, dict):
        raise InputError(f"{where}: 'meta' must be a JSON object")
    for key in META_REFERENCE_FIELDS:
        value = meta.get(key)
        if value is not None and (not isinstance(value, list) or not all(isinstance(v, str) for v in value)):
            got = type(value).__name__ if not isinstance(value, list) else "a list with non-string items"
            raise InputError(f"{where}: 'meta.{key}' must be a list of corpus ids (strings), got {got}")
    return Question(
        id=row["id"],
        question=row["question"],
        answers=answers,
        label=label,
        support=lists["support"],
        context_ids=lists["context_ids"],
        meta=meta,
    )


def _lines(file: Path) -> Iterable[tuple[int, str]]:
    try:
        # newline="\n": a JSONL line ends at "\n" only (U+2028 and the like may stand raw inside strings)
        with file.open(encoding="utf-8", newline="\n") as handle:
            for number, line in enumerate(handle, start=1):
                if line.strip():
                    yield number, line
    except UnicodeDecodeError as exc:
        raise InputError(f"{file}: not UTF-8 text") from exc
    except OSError as exc:
        raise InputError(f"{file}: cannot read file: {exc.strerror or exc}") from exc


def referenced_ids(question: Question) -> list[str]:
    extra = [i for key in META_REFERENCE_FIELDS for i in question.meta.get(key) or []]
    return [*question.support, *question.context_ids, *extra]


def _unresolved(questions: Sequence[Question], corpus: dict[str, Document]) -> set[str]:
    return {i for q in questions for i in referenced_ids(q) if i not in corpus}
