"""bot/faq/swap.py: edits take turns across processes, and a file changed meanwhile is re-edited.

A "hand save" here is a real write of the YAML file at the moment an edit has read it and is
about to replace it (hooked in after the edit's own checks), as a lead saving in an editor
would do; nothing of the edit itself is faked.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from bot.errors import ConflictError
from bot.faq import swap
from bot.faq.edit import add_entry, add_phrasings, edit_answer
from bot.faq.load import load_faq, load_valid_faq
from tests.support.faqs import ROOT

SHOP = textwrap.dedent("""\
    # Owned by Dana.
    entries:
      - id: returns-window
        questions:
          en: [How long do I have to return an item?]
        answer:
          en: You can return most items within 30 days of delivery.
      - id: shipping-time
        questions:
          en: [How long does delivery take?]
        answer:
          en: Delivery takes 2 to 4 working days.
    """)


@pytest.fixture()
def faq_dir(tmp_path: Path) -> Path:
    d = tmp_path / "faq"
    d.mkdir()
    (d / "shop.yaml").write_text(SHOP, encoding="utf-8")
    return d


@pytest.fixture()
def hand_saves(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[Callable[[], None]]]:
    """Saves a lead makes "by hand" while an edit is between reading and replacing the file.

    Each check an edit passes before its compare-and-swap runs the next save in the list.
    """
    saves: list[Callable[[], None]] = []
    checked = swap._check_expected

    def check_then_save(*args: object, **kw: object) -> None:
        checked(*args, **kw)  # type: ignore[arg-type]
        if saves:
            saves.pop(0)()

    monkeypatch.setattr(swap, "_check_expected", check_then_save)
    yield saves
    assert saves == [], "a hand save was not reached"


def questions(faq_dir: Path, entry_id: str) -> tuple[str, ...]:
    return {e.id: e for e in load_valid_faq(faq_dir)}[entry_id].questions["en"]


def test_a_file_saved_meanwhile_gets_the_edit_on_its_new_bytes(
    faq_dir: Path, hand_saves: list[Callable[[], None]]
) -> None:
    shop = faq_dir / "shop.yaml"
    by_hand = SHOP.replace("[How long does delivery take?]",
                           "[How long does delivery take?, Delivery time?]")
    hand_saves.append(lambda: shop.write_text(by_hand, encoding="utf-8"))
    add_phrasings(faq_dir, "returns-window", "en", ["Return period?"], "lead")
    # Both kept: the lead's save (another entry) and the edit, re-run on the saved bytes.
    assert questions(faq_dir, "shipping-time") == ("How long does delivery take?",
                                                    "Delivery time?")
    assert questions(faq_dir, "returns-window") == ("How long do I have to return an item?",
                                                     "Return period?")
    assert shop.read_text(encoding="utf-8").startswith("# Owned by Dana.\n")


def test_an_entry_removed_meanwhile_is_a_conflict_and_the_save_stays(
    faq_dir: Path, hand_saves: list[Callable[[], None]]
) -> None:
    shop = faq_dir / "shop.yaml"
    without = SHOP.split("  - id: shipping-time")[0]
    hand_saves.append(lambda: shop.write_text(without, encoding="utf-8"))
    with pytest.raises(ConflictError, match="changed meanwhile; reload and try again"):
        add_phrasings(faq_dir, "shipping-time", "en", ["Delivery time?"], "lead")
    assert shop.read_text(encoding="utf-8") == without


def test_an_answer_rewritten_meanwhile_is_a_conflict_not_overwritten(
    faq_dir: Path, hand_saves: list[Callable[[], None]]
) -> None:
    shop = faq_dir / "shop.yaml"
    seen = "Delivery takes 2 to 4 working days."
    by_hand = SHOP.replace(seen, "Delivery takes 1 to 3 working days.")
    hand_saves.append(lambda: shop.write_text(by_hand, encoding="utf-8"))
    with pytest.raises(ConflictError, match="changed since you opened it"):
        edit_answer(faq_dir, "shipping-time", "en", "Delivery takes 3 days.", "lead",
                    expected=seen)
    assert shop.read_text(encoding="utf-8") == by_hand


def test_a_file_that_keeps_changing_is_refused_after_a_few_tries(
    faq_dir: Path, hand_saves: list[Callable[[], None]]
) -> None:
    shop = faq_dir / "shop.yaml"
    for n in range(swap.CAS_ATTEMPTS):
        hand_saves.append(lambda n=n: shop.write_text(SHOP + f"# save {n}\n", encoding="utf-8"))
    with pytest.raises(ConflictError, match="changed meanwhile"):
        add_phrasings(faq_dir, "returns-window", "en", ["Return period?"], "lead")
    assert shop.read_text(encoding="utf-8").endswith(f"# save {swap.CAS_ATTEMPTS - 1}\n")


def test_a_new_file_created_meanwhile_gets_the_entry_appended(
    faq_dir: Path, hand_saves: list[Callable[[], None]]
) -> None:
    gifts = faq_dir / "gifts.yaml"
    by_hand = textwrap.dedent("""\
        entries:
          - id: gift-wrap
            questions:
              en: [Do you gift wrap?]
            answer:
              en: Yes, for 3 euros.
        """)
    hand_saves.append(lambda: gifts.write_text(by_hand, encoding="utf-8"))
    add_entry(faq_dir, "gifts", {"id": "gift-cards", "questions": {"en": ["Gift cards?"]},
                                 "answer": {"en": "Yes."}}, "lead")
    ids = [e.id for e in load_valid_faq(faq_dir) if e.path.endswith("gifts.yaml")]
    assert ids == ["gift-wrap", "gift-cards"]


def test_the_lock_lies_beside_the_folder_or_inside_a_read_only_parent(
    faq_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert swap.edit_lock_path(faq_dir) == faq_dir.parent / ".faq.edit.lock"
    assert swap.edit_lock_path(faq_dir / ".." / "faq") == faq_dir.parent / ".faq.edit.lock"
    # Tests run as root, for whom nothing is read-only: a stand-in for a read-only mount.
    monkeypatch.setattr(swap.os, "access", lambda path, mode: Path(path) != faq_dir.parent)
    assert swap.edit_lock_path(faq_dir) == faq_dir / ".faqbot-edit.lock"
    add_phrasings(faq_dir, "returns-window", "en", ["Return period?"], "lead")
    assert "Return period?" in questions(faq_dir, "returns-window")


# Run in separate processes (as the workers of `faqbot serve --workers 2` are): each adds its
# phrasings one edit at a time, to both entries of one file.
WRITER = """
import sys, time
from pathlib import Path
from bot.faq.edit import add_phrasings
faq_dir, tag, n, start = Path(sys.argv[1]), sys.argv[2], int(sys.argv[3]), Path(sys.argv[4])
while not start.exists():
    time.sleep(0.001)
for i in range(n):
    for entry, text in (("returns-window", "Return"), ("shipping-time", "Delivery")):
        try:
            add_phrasings(faq_dir, entry, "en", [f"{text} question {tag} {i}?"], tag)
        except Exception as exc:
            print(f"{entry} {i}: {type(exc).__name__}: {exc}", flush=True)
"""


def test_edits_from_two_processes_all_land(faq_dir: Path, tmp_path: Path) -> None:
    n = 12
    start = tmp_path / "start"
    procs = [
        subprocess.Popen([sys.executable, "-c", WRITER, str(faq_dir), tag, str(n), str(start)],
                         cwd=ROOT, stdout=subprocess.PIPE, text=True)
        for tag in "ab"
    ]
    start.touch()
    failures = [line for p in procs for line in p.communicate(timeout=120)[0].splitlines()]
    assert failures == []
    assert not load_faq(faq_dir).errors
    got = set(questions(faq_dir, "returns-window")) | set(questions(faq_dir, "shipping-time"))
    wanted = {f"{text} question {tag} {i}?" for text in ("Return", "Delivery") for tag in "ab"
              for i in range(n)}
    assert wanted - got == set()  # every acknowledged edit is in the file
