"""Test bot/translate/ with tiny real argostranslate packs built here, the network blocked."""

from __future__ import annotations

import logging
import socket
import zipfile
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from bot.errors import ConfigError, TranslationError
from bot.settings import load_settings
from bot.translate.packs import download_packs, install_pack, list_packs
from bot.translate.translator import (
    ArgosTranslator,
    NullTranslator,
    Translator,
    mask,
    translator_from_settings,
    unmask,
)
from tests.support.argos_packs import DE_EN

# The packs' fixtures come from tests/translate/conftest.py (tests/support/argos_packs.py).
# argos_home first: argostranslate must see its directories before its first import.
pytestmark = pytest.mark.usefixtures("argos_home", "no_network")


@pytest.fixture
def packs_dir(tmp_path: Path) -> Path:
    path = tmp_path / "packs"
    path.mkdir()
    return path


@pytest.fixture
def de_en(packs_dir: Path, de_en_pack: Path) -> ArgosTranslator:
    translator = ArgosTranslator(packs_dir)
    translator.install_pack(de_en_pack)
    return translator


@pytest.fixture
def de_en_es(packs_dir: Path, de_en_pack: Path, en_es_pack: Path) -> ArgosTranslator:
    install_pack(de_en_pack, packs_dir)
    install_pack(en_es_pack, packs_dir)
    return ArgosTranslator(packs_dir)


# --- the network really is blocked -------------------------------------------------------


def test_network_is_blocked() -> None:
    with pytest.raises(OSError):
        socket.getaddrinfo("example.com", 443)
    with pytest.raises(OSError):
        socket.create_connection(("93.184.215.14", 443), timeout=1)
    with socket.socket() as sock, pytest.raises(OSError):
        sock.connect(("93.184.215.14", 443))


def test_download_packs_fails_fast_and_clearly_offline(packs_dir: Path) -> None:
    with pytest.raises(TranslationError, match="package index"):
        download_packs(["de"], packs_dir)
    with pytest.raises(TranslationError, match="other than English"):
        download_packs(["en"], packs_dir)
    assert list_packs(packs_dir) == []


# --- the tiny packs are real argostranslate packs ----------------------------------------


def test_tiny_pack_runs_in_argostranslate_itself(packs_dir: Path, de_en_pack: Path) -> None:
    """Install and translate with argostranslate's own functions, then read it with ours."""
    from bot.translate.translator import configure_argostranslate

    configure_argostranslate(packs_dir)  # sets ARGOS_PACKAGES_DIR before the import
    import argostranslate.package
    import argostranslate.translate

    argostranslate.package.install_from_path(de_en_pack)
    assert [p.name for p in packs_dir.iterdir()] == ["de_en"]
    text = "Hallo welt. Ihre bestellung ist versandt! Danke?"
    expected = "Hello world. Your order is shipped! Thanks?"
    assert argostranslate.translate.translate(text, "de", "en") == expected
    # argostranslate turns "_" into a space: the reason for masking.
    assert argostranslate.translate.translate("ORD_12345", "de", "en") == "ORD 12345"

    ours = ArgosTranslator(packs_dir)
    assert ours.translate(text, "de", "en") == expected
    assert ours.translate("Artikel ORD_12345", "de", "en") == "Item ORD_12345"


def test_install_and_translate(packs_dir: Path, de_en_pack: Path) -> None:
    translator = ArgosTranslator(packs_dir)
    assert translator.pairs() == set()
    assert translator.install_pack(de_en_pack) == "de->en"
    assert translator.pairs() == {("de", "en")}
    [info] = translator.list_packs()
    assert (info.from_code, info.to_code, info.version, info.splitter) == (
        "de",
        "en",
        "1.0",
        "minisbd",
    )
    assert isinstance(translator, Translator)
    assert translator.translate("Hallo welt", "de", "en") == "Hello world"
    assert translator.translate("Hallo welt. Danke!", "DE", "en ") == "Hello world. Thanks!"


def test_reinstall_replaces_the_pair(
    packs_dir: Path, argos_pack_factory: Callable[..., Path], de_en_pack: Path
) -> None:
    install_pack(de_en_pack, packs_dir)
    newer = argos_pack_factory("de", "en", {"hallo": "hi"}, version="1.1")
    info = install_pack(newer, packs_dir)
    assert [(p.pair, p.version) for p in list_packs(packs_dir)] == [(("de", "en"), "1.1")]
    assert ArgosTranslator(packs_dir).translate("hallo welt", "de", "en") == "hi welt"
    assert info.path.parent == packs_dir


