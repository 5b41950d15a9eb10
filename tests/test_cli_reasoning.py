"""The reasoning commands of the CLI: timeline, find, contradictions, ask --resolve."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from sutra.cli import app

runner = CliRunner()


def _learn(data: Path, text: str, source: str) -> None:
    result = runner.invoke(app, ["learn", text, "--source", source, "--data", str(data)])
    assert result.exit_code == 0, result.output


def test_timeline_find_and_contradictions(tmp_path: Path) -> None:
    data = tmp_path / "kb"
    _learn(data, "Mary moved to the bathroom.", "m1")
    _learn(data, "Mary went to the kitchen.", "m2")
    _learn(data, "The backup server is open.", "s1")
    _learn(data, "The backup server is closed.", "s2")

    result = runner.invoke(app, ["timeline", "Mary", "--data", str(data)])
    assert result.exit_code == 0
    assert result.output.index("bathroom") < result.output.index("kitchen")
    assert "no longer holds" in result.output

    result = runner.invoke(app, ["contradictions", "--data", str(data)])
    assert result.exit_code == 0 and "opposite" in result.output and "s1" in result.output

    result = runner.invoke(app, ["find", "--type", "negation", "--data", str(data)])
    assert result.exit_code == 0 and "nothing matches" in result.output

    result = runner.invoke(
        app, ["ask", "Is the backup server open?", "--resolve", "sources", "--data", str(data)]
    )
    assert result.exit_code == 0 and "contradicted" in result.output


def test_unknown_subject_and_bad_filter_are_clean_errors(tmp_path: Path) -> None:
    data = tmp_path / "kb"
    _learn(data, "Mary moved to the bathroom.", "m1")
    result = runner.invoke(app, ["timeline", "Gandalf", "--data", str(data)])
    assert result.exit_code != 0 and "Gandalf" in result.output and "Traceback" not in result.output
    result = runner.invoke(app, ["find", "--type", "poetry", "--data", str(data)])
    assert result.exit_code == 2 and "semantic type" in result.output
