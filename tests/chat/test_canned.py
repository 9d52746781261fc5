"""Canned replies for agents (bot/chat/canned.py): per-language files, search, bad files."""

from __future__ import annotations

import os
import textwrap
from pathlib import Path

from bot.chat.canned import CannedReplies
from tests.support.faqs import ROOT


def write(directory: Path, name: str, body: str) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / name
    path.write_text(textwrap.dedent(body).lstrip(), encoding="utf-8")
    return path


EN = """
replies:
  - id: greeting
    title: Greeting
    text: Hello, thank you for waiting!
    tags: [start]
  - id: ask-order-number
    title: Ask for the order number
    text: Could you send me your **order number**?
"""
DE = """
replies:
  - id: greeting
    title: Begrüßung
    text: Hallo, danke für Ihre Geduld!
"""


def test_replies_come_in_the_language_asked_with_the_default_for_the_rest(tmp_path: Path) -> None:
    write(tmp_path, "en.yaml", EN)
    write(tmp_path, "de.yaml", DE)
    canned = CannedReplies(tmp_path, "en")
    got = [(m.reply.id, m.reply.language, m.fallback) for m in canned.search("de")]
    assert got == [("greeting", "de", False), ("ask-order-number", "en", True)]
    assert [m.reply.id for m in canned.search("en")] == ["ask-order-number", "greeting"]
    assert canned.languages() == ["de", "en"]
    assert canned.problems() == []


def test_search_needs_every_word_and_ranks_titles_first(tmp_path: Path) -> None:
    write(tmp_path, "en.yaml", EN)
    canned = CannedReplies(tmp_path, "en")
    assert [m.reply.id for m in canned.search("en", "ORDER number")] == ["ask-order-number"]
    assert [m.reply.id for m in canned.search("en", "waiting")] == ["greeting"]  # in the text
    assert [m.reply.id for m in canned.search("en", "start")] == ["greeting"]  # a tag
    assert canned.search("en", "order refund") == []


def test_bad_parts_are_reported_with_line_and_skipped(tmp_path: Path) -> None:
    path = write(tmp_path, "en.yaml", """
        replies:
          - id: good
            title: Good one
            text: Fine.
          - id: Bad Id
            title: x
            text: y
          - id: no-text
            title: Missing text
          - id: good
            title: Again
            text: twice
          - id: extra
            title: x
            text: y
            colour: red
    """)
    write(tmp_path, "english.yaml", EN)
    write(tmp_path, "fr.yaml", "replies: [unclosed\n")
    canned = CannedReplies(tmp_path, "en")
    problems = [str(p) for p in canned.problems()]
    assert f"{path}:5: id 'Bad Id': use lowercase letters, digits, '.', '_', '-'" in problems
    assert any(p.startswith(f"{path}:8:") and "'text' is missing" in p for p in problems)
    assert any(p.startswith(f"{path}:10:") and "used twice" in p for p in problems)
    assert any(p.startswith(f"{path}:16:") and "unknown key 'colour'" in p for p in problems)
    assert any("english.yaml:1: the file name must be a language code" in p for p in problems)
    assert any("fr.yaml" in p and "not valid YAML" in p for p in problems)
    assert [m.reply.id for m in canned.search("en")] == ["good"]


def test_files_are_read_again_when_they_change(tmp_path: Path) -> None:
    path = write(tmp_path, "en.yaml", EN)
    canned = CannedReplies(tmp_path, "en")
    assert len(canned.search("en")) == 2
    path.write_text(EN + "  - id: new\n    title: New\n    text: New text\n", encoding="utf-8")
    os.utime(path, ns=(path.stat().st_atime_ns, path.stat().st_mtime_ns + 1_000_000))
    assert len(canned.search("en")) == 3
    assert CannedReplies(tmp_path / "missing", "en").search("en") == []


def test_the_shipped_examples_are_valid() -> None:
    canned = CannedReplies(ROOT / "canned_replies", "en")
    assert canned.problems() == []
    assert {"en", "de"} <= set(canned.languages())
    assert all(not m.fallback for m in canned.search("de") if m.reply.id == "ask-photo")
