"""Tests for round-trip FAQ editing: the lead's bytes survive, bad edits never land."""

from __future__ import annotations

import shutil
import textwrap
import threading
from pathlib import Path

import pytest

from bot.errors import ConflictError, FaqError, InputError, NotFoundError
from bot.faq.edit import add_entry, add_phrasings, set_answers
from bot.faq.load import load_faq, load_valid_faq, parse_file
from tests.support.faqs import ROOT

# Comments everywhere, mixed quoting, flow and block lists, folded and literal answers, an
# odd indent: everything a lead may write and expects to find again after an edit.
LEAD_FILE = """\
# Returns - owned by Dana. Keep entries sorted by how often shoppers ask.
entries:
  # The most asked question of all.
  - id: returns-window   # do not rename: linked from the help centre
    category: returns
    tags: [returns,  policy]
    questions:
      en:
        - "Return policy?"
        - 'How long do I have to return an item?'
      de: [Rückgabefrist?, Wie lange kann ich zurückgeben?]
    answer:
      en: >-
        You can return items within **30 days of delivery**, as long as they are unworn
        and still have their tags.
      de: |-
        Du kannst Artikel innerhalb von 30 Tagen zurückschicken.

  # Labels are free inside the EU only.
  - id: return-label
    questions:
      en:
        - Where do I get a return label?   # shoppers say "slip" too
        - "Return slip?"
    answer:
      en: Print the label from your order page.     # keep short
      fr: Imprimez l'étiquette depuis la page de votre commande.
    # reviewed by legal 2024-03

  # ---- exchanges ----
  - id: exchange
    questions:
      en: [Can I exchange an item?]
    answer:
      en: Yes, choose "exchange" when you register the return.
# end of file: new entries go above this line
"""


@pytest.fixture()
def faq_dir(tmp_path: Path) -> Path:
    d = tmp_path / "faq"
    d.mkdir()
    (d / "returns.yaml").write_text(LEAD_FILE, encoding="utf-8")
    (d / "other.yaml").write_text(
        textwrap.dedent("""\
            entries:
              - id: shipping-time
                questions:
                  en: [How long does delivery take?]
                answer:
                  en: Delivery takes 2 to 4 working days.
            """),
        encoding="utf-8",
    )
    return d


def _entry_block(text: str, entry_id: str) -> tuple[str, str, str]:
    """Split a file into (before, the entry's lines, after) on the '- id:' lines."""
    lines = text.splitlines(keepends=True)
    starts = [i for i, ln in enumerate(lines) if ln.lstrip().startswith("- id:")]
    i = next(n for n, s in enumerate(starts) if f"- id: {entry_id}" in lines[s])
    start = starts[i]
    end = starts[i + 1] if i + 1 < len(starts) else len(lines)
    return "".join(lines[:start]), "".join(lines[start:end]), "".join(lines[end:])


def _content_end(block: str) -> str:
    """Return the block without the comments and blank lines trailing it."""
    lines = block.splitlines(keepends=True)
    while lines and (not lines[-1].strip() or lines[-1].lstrip().startswith("#")):
        lines.pop()
    return "".join(lines)


def test_add_phrasings_keeps_every_byte_outside_the_entry(faq_dir: Path) -> None:
    path = faq_dir / "returns.yaml"
    before_text = path.read_text(encoding="utf-8")
    other_before = (faq_dir / "other.yaml").read_bytes()

    got = add_phrasings(faq_dir, "return-label", "de", ["Rücksendeetikett?"], "dana")

    assert got == path
    after_text = path.read_text(encoding="utf-8")
    b_pre, b_entry, b_post = _entry_block(before_text, "return-label")
    a_pre, a_entry, a_post = _entry_block(after_text, "return-label")
    assert a_pre == b_pre
    assert a_post == b_post
    # Inside the entry the lead's lines are kept too; only the new language is added.
    assert a_entry.startswith(_content_end(b_entry).split("    answer:")[0])
    assert '      de:\n        - "Rücksendeetikett?"\n' in a_entry
    assert "# shoppers say \"slip\" too" in a_entry
    assert a_entry.endswith("    # reviewed by legal 2024-03\n\n  # ---- exchanges ----\n")
    assert (faq_dir / "other.yaml").read_bytes() == other_before
    entry = {e.id: e for e in load_valid_faq(faq_dir)}["return-label"]
    assert entry.questions["de"] == ("Rücksendeetikett?",)


def test_phrasing_joins_an_existing_list_in_its_style(faq_dir: Path) -> None:
    path = faq_dir / "returns.yaml"
    add_phrasings(faq_dir, "returns-window", "en", ["Can I still send it back?"], "dana")
    text = path.read_text(encoding="utf-8")
    assert (
        "        - 'How long do I have to return an item?'\n"
        '        - "Can I still send it back?"\n' in text
    )
    add_phrasings(faq_dir, "returns-window", "de", ["Rückgabe?"], "dana")
    text = path.read_text(encoding="utf-8")
    assert "      de: [Rückgabefrist?, Wie lange kann ich zurückgeben?, Rückgabe?]\n" in text
    # The first line's comment and the odd spacing in the flow list survive.
    assert "  - id: returns-window   # do not rename: linked from the help centre\n" in text
    assert "    tags: [returns,  policy]\n" in text


