"""Test `faqbot packs` and `faqbot translate` with tiny real packs, the network blocked."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.cli import main
from bot.faq.load import Entry, load_valid_faq

pytestmark = pytest.mark.usefixtures("argos_home", "no_network")

FAQ = """\
# Orders - written by the lead; drafts must not disturb this file's comments.
entries:
  - id: order-shipped
    questions:
      en: [Was my order shipped?]
      de: [Wurde meine Bestellung versandt?]
    answer:
      en: Your order was shipped.   # keep it short
      de: Ihre Bestellung wurde versandt.

  - id: item-price
    questions:
      en:
        - What does the item cost?
    answer:
      en: The item costs €49.95, see https://shop.example.com/p/7.
      es: El artículo cuesta 49,95 €.   # written by Ana, must stay
"""


@pytest.fixture
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[Path, Path]:
    """Return (faq_dir, packs_dir) in a working directory of their own."""
    monkeypatch.chdir(tmp_path)  # no stray .env file is read
    for var in ("FAQBOT_FAQ_DIR", "FAQBOT_PACKS_DIR", "FAQBOT_DEFAULT_LANGUAGE"):
        monkeypatch.delenv(var, raising=False)
    faq = tmp_path / "faq"
    faq.mkdir()
    (faq / "orders.yaml").write_text(FAQ, encoding="utf-8")
    packs = tmp_path / "packs"
    return faq, packs


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def entries(faq: Path) -> dict[str, Entry]:
    return {e.id: e for e in load_valid_faq(faq)}


def test_packs_install_and_list(
    env: tuple[Path, Path], de_en_pack: Path, en_es_pack: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    _faq, packs = env
    code, out, _ = run(capsys, "packs", "list", "--packs-dir", str(packs))
    assert code == 0
    assert "no language packs" in out
    code, out, _ = run(capsys, "packs", "install", "--packs-dir", str(packs), str(de_en_pack),
                       str(en_es_pack))
    assert code == 0
    assert "installed de->en 1.0" in out
    assert "installed en->es 1.0" in out
    code, out, _ = run(capsys, "packs", "list", "--packs-dir", str(packs))
    assert code == 0
    lines = out.splitlines()
    assert lines[0].startswith("de->en  1.0")
    assert lines[1].startswith("en->es  1.0")
    assert "splitter=minisbd" in lines[0]
    assert lines[2] == "through English: de->es"


def test_packs_install_refuses_a_bad_file(
    env: tuple[Path, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _faq, packs = env
    bad = tmp_path / "broken.argosmodel"
    bad.write_bytes(b"not a zip")
    code, _, err = run(capsys, "packs", "install", "--packs-dir", str(packs), str(bad))
    assert code == 1
    assert "not an .argosmodel" in err


def test_packs_download_fails_clearly_offline(
    env: tuple[Path, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    _faq, packs = env
    code, _, err = run(capsys, "packs", "download", "--packs-dir", str(packs), "de")
    assert code == 1
    assert "online" in err


def test_translate_drafts_missing_answers_only(
    env: tuple[Path, Path], en_es_pack: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    faq, packs = env
    run(capsys, "packs", "install", "--packs-dir", str(packs), str(en_es_pack))
    code, out, err = run(capsys, "translate", "--to", "es", "--faq-dir", str(faq),
                         "--packs-dir", str(packs))
    assert code == 0, err
    assert "es: drafted 1 answer(s); 1 already present" in out
    assert "faqbot validate --drafts" in err
    got = entries(faq)
    shipped = got["order-shipped"]
    assert shipped.answer["es"] == "Su pedido fue enviado."
    assert shipped.drafts == ("es",)
    price = got["item-price"]
    assert price.answer["es"] == "El artículo cuesta 49,95 €."
    assert price.drafts == ()
    text = (faq / "orders.yaml").read_text(encoding="utf-8")
    assert text.startswith(FAQ.split("      de: Ihre")[0])  # comments and spacing kept
    assert text.endswith(FAQ.split("\n\n", 1)[1])  # the second entry, byte for byte
    assert "    drafts: [es]\n" in text

    # `faqbot validate --drafts` lists the draft; a second run has nothing left to do.
    code, out, _ = run(capsys, "validate", "--faq-dir", str(faq), "--no-similarity",
                       "--drafts")
    assert code == 0
    assert "answer (es) of 'order-shipped' is an unreviewed machine draft" in out
    before = (faq / "orders.yaml").read_bytes()
    code, out, _ = run(capsys, "translate", "--to", "es", "--faq-dir", str(faq),
                       "--packs-dir", str(packs))
    assert code == 0
    assert "es: drafted 0 answer(s); 2 already present" in out
    assert (faq / "orders.yaml").read_bytes() == before


def test_translate_through_english_and_questions(
    env: tuple[Path, Path], de_en_pack: Path, en_es_pack: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    faq, packs = env
    run(capsys, "packs", "install", "--packs-dir", str(packs), str(de_en_pack), str(en_es_pack))
    # German is the source here: de -> en -> es through the two packs.
    (faq / "orders.yaml").write_text(FAQ.replace("      es: El artículo cuesta 49,95 €."
                                                 "   # written by Ana, must stay\n", ""),
                                     encoding="utf-8")
    code, out, err = run(capsys, "translate", "--from", "de", "--to", "es", "--questions",
                         "--entry", "order-shipped", "--faq-dir", str(faq),
                         "--packs-dir", str(packs))
    assert code == 0, err
    assert "es: drafted 1 answer(s); 0 already present; drafted 1 phrasing(s)" in out
    shipped = entries(faq)["order-shipped"]
    # "Ihre Bestellung" -> "Your Order" -> "Su Pedido": the German noun's capital survives.
    assert shipped.answer["es"] == "Su Pedido fue enviado."
    assert shipped.questions["es"] == ("Fue meine Pedido enviado?",)
    text = (faq / "orders.yaml").read_text(encoding="utf-8")
    assert "# machine draft: check, then delete this comment" in text
    assert "item-price" in text and "es" not in entries(faq)["item-price"].answer


def test_translate_dry_run_writes_nothing(
    env: tuple[Path, Path], en_es_pack: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    faq, packs = env
    run(capsys, "packs", "install", "--packs-dir", str(packs), str(en_es_pack))
    before = (faq / "orders.yaml").read_bytes()
    code, out, _ = run(capsys, "translate", "--to", "es", "--questions", "--dry-run",
                       "--faq-dir", str(faq), "--packs-dir", str(packs))
    assert code == 0
    assert "order-shipped [es] answer (draft): Su pedido fue enviado." in out
    assert "order-shipped [es] phrasing (draft): Fue my pedido enviado?" in out
    assert "es: would draft 1 answer(s)" in out
    assert (faq / "orders.yaml").read_bytes() == before


def test_translate_says_which_pair_has_no_pack(
    env: tuple[Path, Path], en_es_pack: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    faq, packs = env
    run(capsys, "packs", "install", "--packs-dir", str(packs), str(en_es_pack))
    before = (faq / "orders.yaml").read_bytes()
    code, out, err = run(capsys, "translate", "--to", "fr,es", "--faq-dir", str(faq),
                         "--packs-dir", str(packs))
    assert code == 1
    assert "no pack covers en->fr, directly or through English (usable: en->es)" in err
    assert "fr: skipped, no pack for en->fr" in out
    assert "es: drafted 1 answer(s)" in out  # the covered language is still done
    assert b"fr:" not in (faq / "orders.yaml").read_bytes()
    assert (faq / "orders.yaml").read_bytes() != before


def test_translate_without_packs_degrades_with_a_hint(
    env: tuple[Path, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    faq, packs = env
    before = (faq / "orders.yaml").read_bytes()
    code, _, err = run(capsys, "translate", "--to", "de", "--faq-dir", str(faq),
                       "--packs-dir", str(packs))
    assert code == 1
    assert f"no usable translation packs in {packs}" in err
    assert "faqbot packs install FILE.argosmodel" in err
    assert (faq / "orders.yaml").read_bytes() == before


def test_translate_refuses_bad_languages(
    env: tuple[Path, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    faq, _packs = env
    code, _, err = run(capsys, "translate", "--to", "xx", "--faq-dir", str(faq))
    assert code == 1
    assert "'xx' is not an ISO 639-1 code" in err
    code, _, err = run(capsys, "translate", "--to", "en", "--faq-dir", str(faq))
    assert code == 1
    assert "only the source language" in err