def test_pack_without_a_splitter_uses_the_offline_regex_splitter(
    packs_dir: Path, argos_pack_factory: Callable[..., Path]
) -> None:
    pack = argos_pack_factory("de", "en", DE_EN, splitter=False)
    assert install_pack(pack, packs_dir).splitter == "regex"
    translator = ArgosTranslator(packs_dir)
    assert translator.translate("Hallo welt. Danke!", "de", "en") == "Hello world. Thanks!"


def test_markdown_lines_keep_their_structure(de_en: ArgosTranslator) -> None:
    text = "## Hallo welt\n\n- Danke.\n- Hallo!\n1. Siehe preis"
    assert (
        de_en.translate(text, "de", "en") == "## Hello world\n\n- Thanks.\n- Hello!\n1. See price"
    )


# --- pivot through English ---------------------------------------------------------------


def test_pivot_through_english(de_en_es: ArgosTranslator) -> None:
    assert de_en_es.pairs() == {("de", "en"), ("en", "es"), ("de", "es")}
    assert de_en_es.translate("Hallo welt.", "de", "es") == "Hola mundo."
    assert de_en_es.model_calls == 2  # de->en, then en->es
    text = "Ihre bestellung A-1234 wurde versandt, siehe https://shop.example.com/t?id=7."
    assert de_en_es.translate(text, "de", "es") == (
        "Su pedido A-1234 fue enviado, vea https://shop.example.com/t?id=7."
    )


def test_direct_pair_beats_the_pivot(
    packs_dir: Path,
    argos_pack_factory: Callable[..., Path],
    de_en_pack: Path,
    en_es_pack: Path,
) -> None:
    for pack in (de_en_pack, en_es_pack, argos_pack_factory("de", "es", {"hallo": "buenas"})):
        install_pack(pack, packs_dir)
    translator = ArgosTranslator(packs_dir)
    assert translator.translate("hallo", "de", "es") == "buenas"
    assert translator.model_calls == 1


# --- protected spans ---------------------------------------------------------------------

PROTECTED = [
    ("Bestellung A-1234 und #98231", ["A-1234", "#98231"]),
    ("Ihre ORD_12345 ist da", ["ORD_12345"]),
    ("SKU TSH-BLK-XL2, Größe 3XL", ["TSH-BLK-XL2", "3XL"]),
    ("Siehe https://shop.example.com/returns?id=7&x=a_b.", ["https://shop.example.com/returns?id=7&x=a_b"]),
    ("oder www.shop.example.de/faq!", ["www.shop.example.de/faq"]),
    ("Schreiben Sie an help_desk@shop.example.com.", ["help_desk@shop.example.com"]),
    ("Preis: €49.95, $9.95 oder 1.299,00 €", ["€49.95", "$9.95", "1.299,00 €"]),
    ("Nur 49 EUR, CHF 20 oder 12,50 zł; 20 % Rabatt", ["49 EUR", "CHF 20", "12,50 zł", "20 %"]),
    ("Bis 24.12.2025 um 14:30", ["24.12.2025", "14:30"]),
    ("Heute 1 299,00 € statt 1.499 CHF", ["1 299,00 €", "1.499 CHF"]),
    (
        "Siehe [Rückgabe](https://shop.example.com/r_1) und ![Logo](/img/a.png)",
        ["[Rückgabe](https://shop.example.com/r_1)", "![Logo](/img/a.png)"],
    ),
    ("Befehl `pip install x_y` und XQ7QX", ["`pip install x_y`", "XQ7QX"]),
]  # fmt: skip


@pytest.mark.parametrize(("text", "spans"), PROTECTED)
def test_mask_round_trip(text: str, spans: list[str]) -> None:
    masked, found = mask(text)
    assert found == spans
    for span in spans:
        assert span not in masked
    assert "_" not in masked  # argostranslate would turn it into a space
    assert unmask(masked, found) == text


@pytest.mark.parametrize(("text", "spans"), PROTECTED)
def test_protected_spans_survive_the_model(
    de_en: ArgosTranslator, text: str, spans: list[str]
) -> None:
    out = de_en.translate(text, "de", "en")
    for span in spans:
        assert span in out


def test_words_that_only_look_like_codes_stay_translatable() -> None:
    text = "30-day returns by e-mail, 2 items, 1st class"
    assert mask(text) == (text, [])


