"""`lienthong normalize --profile P FILE` prints the normalized document for every profile."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bridge.cli import main
from tests.corpus_path import CORPUS as CORPUS_ROOT

CORPUS = CORPUS_ROOT


def _first_line(name: str, tmp_path: Path) -> Path:
    line = (CORPUS / name).read_text(encoding="utf-8").splitlines()[0]
    path = tmp_path / f"{name}.item.json"
    path.write_text(line, encoding="utf-8")
    return path


@pytest.mark.parametrize(
    ("profile", "source", "number"),
    [
        ("moffice", "moffice.jsonl", "79"),
        ("tdoffice", "tdoffice.jsonl", "1"),
        ("voffice", "voffice.jsonl", None),
        ("idesk", "idesk.xml", None),
        ("vxp", "vxp/001.edxml", None),
        ("mailbox", "mailbox/001.eml", None),
        ("folder", "folder/VB20230517_0001.json", None),
    ],
)
def test_normalize_prints_a_document(
    profile: str,
    source: str,
    number: str | None,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """Each profile's raw record becomes a JSON document with an issuer and a subject."""
    path = _first_line(source, tmp_path) if source.endswith(".jsonl") else CORPUS / source
    assert main(["normalize", "--profile", profile, str(path)]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["issuer"]["name"] or doc["issuer"]["code"]
    assert doc["subject"]
    if number is not None:
        assert doc["number"] == number


def test_normalize_refuses_hostile_input_with_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """An XXE document is refused with exit 1 and a one-line reason, nothing on stdout."""
    assert main(["normalize", "--profile", "idesk", str(CORPUS / "idesk" / "003.xml")]) == 1
    captured = capsys.readouterr()
    assert captured.out == "" and len(captured.err.strip().splitlines()) == 1


def test_normalize_unknown_profile_and_missing_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """An unknown profile or an unreadable file exits 1 with a reason."""
    assert main(["normalize", "--profile", "nosuch", str(tmp_path / "x")]) == 1
    assert main(["normalize", "--profile", "moffice", str(tmp_path / "missing.json")]) == 1
    assert "nosuch" in capsys.readouterr().err
