"""FAQ loading and validation: every problem is reported as path:line: message."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.errors import FaqError
from bot.faq.load import (
    MAX_ANSWER_CHARS,
    MAX_QUESTION_CHARS,
    Entry,
    fingerprint,
    load_faq,
    load_valid_faq,
    normalise_phrasing,
    parse_file,
)
from tests.support.faqs import SHOP_EN, entry_yaml, write_faq

GOOD = """\
entries:
  - id: returns-window
    category: returns
    tags: [returns, policy]
    markets: [eu, UK]
    handoff: false
    questions:
      en: [How long do I have to return an item?, What is the return period?]
      de: [Wie lange habe ich Zeit für eine Rücksendung?]
    answer:
      en: You can return most items within 30 days of delivery.
      de: Sie können die meisten Artikel innerhalb von 30 Tagen zurücksenden.
    drafts: [de]
  - id: track
    questions: {en: [Where is my order?]}
    answer: {en: Use the tracking link.}
"""


def problems_of(tmp_path: Path, text: str | bytes, name: str = "topic.yaml") -> list[str]:
    """Parse one file and return its problems as strings."""
    path = tmp_path / name
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text, encoding="utf-8")
    return [str(p) for p in parse_file(path, "en", display=name).problems]


def test_good_file_loads_every_field(tmp_path: Path) -> None:
    write_faq(tmp_path, "returns.yaml", GOOD)
    result = load_faq(tmp_path)
    assert result.problems == []
    first, second = result.entries
    assert first.id == "returns-window"
    assert first.questions["en"] == (
        "How long do I have to return an item?",
        "What is the return period?",
    )
    assert first.answer["de"].startswith("Sie können")
    assert first.category == "returns"
    assert first.tags == ("returns", "policy")
    assert first.markets == ("EU", "UK")  # markets are upper-cased
    assert first.drafts == ("de",)
    assert first.handoff is False
    assert (first.path, first.line) == (str(tmp_path / "returns.yaml"), 2)
    # The file name is the default category.
    assert second.category == "returns" and second.line == 14
    assert Entry.from_dict(first.to_dict()) == first


def test_shipped_fixture_is_valid() -> None:
    result = load_faq(SHOP_EN)
    assert result.errors == []
    assert len(result.entries) == 10


# (file text, expected "line: message" fragment); each case is one kind of mistake.
ERROR_CASES = {
    "yaml syntax": (
        "entries:\n  - id: a\n    questions: {en: [hi]\n    answer: {en: yo}\n",
        "topic.yaml:4: YAML syntax error",
    ),
    "misspelt answer key": (
        "entries:\n  - id: a\n    questions: {en: [hi]}\n    answr: {en: yo}\n",
        "topic.yaml:4: unknown key 'answr' (did you mean 'answer'?)",
    ),
    "unknown key without a close match": (
        "entries:\n  - id: a\n    questions: {en: [hi]}\n    answer: {en: yo}\n    zzz: 1\n",
        "topic.yaml:5: unknown key 'zzz'; allowed: id, questions, answer",
    ),
    "missing id": (
        "entries:\n  - questions: {en: [hi]}\n    answer: {en: yo}\n",
        "topic.yaml:2: entry has no 'id'",
    ),
    "missing questions": (
        "entries:\n  - id: a\n    answer: {en: yo}\n",
        "topic.yaml:2: entry 'a' has no 'questions'",
    ),
    "missing answer": (
        "entries:\n  - id: a\n    questions: {en: [hi]}\n",
        "topic.yaml:2: entry 'a' has no 'answer'",
    ),
    "missing default-language answer": (
        "entries:\n  - id: a\n    questions: {en: [hi]}\n    answer:\n      de: Hallo\n",
        "topic.yaml:5: entry 'a' has no answer in the default language 'en'",
    ),
    "upper-case id": (
        "entries:\n  - id: Returns\n    questions: {en: [hi]}\n    answer: {en: yo}\n",
        "topic.yaml:2: id 'Returns' must match [a-z0-9][a-z0-9._-]*",
    ),
    "id with a space": (
        "entries:\n  - id: my entry\n    questions: {en: [hi]}\n    answer: {en: yo}\n",
        "topic.yaml:2: id 'my entry' must match",
    ),
    "id starting with a dash": (
        "entries:\n  - id: -x\n    questions: {en: [hi]}\n    answer: {en: yo}\n",
        "topic.yaml:2: id '-x' must match",
    ),
    "id with a trailing newline": (
        'entries:\n  - id: "abc\\n"\n    questions: {en: [hi]}\n    answer: {en: yo}\n',
        "topic.yaml:2: id 'abc\\n' must match",
    ),
    "id that is a mapping": (
        "entries:\n  - id: {a: 1}\n    questions: {en: [hi]}\n    answer: {en: yo}\n",
        "topic.yaml:2: id must be a text",
    ),
    "empty question": (
        'entries:\n  - id: a\n    questions:\n      en: [hi, ""]\n    answer: {en: yo}\n',
        "topic.yaml:4: question (en) is empty",
    ),
    "blank answer": (
        'entries:\n  - id: a\n    questions: {en: [hi]}\n    answer:\n      en: "   "\n',
        "topic.yaml:5: answer (en) is empty",
    ),
    "null question": (
        "entries:\n  - id: a\n    questions:\n      en:\n    answer: {en: yo}\n",
        "topic.yaml:4: question (en) is empty",
    ),
    "empty question list": (
        "entries:\n  - id: a\n    questions:\n      en: []\n    answer: {en: yo}\n",
        "topic.yaml:4: question (en) list is empty",
    ),
    "empty questions mapping": (
        "entries:\n  - id: a\n    questions: {}\n    answer: {en: yo}\n",
        "topic.yaml:3: entry 'a' has an empty 'questions' mapping",
    ),
    "questions as a list": (
        "entries:\n  - id: a\n    questions: [hi]\n    answer: {en: yo}\n",
        "topic.yaml:3: 'questions' must map language codes to text",
    ),
    "three-letter language code": (
        "entries:\n  - id: a\n    questions:\n      eng: [hi]\n    answer: {en: yo}\n",
        "topic.yaml:4: 'eng' in 'questions' is not an ISO 639-1 language code (use 'en')",
    ),
    "region in language code": (
        "entries:\n  - id: a\n    questions: {en: [hi]}\n    answer:\n      en: yo\n"
        "      pt-BR: oi\n",
        "topic.yaml:6: 'pt-BR' in 'answer' is not an ISO 639-1 language code (use 'pt')",
    ),
    "made-up language code": (
        "entries:\n  - id: a\n    questions:\n      en: [hi]\n      xx: [hu]\n"
        "    answer: {en: yo}\n",
        "topic.yaml:5: 'xx' in 'questions' is not an ISO 639-1 language code",
    ),
    "question too long": (
        "entries:\n  - id: a\n    questions:\n      en:\n        - short\n        - "
        + "q" * (MAX_QUESTION_CHARS + 1)
        + "\n    answer: {en: yo}\n",
        f"topic.yaml:6: question (en) is {MAX_QUESTION_CHARS + 1} characters; "
        f"the limit is {MAX_QUESTION_CHARS}",
    ),
    "answer too long": (
        "entries:\n  - id: a\n    questions: {en: [hi]}\n    answer:\n      en: "
        + "a" * (MAX_ANSWER_CHARS + 1)
        + "\n",
        f"topic.yaml:5: answer (en) is {MAX_ANSWER_CHARS + 1} characters",
    ),
    "answer as a list": (
        "entries:\n  - id: a\n    questions: {en: [hi]}\n    answer:\n      en: [yo, ya]\n",
        "topic.yaml:5: answer (en) must be one text, not a list",
    ),
    "handoff not a boolean": (
        "entries:\n  - id: a\n    questions: {en: [hi]}\n    answer: {en: yo}\n"
        "    handoff: maybe\n",
        "topic.yaml:5: handoff must be true or false",
    ),
    "tags not a list": (
        "entries:\n  - id: a\n    questions: {en: [hi]}\n    answer: {en: yo}\n    tags: x\n",
        "topic.yaml:5: 'tags' must be a list",
    ),
    "draft without an answer": (
        "entries:\n  - id: a\n    questions: {en: [hi]}\n    answer: {en: yo}\n"
        "    drafts: [fr]\n",
        "topic.yaml:5: draft language 'fr' has no answer in entry 'a'",
    ),
    "entry that is a string": (
        "entries:\n  - just text\n",
        "topic.yaml:2: each entry must be a mapping",
    ),
    "unknown top-level key": (
        "entries: []\nfaq: []\n",
        "topic.yaml:2: unknown top-level key 'faq'",
    ),
    "no entries key": ("questions: []\n", "topic.yaml:1: no 'entries:' list in this file"),
    "entries not a list": ("entries: {a: 1}\n", "topic.yaml:1: 'entries' must be a list"),
}


@pytest.mark.parametrize("case", sorted(ERROR_CASES))
def test_each_mistake_is_reported_at_its_line(tmp_path: Path, case: str) -> None:
    text, expected = ERROR_CASES[case]
    problems = problems_of(tmp_path, text)
    assert any(p.startswith(expected) for p in problems), problems


# Files nobody should write but somebody will: each gives a path:line message, never raises.
HOSTILE_CASES: dict[str, tuple[str | bytes, str]] = {
    "empty file": ("", "topic.yaml:1: file is empty"),
    "only a comment": ("# nothing yet\n", "topic.yaml:1: file is empty"),
    "a list at the top": ("- id: a\n- id: b\n", "topic.yaml:1: expected a mapping"),
    "a scalar at the top": ("hello\n", "topic.yaml:1: expected a mapping"),
    "tab indentation": (
        "entries:\n  - id: a\n\tquestions: {en: [hi]}\n",
        "topic.yaml:3: YAML syntax error",
    ),
    # range(256) holds one newline before the first non-UTF-8 byte (0x80).
    "binary bytes": (bytes(range(256)) * 4, "topic.yaml:2: not UTF-8 text (byte 0x80)"),
    "NUL inside UTF-8": (b"entries:\n  - id: a\x00\n", "topic.yaml:2: not a text file"),
    "Latin-1 on line 3": (
        "entries:\n  - id: a\n    questions: {en: [caf\xe9]}\n".encode("latin-1"),
        "topic.yaml:3: not UTF-8 text (byte 0xe9)",
    ),
    "deeply nested lists": ("entries: " + "[" * 10000 + "]" * 10000 + "\n", "topic.yaml:1: "),
    "deeply nested mappings": (
        "entries:\n" + "".join("  " * (i + 1) + f"k{i}:\n" for i in range(2000)),
        "topic.yaml:2: 'entries' must be a list",
    ),
    "duplicated entry key": (
        "entries:\n  - id: a\n    id: b\n    questions: {en: [hi]}\n    answer: {en: yo}\n",
        "topic.yaml:3: key 'id' appears twice in this entry",
    ),
    "duplicated language key": (
        "entries:\n  - id: a\n    questions:\n      en: [hi]\n      en: [ho]\n"
        "    answer: {en: yo}\n",
        "topic.yaml:5: language 'en' appears twice in 'questions'",
    ),
    "duplicated entries key": (
        "entries:\n" + entry_yaml("a", "hi", "yo") + "entries:\n" + entry_yaml("b", "ho", "ya"),
        "topic.yaml:7: 'entries' appears twice",
    ),
    "two documents": ("entries: []\n---\nentries: []\n", "topic.yaml:2: YAML syntax error"),
    "python object tag": (
        "entries:\n  - id: !!python/object/apply:os.system [ls]\n", "topic.yaml:2: YAML tag"
    ),
    "merge key": (
        "entries:\n  - &e\n    id: a\n    questions: {en: [hi]}\n    answer: {en: yo}\n"
        "  - <<: *e\n    id: b\n",
        "topic.yaml:6: merge keys ('<<') are not supported",
    ),
    "a list as a key": ("entries:\n  - [a]: 1\n", "topic.yaml:2: a key must be plain text"),
    "unterminated quote": (
        'entries:\n  - id: a\n    questions: {en: ["hi]}\n',
        "topic.yaml:4: YAML syntax error: found unexpected end of stream "
        "(while scanning a quoted scalar at line 3)",
    ),
}


@pytest.mark.parametrize("case", sorted(HOSTILE_CASES))
def test_hostile_file_gives_a_located_message(tmp_path: Path, case: str) -> None:
    text, expected = HOSTILE_CASES[case]
    problems = problems_of(tmp_path, text)
    assert problems, "a broken file must not pass"
    assert any(p.startswith(expected) for p in problems), problems
    assert all("\n" not in p for p in problems)  # one problem, one line


def test_tab_error_says_to_use_spaces(tmp_path: Path) -> None:
    problems = problems_of(tmp_path, "entries:\n\t- id: x\n")
    assert len(problems) == 1
    assert problems[0].startswith("topic.yaml:2: YAML syntax error")
    assert problems[0].endswith("(YAML cannot indent with tabs; use spaces)")


def test_two_megabyte_file_loads(tmp_path: Path) -> None:
    text = "entries:\n" + "".join(
        entry_yaml(f"e{i}", f"question number {i} " + "x" * 350, f"answer {i}")
        for i in range(5000)
    )
    assert len(text.encode()) > 2_000_000
    write_faq(tmp_path, "big.yaml", text)
    result = load_faq(tmp_path)
    assert result.problems == []
    assert len(result.entries) == 5000
    assert result.entries[-1].line == 5 * 4999 + 2


def test_a_directory_named_like_a_faq_file(tmp_path: Path) -> None:
    (tmp_path / "odd.yaml").mkdir()
    problems = [str(p) for p in load_faq(tmp_path).problems]
    assert len(problems) == 1 and problems[0].startswith(f"{tmp_path / 'odd.yaml'}:1: cannot read")


def test_yaml_typing_does_not_rewrite_text(tmp_path: Path) -> None:
    # YAML 1.1 reads `no` as False, `yes` as True, 0123 as 83 and 1.10 as 1.1.
    write_faq(
        tmp_path,
        "t.yaml",
        """
        entries:
          - id: 0123
            handoff: yes
            questions:
              no: [Hvor er pakken min?]
              en: [Is version 1.10 out?]
            answer:
              en: yes
              no: Ja
        """,
    )
    result = load_faq(tmp_path)
    assert result.problems == []
    (entry,) = result.entries
    assert entry.id == "0123"
    assert entry.handoff is True
    assert entry.questions == {"no": ("Hvor er pakken min?",), "en": ("Is version 1.10 out?",)}
    assert entry.answer == {"en": "yes", "no": "Ja"}


def test_byte_order_mark_is_accepted(tmp_path: Path) -> None:
    text = "\ufeffentries:\n" + entry_yaml("a", "hi", "yo")
    (tmp_path / "bom.yaml").write_text(text, encoding="utf-8")
    result = load_faq(tmp_path)
    assert result.problems == [] and [e.id for e in result.entries] == ["a"]


def test_same_id_in_two_files_names_both_places(tmp_path: Path) -> None:
    write_faq(tmp_path, "a.yaml", "entries:\n" + entry_yaml("x", "hi", "yo"))
    write_faq(tmp_path, "b.yaml", "entries:\n" + entry_yaml("y", "ho", "ya")
              + entry_yaml("x", "hu", "yu"))
    errors = [str(p) for p in load_faq(tmp_path).errors]
    a, b = tmp_path / "a.yaml", tmp_path / "b.yaml"
    assert errors == [
        f"{a}:2: id 'x' is also used at {b}:7",
        f"{b}:7: id 'x' is also used at {a}:2",
    ]


def test_same_phrasing_after_normalising_in_two_entries(tmp_path: Path) -> None:
    write_faq(
        tmp_path,
        "a.yaml",
        "entries:\n"
        + entry_yaml("refund", "Where is my refund?", "Soon.")
        + entry_yaml("money", '"  where IS my   refund!! "', "Later."),
    )
    errors = [str(p) for p in load_faq(tmp_path).errors]
    path = tmp_path / "a.yaml"
    assert errors == [
        f"{path}:7: phrasing 'where IS my   refund!!' of entry 'money' is the same as "
        f"'Where is my refund?' of entry 'refund' ({path}:2)"
    ]


def test_same_phrasing_twice_in_one_entry_is_allowed(tmp_path: Path) -> None:
    write_faq(tmp_path, "a.yaml", "entries:\n" + entry_yaml("a", "Refund?, refund", "yo"))
    assert load_faq(tmp_path).problems == []


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("Refund?", "refund"),
        ("Where  is\tmy order?", "where is my order"),
        ("Rückgabe – wie?", "RÜCKGABE wie"),
        ("ＦＵＬＬ　ｗｉｄｔｈ", "full width"),
    ],
)
def test_normalise_phrasing_folds_case_spacing_and_punctuation(a: str, b: str) -> None:
    assert normalise_phrasing(a) == normalise_phrasing(b)


def test_default_language_is_a_parameter(tmp_path: Path) -> None:
    write_faq(tmp_path, "a.yaml", "entries:\n" + entry_yaml("a", "hi", "yo"))
    errors = [str(p) for p in load_faq(tmp_path, default_language="de").errors]
    assert errors == [f"{tmp_path / 'a.yaml'}:6: entry 'a' has no answer in the default "
                      "language 'de'"]


def test_every_error_is_collected_not_just_the_first(tmp_path: Path) -> None:
    write_faq(
        tmp_path,
        "a.yaml",
        """
        entries:
          - id: Bad
            questions: {en: [hi]}
            answer: {en: yo}
          - id: ok
            questions: {en: [ho]}
            answr: {en: ya}
        """,
    )
    with pytest.raises(FaqError) as info:
        load_valid_faq(tmp_path)
    lines = str(info.value).splitlines()
    assert [ln.split(": ", 1)[0].rsplit(":", 1)[1] for ln in lines] == ["2", "5", "7"]


def test_missing_or_empty_directory(tmp_path: Path) -> None:
    missing = [str(p) for p in load_faq(tmp_path / "nope").problems]
    assert missing == [f"{tmp_path / 'nope'}:0: FAQ directory does not exist"]
    empty = [str(p) for p in load_faq(tmp_path).problems]
    assert empty == [f"{tmp_path}:0: no *.yaml files in the FAQ directory"]


def test_fingerprint_changes_with_any_edit(tmp_path: Path) -> None:
    path = write_faq(tmp_path, "a.yaml", "entries:\n" + entry_yaml("a", "hi", "yo"))
    before = fingerprint(tmp_path)
    assert fingerprint(tmp_path) == before
    path.write_text(path.read_text() + "# comment\n")
    assert fingerprint(tmp_path) != before


@pytest.mark.parametrize(
    ("markets_a", "markets_b", "errors"),
    [("[UK]", "[CH]", 0), ("[UK, EU]", "[EU]", 1), ("[UK]", None, 1), (None, None, 1)],
)
def test_per_market_variants_may_share_phrasings(
    tmp_path: Path, markets_a: str | None, markets_b: str | None, errors: int
) -> None:
    a = entry_yaml("customs-a", "Do I pay customs?", "a")
    b = entry_yaml("customs-b", "Do I pay customs?", "b")
    a += f"    markets: {markets_a}\n" if markets_a else ""
    b += f"    markets: {markets_b}\n" if markets_b else ""
    write_faq(tmp_path, "customs.yaml", "entries:\n" + a + b)
    assert len(load_faq(tmp_path).errors) == errors