def test_protected_spans_in_a_translation(de_en: ArgosTranslator) -> None:
    text = (
        "Ihre bestellung ORD_12345 (A-1234, #98231) kostet €49.95 und 1.299,00 €. "
        "Siehe [Status](https://shop.example.com/o?id=ORD_12345) oder schreiben Sie an "
        "help@shop.example.com."
    )
    assert de_en.translate(text, "de", "en") == (
        "Your order ORD_12345 (A-1234, #98231) costs €49.95 and 1.299,00 €. "
        "See [Status](https://shop.example.com/o?id=ORD_12345) or write You to "
        "help@shop.example.com."
    )


def test_unmask_tolerates_what_models_do_to_placeholders() -> None:
    _, spans = mask("A-1234 und #98231")
    assert unmask("xq 0 QX and XQ1 QX", spans) == "A-1234 and #98231"
    assert unmask("XQ0QX, again XQ0QX and XQ1QX", spans) == "A-1234, again A-1234 and #98231"


def test_unmask_refuses_a_lost_or_invented_span() -> None:
    _, spans = mask("A-1234 und #98231")
    with pytest.raises(TranslationError, match="lost 1 protected span"):
        unmask("XQ0QX and", spans)
    with pytest.raises(TranslationError, match="unknown placeholder"):
        unmask("XQ0QX XQ1QX XQ2QX", spans)


def test_a_model_that_drops_a_placeholder_degrades(
    packs_dir: Path, argos_pack_factory: Callable[..., Path], caplog: pytest.LogCaptureFixture
) -> None:
    install_pack(argos_pack_factory("de", "en", {"XQ0QX": "gone"}), packs_dir)
    translator = ArgosTranslator(packs_dir)
    caplog.set_level(logging.WARNING, logger="bot.translate")
    with pytest.raises(TranslationError, match="lost 1 protected span"):
        translator.translate("Bestellung A-1234", "de", "en")
    assert "protected span" in caplog.text


def test_text_with_nothing_to_translate_skips_the_model(de_en: ArgosTranslator) -> None:
    for text in ("A-1234", "https://shop.example.com/x", "  ", "", "€49.95 / #98231"):
        assert de_en.translate(text, "de", "en") == text
    assert de_en.model_calls == 0


# --- cache -------------------------------------------------------------------------------


def test_same_text_same_pair_is_translated_once(de_en: ArgosTranslator) -> None:
    assert de_en.translate("Hallo welt", "de", "en") == "Hello world"
    assert de_en.translate("Hallo welt", "de", "en") == "Hello world"
    assert de_en.model_calls == 1
    info = de_en.cache_info()
    assert (info.hits, info.misses, info.size, info.maxsize) == (1, 1, 1, 4096)
    de_en.translate("Danke", "de", "en")
    assert de_en.model_calls == 2
    assert de_en.translate("Hallo welt", "de", "de") == "Hallo welt"  # identity: no model
    assert de_en.model_calls == 2


def test_cache_is_lru_and_can_be_off(packs_dir: Path, de_en_pack: Path) -> None:
    install_pack(de_en_pack, packs_dir)
    small = ArgosTranslator(packs_dir, cache_size=2)
    for text in ("hallo", "welt", "hallo", "danke", "welt", "hallo"):
        small.translate(text, "de", "en")
    # hallo, welt (miss, miss), hallo (hit), danke evicts welt, welt evicts hallo, hallo misses
    assert small.model_calls == 5
    off = ArgosTranslator(packs_dir, cache_size=0)
    off.translate("hallo", "de", "en")
    off.translate("hallo", "de", "en")
    assert off.model_calls == 2


def test_concurrent_translations_agree(de_en: ArgosTranslator) -> None:
    texts = ["Hallo welt", "Danke", "Siehe preis", "Ihre bestellung #98231"] * 8
    with ThreadPoolExecutor(max_workers=8) as pool:
        outs = list(pool.map(lambda t: de_en.translate(t, "de", "en"), texts))
    assert outs[:4] == ["Hello world", "Thanks", "See price", "Your order #98231"]
    assert outs == outs[:4] * 8


# --- degradation -------------------------------------------------------------------------


def test_null_translator(caplog: pytest.LogCaptureFixture) -> None:
    null = NullTranslator(Path("data/argos-packages"))
    assert isinstance(null, Translator)
    assert null.pairs() == set()
    assert null.translate("Hallo", "de", "de") == "Hallo"
    caplog.set_level(logging.DEBUG, logger="bot.translate")
    for _ in range(2):
        with pytest.raises(TranslationError, match="faqbot packs install"):
            null.translate("Hallo", "de", "en")
    warnings = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 1  # once per pair, not once per message
    assert "Hallo" not in caplog.text  # shoppers' words are not logged