def test_last_entry_edit_keeps_the_trailing_comment_last(faq_dir: Path) -> None:
    path = faq_dir / "returns.yaml"
    set_answers(faq_dir, "exchange", {"de": "Ja, wähle „Umtausch“."}, True, "translator")
    text = path.read_text(encoding="utf-8")
    assert text.endswith(
        "      de: Ja, wähle „Umtausch“.\n"
        "    drafts: [de]\n"
        "# end of file: new entries go above this line\n"
    )
    assert text.startswith(LEAD_FILE.split("  - id: exchange")[0])


def test_every_shipped_file_survives_an_edit_byte_for_byte(tmp_path: Path) -> None:
    faq = tmp_path / "faq"
    shutil.copytree(ROOT / "faq_data", faq)
    for path in sorted(faq.glob("*.yaml")):
        entries = parse_file(path).entries
        # Edit the middle entry of each file: both neighbours must stay as they were.
        target = entries[len(entries) // 2]
        before = path.read_text(encoding="utf-8")
        others = {p.name: p.read_bytes() for p in faq.glob("*.yaml") if p != path}
        set_answers(faq, target.id, {"sw": "Jibu la majaribio."}, True, "test")
        after = path.read_text(encoding="utf-8")
        b_pre, b_entry, b_post = _entry_block(before, target.id)
        a_pre, a_entry, a_post = _entry_block(after, target.id)
        assert (a_pre, a_post) == (b_pre, b_post), path.name
        assert a_entry.startswith(_content_end(b_entry)), path.name
        assert {p.name: p.read_bytes() for p in faq.glob("*.yaml") if p != path} == others
        edited = {e.id: e for e in parse_file(path).entries}[target.id]
        assert edited.answer["sw"] == "Jibu la majaribio."
        assert "sw" in edited.drafts


def test_duplicate_phrasing_is_refused_and_nothing_changes(faq_dir: Path) -> None:
    before = {p.name: p.read_bytes() for p in faq_dir.iterdir()}
    with pytest.raises(FaqError) as err:
        add_phrasings(faq_dir, "shipping-time", "en", ["return policy"], "dana")
    message = str(err.value)
    assert "other.yaml:" in message
    assert "'return policy' of entry 'shipping-time' is the same as 'Return policy?'" in message
    assert {p.name: p.read_bytes() for p in faq_dir.iterdir()} == before  # no temp file left


def test_a_bad_edit_is_refused_with_path_and_line(faq_dir: Path) -> None:
    before = {p.name: p.read_bytes() for p in faq_dir.iterdir()}
    with pytest.raises(FaqError) as err:
        add_phrasings(faq_dir, "exchange", "en", ["x" * 1001], "dana")
    assert str(err.value).startswith(f"{faq_dir / 'returns.yaml'}:")
    assert "the limit is 1000" in str(err.value)
    with pytest.raises(FaqError) as err2:
        add_entry(faq_dir, "returns", {"id": "no-english", "questions": {"de": ["Hallo?"]},
                                       "answer": {"de": "Hallo."}}, "dana")
    assert "no answer in the default language 'en'" in str(err2.value)
    with pytest.raises(FaqError, match="id 'exchange' is also used"):
        add_entry(faq_dir, "other", {"id": "exchange", "questions": {"en": ["Swap?"]},
                                     "answer": {"en": "Yes."}}, "dana")
    assert {p.name: p.read_bytes() for p in faq_dir.iterdir()} == before


def test_bad_arguments_are_refused_before_reading(faq_dir: Path) -> None:
    with pytest.raises(InputError):
        add_phrasings(faq_dir, "exchange", "xx", ["Hi"], "dana")
    with pytest.raises(InputError):
        set_answers(faq_dir, "exchange", {"de": "  "}, True, "dana")
    with pytest.raises(InputError):
        add_entry(faq_dir, "../evil", {"id": "e"}, "dana")
    with pytest.raises(NotFoundError):
        add_phrasings(faq_dir, "no-such-entry", "en", ["Hi"], "dana")


def test_drafts_never_overwrite_a_reviewed_answer(faq_dir: Path) -> None:
    path = faq_dir / "returns.yaml"
    before = path.read_bytes()
    with pytest.raises(ConflictError, match="reviewed answer in fr"):
        set_answers(faq_dir, "return-label", {"fr": "Autre.", "de": "Etikett."}, True, "bot")
    assert path.read_bytes() == before

    set_answers(faq_dir, "return-label", {"de": "Drucke das Etikett.", "es": "Imprime."}, True,
                "bot")
    entry = {e.id: e for e in load_valid_faq(faq_dir)}["return-label"]
    assert entry.drafts == ("de", "es")
    assert entry.answer["fr"] == "Imprimez l'étiquette depuis la page de votre commande."
    # A draft may be redrafted; a lead's own text replaces it and leaves the drafts list.
    set_answers(faq_dir, "return-label", {"de": "Drucke das Etikett aus."}, True, "bot")
    set_answers(faq_dir, "return-label", {"es": "Imprime la etiqueta."}, False, "dana")
    entry = {e.id: e for e in load_valid_faq(faq_dir)}["return-label"]
    assert entry.drafts == ("de",)
    assert entry.answer["de"] == "Drucke das Etikett aus."
    set_answers(faq_dir, "return-label", {"de": "Drucke das Etikett aus!"}, False, "dana")
    entry = {e.id: e for e in load_valid_faq(faq_dir)}["return-label"]
    assert entry.drafts == ()
    assert "drafts" not in path.read_text(encoding="utf-8")


def test_long_answer_is_folded_like_its_siblings(faq_dir: Path) -> None:
    long_text = " ".join(["Sie können Artikel innerhalb von dreißig Tagen zurückschicken."] * 4)
    set_answers(faq_dir, "returns-window", {"nl": long_text}, True, "bot")
    text = (faq_dir / "returns.yaml").read_text(encoding="utf-8")
    assert "      nl: >-\n" in text
    assert max(len(line) for line in text.splitlines()) <= 100
    entry = {e.id: e for e in load_valid_faq(faq_dir)}["returns-window"]
    assert entry.answer["nl"] == long_text


def test_add_entry_appends_and_creates_files(faq_dir: Path) -> None:
    path = faq_dir / "returns.yaml"
    before = path.read_text(encoding="utf-8")
    add_entry(faq_dir, "returns", {"id": "return-costs", "tags": ["returns", "costs"],
                                   "questions": {"en": ["Are returns free?"]},
                                   "answer": {"en": "Yes, inside the EU."}}, "dana")
    after = path.read_text(encoding="utf-8")
    assert after.startswith(before)
    assert after[len(before):] == (
        "\n  - id: return-costs\n    tags: [returns, costs]\n    questions:\n      en:\n"
        "        - Are returns free?\n    answer:\n      en: Yes, inside the EU.\n"
    )
    created = add_entry(faq_dir, "gift-cards", {"id": "gift-card-balance",
                                                "questions": {"en": ["Gift card balance?"]},
                                                "answer": {"en": "See your account."}}, "dana")
    assert created == faq_dir / "gift-cards.yaml"
    ids = {e.id: e for e in load_valid_faq(faq_dir)}
    assert ids["gift-card-balance"].category == "gift-cards"
    assert ids["return-costs"].tags == ("returns", "costs")


def test_concurrent_edits_all_land(faq_dir: Path) -> None:
    errors: list[BaseException] = []

    def add(n: int) -> None:
        try:
            add_phrasings(faq_dir, "exchange", "en", [f"Exchange question number {n}?"], "t")
        except BaseException as exc:  # collected for the assertion below
            errors.append(exc)

    threads = [threading.Thread(target=add, args=(n,)) for n in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    entry = {e.id: e for e in load_valid_faq(faq_dir)}["exchange"]
    assert len(entry.questions["en"]) == 9
    assert not load_faq(faq_dir).errors


def test_note_marks_each_new_phrasing(faq_dir: Path) -> None:
    add_phrasings(faq_dir, "exchange", "sv", ["Kan jag byta?", "Byte?"], "translate",
                  note="machine draft")
    text = (faq_dir / "returns.yaml").read_text(encoding="utf-8")
    assert "      sv:\n        - Kan jag byta? # machine draft\n" in text
    assert "        - Byte? # machine draft\n" in text
    entry = {e.id: e for e in load_valid_faq(faq_dir)}["exchange"]
    assert entry.questions["sv"] == ("Kan jag byta?", "Byte?")


def test_a_lead_overwrites_a_reviewed_answer_and_every_other_byte_stays(faq_dir: Path) -> None:
    path = faq_dir / "returns.yaml"
    before = path.read_text(encoding="utf-8")
    new_de = "Du kannst Artikel innerhalb von **60 Tagen** zurückschicken, auch im Sale."
    set_answers(faq_dir, "returns-window", {"de": new_de}, False, "dana", overwrite=True)
    after = path.read_text(encoding="utf-8")
    # Only the German answer's lines changed; comments, quoting and the English answer stay.
    diff = [ln for ln in after.splitlines() if ln not in before.splitlines()]
    assert diff == [f"        {new_de}"]
    assert before.replace("Du kannst Artikel innerhalb von 30 Tagen zurückschicken.",
                          new_de) == after
    entry = {e.id: e for e in load_valid_faq(faq_dir)}["returns-window"]
    assert entry.answer["de"] == new_de and entry.answer["en"].startswith("You can return")
    # The default language's answer cannot be emptied, and a bad language is refused.
    with pytest.raises(InputError):
        set_answers(faq_dir, "returns-window", {"en": "  "}, False, "dana", overwrite=True)
    with pytest.raises(InputError):
        set_answers(faq_dir, "returns-window", {"xx": "Hi"}, False, "dana", overwrite=True)
    assert path.read_text(encoding="utf-8") == after
