"""Accents put back before embedding (bot/matching/accents.py), and the table's script."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import pytest

from bot.matching.accents import fold, restore
from bot.matching.bot import FaqBot
from bot.settings import load_settings
from tests.support.datasets import make_massive
from tests.support.faqs import ROOT, load_script


@pytest.mark.parametrize(
    ("text", "lang", "want"),
    [
        ("siparisim nerede", "tr", "siparişim nerede"),
        ("Siparisim nerede?", "tr", "Siparişim nerede?"),  # a capital stays a capital
        ("SIPARISIM NEREDE", "tr", "SIPARIŞIM NEREDE"),  # and so do all capitals
        ("siparişim nerede", "tr", "siparişim nerede"),  # written right: unchanged
        ("iade ucretli mi", "tr", "iade ucretli mi"),  # "mi" and "mı" are both words
        ("kiedy bedzie znowu dostepny rozmiar M?", "pl", "kiedy będzie znowu dostępny rozmiar M?"),
        ("hur lang tid har jag pa mig", "sv", "hur lång tid har jag på mig"),
        ("como hago una devolucion", "es", "como hago una devolución"),  # "como" is a word
        ("il a commande", "fr", "il a commande"),  # "a" / "à": one letter, left alone
        ("siparisim nerede", "en", "siparisim nerede"),  # only the question's language counts
        ("siparisim nerede", "it", "siparisim nerede"),  # a language without a table
    ],
)
def test_restore_puts_back_only_accents_the_language_surely_has(
    text: str, lang: str, want: str
) -> None:
    assert restore(text, lang) == want


def test_fold_is_what_a_keyboard_without_accents_types() -> None:
    assert fold("siparişim") == "siparisim" and fold("ılık") == "ilik"
    assert fold("pieniędzy") == "pieniedzy" and fold("złoty") == "zloty"
    assert fold("straße") == "strasse" and fold("où") == "ou"


@pytest.mark.slow
def test_a_question_typed_without_accents_finds_its_entry(tmp_path: Path) -> None:
    """On the shipped FAQ "siparisim nerede" ("where is my order", Turkish typed without ş)
    is answered as the written form is; the question is stored as typed."""
    bot = FaqBot(load_settings(faq_dir=ROOT / "faq_data", index_dir=tmp_path / "index",
                               fallback_model=""))
    assert bot.reload().ok
    bare = bot.ask("siparisim nerede", language="tr")
    written = bot.ask("siparişim nerede", language="tr")
    assert bare.question == "siparisim nerede"
    assert bare.guesses == written.guesses and bare.guesses[0].faq_id == "order-tracking"
    assert bare.action == written.action != "handoff"


def test_script_keeps_accented_words_and_skips_bare_forms_that_are_words(
    tmp_path: Path,
) -> None:
    script = load_script("accent_words")
    words = script.words(["siparişim nerede", "siparişim", "mı", "mı", "mi", "a", "à", "à"])
    assert words == {"siparisim": "siparişim"}
    data = tmp_path / "datasets"
    make_massive(data)
    out = tmp_path / "accents.json.gz"
    assert script.main(["--data-dir", str(data), "--out", str(out)]) == 0
    first = out.read_bytes()
    assert script.main(["--data-dir", str(data), "--out", str(out)]) == 0
    assert out.read_bytes() == first  # byte-identical on every run
    with gzip.open(out, "rt", encoding="utf-8") as f:
        table = json.load(f)
    # The shipped FAQ's own phrasings count: German "Rücksendung" is in it.
    assert set(table) == set(script.MASSIVE) and table["de"].get("rucksendung") == "rücksendung"
