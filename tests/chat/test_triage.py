"""Triage: what kind of message a shopper sent, from word lists, keywords and the embedding."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pytest

from bot.chat.triage import TriageClassifier
from bot.chat.triage_data import KINDS, SHIPPED, load_triage_data, read_file
from bot.chat.words import fold
from bot.errors import ConfigError
from bot.matching.bot import FaqBot

DATA = Path(__file__).resolve().parents[1] / "data"
LANGUAGES = "en de es fr it nl pl pt zh ja ko ru tr sv".split()


@pytest.fixture(scope="module")
def triage() -> TriageClassifier:
    return TriageClassifier.load()


def _rows(split: str) -> list[dict[str, str]]:
    path = DATA / f"triage_{split}.jsonl"
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def _norm(text: str) -> str:
    return " ".join(t for t in fold(text).replace("?", " ").replace("!", " ").split())


# ---- the labelled sets ----
@pytest.mark.parametrize("split", ["dev", "test"])
def test_labelled_sets_cover_every_kind_in_every_language(split: str) -> None:
    rows = _rows(split)
    per_kind = Counter(r["label"] for r in rows)
    assert set(per_kind) == set(KINDS)
    assert min(per_kind.values()) >= 30, per_kind
    cells = Counter((r["lang"], r["label"]) for r in rows)
    missing = [(lang, k) for lang in LANGUAGES for k in KINDS if not cells[(lang, k)]]
    assert not missing


def test_no_message_is_in_both_splits_nor_among_the_shipped_examples() -> None:
    dev = {_norm(r["text"]) for r in _rows("dev")}
    test = {_norm(r["text"]) for r in _rows("test")}
    assert not dev & test
    examples = {_norm(e.text) for e in load_triage_data().examples}
    assert not examples & (dev | test), sorted(examples & (dev | test))


# ---- words alone (no model) ----
SMALL_TALK = {
    "greeting": ["hi", "Hello!!", "hey there", "Guten Morgen", "moin", "hola, que tal",
                 "bonjour :)", "buongiorno", "hoi", "cześć", "olá", "你好", "こんにちは",
                 "안녕하세요", "привет", "merhaba", "hejsan", "👋", "heyyy"],
    "thanks": ["thanks!", "thank you so much", "ok", "okay 👍", "great", "got it", "thnaks",
               "danke dir", "alles klar", "gracias", "vale", "merci beaucoup", "d'accord",
               "grazie mille", "dankjewel", "dzięki", "obrigada", "谢谢", "好的", "ありがとう",
               "감사합니다", "спасибо", "teşekkürler", "tack så mycket", "👍", "🙏"],
    "goodbye": ["bye", "see you", "have a nice day", "tschüss", "adiós", "au revoir",
                "arrivederci", "doei", "do widzenia", "tchau", "再见", "さようなら",
                "안녕히 계세요", "пока", "görüşürüz", "hej då", "ok thanks bye"],
}


@pytest.mark.parametrize("kind, text", [(k, t) for k, ts in SMALL_TALK.items() for t in ts])
def test_small_talk_in_every_language(triage: TriageClassifier, kind: str, text: str) -> None:
    got = triage.classify(text)
    assert (got.kind, got.small_talk) == (kind, True)


@pytest.mark.parametrize("text, kind", [
    ("thanks, but where is my order?", "order"),
    ("ok so how do I return it?", "faq"),
    ("hi, can I pay with Klarna?", "faq"),
    ("Hallo, wie lange dauert der Versand?", "faq"),
    ("merci, et pour les retours ?", "faq"),
    ("谢谢，那退款多久到账？", "faq"),
    ("Paket", "faq"),
    ("Rückgabe", "faq"),
    ("talla", "faq"),  # one typo from "hallå", but Spanish for size
    ("what do I do if an item arrives damaged?", "faq"),
    ("Support hours?", "faq"),
    ("can someone else pick up my parcel?", "faq"),
])
def test_questions_are_never_small_talk(triage: TriageClassifier, text: str, kind: str) -> None:
    assert triage.classify(text).kind == kind


@pytest.mark.parametrize("text, rule", [
    ("Mon article est arrivé abîmé, que faire ?", "damaged-item"),
    ("Ürün hasarlı geldi", "damaged-item"),
    ("you charged me twice!!", "charged-twice"),
    ("ich mache eine Rückbuchung", "chargeback"),
    ("this is a scam", "fraud"),
    ("the parcel never arrived", "missing-parcel"),
    ("c'est inadmissible", "angry"),
])
def test_complaints_are_urgent(triage: TriageClassifier, text: str, rule: str) -> None:
    got = triage.classify(text)
    assert (got.kind, got.priority, got.rule) == ("complaint", "urgent", rule)


@pytest.mark.parametrize("text", [
    "talk to a human", "human please", "agent", "Mitarbeiter bitte",
    "quiero hablar con una persona", "un conseiller svp", "operatore umano", "medewerker graag",
    "z konsultantem", "atendente", "转人工", "オペレーターお願いします", "상담원 연결",
    "хочу оператора", "canlı destek", "människa tack",
])
def test_asking_for_a_person(triage: TriageClassifier, text: str) -> None:
    assert triage.classify(text).kind == "person"


def test_a_person_request_with_urgent_words_keeps_the_urgency(triage: TriageClassifier) -> None:
    got = triage.classify("my item is broken, let me talk to a human")
    assert (got.kind, got.priority, got.rule) == ("person", "urgent", "damaged-item")


@pytest.mark.parametrize("text, number", [
    ("#48213", "48213"), ("order 48213?", "48213"), ("Bestellung 55102 ist nicht da", "55102"),
    ("commande n°45821", "45821"), ("заказ №28810", "28810"), ("注文番号 83921", "83921"),
    ("where is my order", None), ("mi pedido todavia no ha llegado", None),
])
def test_one_order(triage: TriageClassifier, text: str, number: str | None) -> None:
    got = triage.classify(text)
    assert (got.kind, got.order_number) == ("order", number)


@pytest.mark.parametrize("text", ["asdfghjkl", "hahahaha", "kkkkkk", "ㅋㅋㅋ", "🤔", "???",
                                  "qweqwe", "фывапр", "ｗｗｗ", "😂😂"])
def test_noise(triage: TriageClassifier, text: str) -> None:
    assert triage.classify(text).kind == "noise"


def test_the_yes_no_words_of_yaml_stay_words(triage: TriageClassifier) -> None:
    # YAML 1.1 reads a bare "yes" or "no" as a boolean; the lists keep them as text.
    assert "yes" in load_triage_data().get("thanks.words")
    assert triage.classify("yes").kind == "thanks"


# ---- a shop's own file ----
@pytest.mark.parametrize(("text", "langs"), [
    ("merci", ["fr"]), ("Merci !", ["fr"]), ("tschüss", ["de"]), ("danke schön", ["de"]),
    ("adiós", ["es"]), ("buongiorno", ["it"]), ("tamam", ["tr"]), ("tack så mycket", ["sv"]),
    ("감사합니다", ["ko"]), ("Hallo", ["de", "nl"]), ("hi", ["en", "de"]),
    ("ok", LANGUAGES), ("merci, wo ist mein Paket?", []), ("Rückgabe", []),
])
def test_the_language_of_small_talk_words(
    triage: TriageClassifier, text: str, langs: list[str]
) -> None:
    # In the order of the supported languages; a word several lists share stays ambiguous.
    assert triage.language_of(text, LANGUAGES) == langs


def test_a_shop_file_adds_words_rules_and_examples(tmp_path: Path) -> None:
    shop = tmp_path / "triage.yaml"
    shop.write_text(
        "classes:\n"
        "  greeting:\n    words:\n      fi: [moikka, terve]\n"
        "  complaint:\n    rules:\n      - name: vip\n        keywords:\n          en: [vip*]\n"
        "  faq:\n    examples:\n      fi: [mitä maksaa toimitus]\n",
        encoding="utf-8")
    triage = TriageClassifier.load(shop)
    assert triage.classify("Moikka!").kind == "greeting"
    got = triage.classify("I am a VIP customer")
    assert (got.kind, got.rule) == ("complaint", "vip")
    assert triage.classify("hi").kind == "greeting"  # the shipped lists are still there


@pytest.mark.parametrize("body, message", [
    ("classes:\n  greetings:\n    words: {en: [yo]}\n", "2: unknown key 'greetings' in classes "
                                                       "(did you mean 'greeting'?)"),
    ("classes:\n  thanks:\n    words:\n      xx: [ta]\n", "4: 'xx' in thanks.words is not an ISO"),
    ("classes:\n  thanks:\n    words:\n      en: ta\n", "4: thanks.words.en must be a list"),
    ("classes:\n  thanks:\n    words:\n      en: ['', ok]\n", "4: an item of thanks.words.en is "
                                                             "empty"),
    ("classes:\n  person:\n    emoji: [x]\n", "3: unknown key 'emoji' in classes.person"),
    ("classes:\n  complaint:\n    rules:\n      - name: x\n", "4: complaint rule 'x' has no "
                                                              "keywords"),
    ("fillers: [so]\n", "1: fillers must be a mapping"),
    ("classes: [\n", "not valid YAML"),
])
def test_bad_shop_files_say_where_and_what(tmp_path: Path, body: str, message: str) -> None:
    shop = tmp_path / "triage.yaml"
    shop.write_text(body, encoding="utf-8")
    with pytest.raises(ConfigError) as err:
        TriageClassifier.load(shop)
    assert f"{shop}:" in str(err.value) and message in str(err.value)


def test_the_shipped_file_is_clean() -> None:
    data, problems = read_file(SHIPPED)
    assert not problems
    per_kind = Counter(e.kind for e in data.examples)
    assert set(per_kind) == set(KINDS)
    langs = {(e.kind, e.language) for e in data.examples}
    assert all((k, lang) in langs for k in KINDS for lang in LANGUAGES)


# ---- accuracy on the dev split, with the real model (the test split is for reporting) ----
@pytest.mark.slow
def test_accuracy_on_the_dev_split(faqbot: FaqBot) -> None:
    from bot.devtools.eval.triage import evaluate, read_labelled, render

    triage = TriageClassifier.load()
    report = evaluate(faqbot, triage, read_labelled(DATA / "triage_dev.jsonl"))
    d = report.to_dict()
    assert d["questions_taken_for_small_talk"] == 0, render(report)
    assert d["accuracy"] >= 0.97, render(report)
    assert min(v["accuracy"] for v in d["per_kind"].values()) >= 0.9, render(report)
    assert min(v["accuracy"] for v in d["per_language"].values()) >= 0.9, render(report)


@pytest.mark.parametrize("text, entries", [
    ("Mon article est arrivé abîmé", ("complaint-damaged-item",)),
    ("you sent me the wrong item", ("complaint-wrong-item",)),
    ("mir wurde doppelt abgebucht", ("payment-charged-twice",)),
    ("where is my order", ()),
])
def test_complaint_rules_name_their_faq_entries(
    triage: TriageClassifier, text: str, entries: tuple[str, ...]
) -> None:
    assert triage.entries_for(triage.classify(text)) == entries


@pytest.mark.parametrize("text, answered", [
    ("never mind, I found it", True), ("hat sich erledigt, danke", True), ("ya lo encontré", True),
    ("c'est réglé merci", True), ("已经解决了", True), ("sorun çözüldü", True),
    ("I found it, but how do I return it?", False), ("where is my order", False),
    ("thanks", False),
])
def test_saying_the_question_is_answered(
    triage: TriageClassifier, text: str, answered: bool
) -> None:
    assert triage.says_answered(text) is answered