def test_unsupported_pair_degrades_and_logs_once(
    de_en: ArgosTranslator, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger="bot.translate")
    for _ in range(3):
        with pytest.raises(TranslationError, match=r"de->fr: no language pack.*installed: de->en"):
            de_en.translate("Hallo", "de", "fr")
    assert len([r for r in caplog.records if r.levelno == logging.WARNING]) == 1
    with pytest.raises(TranslationError, match="en->de"):
        de_en.translate("Hello", "en", "de")  # a pack works one way only
    with pytest.raises(TranslationError, match="not a language code"):
        de_en.translate("Hallo", "deutsch!", "en")


def test_broken_model_degrades(de_en: ArgosTranslator, caplog: pytest.LogCaptureFixture) -> None:
    [info] = de_en.list_packs()
    (info.path / "model" / "model.bin").write_bytes(b"not a model")
    caplog.set_level(logging.WARNING, logger="bot.translate")
    with pytest.raises(TranslationError, match="cannot be loaded"):
        de_en.translate("Hallo welt", "de", "en")
    assert "cannot be loaded" in caplog.text
    with pytest.raises(TranslationError, match="cannot be loaded"):  # no retry storm
        de_en.translate("Danke", "de", "en")
    assert de_en.model_calls == 0
    [failure] = de_en.preload()
    assert "cannot be loaded" in failure


def test_preload(de_en_es: ArgosTranslator) -> None:
    assert de_en_es.preload() == []
    assert de_en_es.model_calls == 0
    assert de_en_es.translate("Danke", "de", "es") == "Gracias"


def test_failing_tokenizer_degrades(
    de_en: ArgosTranslator, caplog: pytest.LogCaptureFixture
) -> None:
    [info] = de_en.list_packs()
    (info.path / "sentencepiece.model").write_bytes(b"garbage")  # read at the first encode
    caplog.set_level(logging.WARNING, logger="bot.translate")
    with pytest.raises(TranslationError, match="the translation model failed"):
        de_en.translate("Hallo welt", "de", "en")
    assert "Traceback" in caplog.text or caplog.records[0].exc_info
    assert "Hallo" not in caplog.text


def test_translator_from_settings(packs_dir: Path, de_en_pack: Path) -> None:
    assert isinstance(translator_from_settings(load_settings(packs_dir=packs_dir)), NullTranslator)
    missing = packs_dir / "nope"
    assert isinstance(translator_from_settings(load_settings(packs_dir=missing)), NullTranslator)
    install_pack(de_en_pack, packs_dir)
    translator = translator_from_settings(load_settings(packs_dir=packs_dir))
    assert isinstance(translator, ArgosTranslator)
    assert translator.translate("Hallo welt", "de", "en") == "Hello world"


# --- validation --------------------------------------------------------------------------


def test_constructor_rejects_bad_arguments(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="FAQBOT_PACKS_DIR"):
        ArgosTranslator(tmp_path / "missing")
    for bad in (-1, 1.5, True):
        with pytest.raises(ConfigError, match="cache_size"):
            ArgosTranslator(tmp_path, cache_size=bad)  # type: ignore[arg-type]


def test_install_rejects_bad_archives(tmp_path: Path, packs_dir: Path) -> None:
    not_zip = tmp_path / "x.argosmodel"
    not_zip.write_text("hello")
    with pytest.raises(TranslationError, match="zip"):
        install_pack(not_zip, packs_dir)
    with pytest.raises(TranslationError, match="no such file"):
        install_pack(tmp_path / "missing.argosmodel", packs_dir)
    two_tops = tmp_path / "two.argosmodel"
    with zipfile.ZipFile(two_tops, "w") as zf:
        zf.writestr("a/metadata.json", "{}")
        zf.writestr("b/metadata.json", "{}")
    with pytest.raises(TranslationError, match="one top-level folder"):
        install_pack(two_tops, packs_dir)
    no_model = tmp_path / "nomodel.argosmodel"
    with zipfile.ZipFile(no_model, "w") as zf:
        zf.writestr("p/metadata.json", '{"from_code": "de", "to_code": "en"}')
    with pytest.raises(TranslationError, match="no model/"):
        install_pack(no_model, packs_dir)
    escape = tmp_path / "escape.argosmodel"
    with zipfile.ZipFile(escape, "w") as zf:
        zf.writestr("p/metadata.json", "{}")
        zf.writestr("p/../../evil.txt", "x")
    with pytest.raises(TranslationError, match="unsafe"):
        install_pack(escape, packs_dir)
    assert list(packs_dir.iterdir()) == []  # nothing half-installed
