"""Detect the language of a shopper's message: langdetect made deterministic, plus fallbacks.

Order of evidence: the writing system (Hangul, kana, Han, Cyrillic ... decide at once when
they outweigh Latin brand names), then langdetect restricted to the supported languages when
it is sure, then letters only one supported language uses (ß, ñ, ł ...), then clear evidence
from each language's frequent words ("wo ist meine Bestellung"), then the caller's hints
(conversation, widget locale), then weak evidence (one telling word, a shared word that
langdetect settles, langdetect fairly sure on 12+ letters), then the default language.
Measured per language on MASSIVE and xSID in LANGUAGES.md (scripts/langid_eval.py).
"""

from __future__ import annotations

import math
import random
import re
import threading
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from langdetect import DetectorFactory, LangDetectException

from bot.errors import InputError

# Letters that, among the languages shops usually support, belong to one language only.
_UNIQUE_LETTERS = {
    "ß": "de", "ñ": "es", "¿": "es", "¡": "es", "ł": "pl", "ą": "pl", "ę": "pl", "ś": "pl",
    "ź": "pl", "ż": "pl", "ć": "pl", "ń": "pl", "ã": "pt", "õ": "pt", "å": "sv", "ğ": "tr",
    "ş": "tr", "ı": "tr", "ĳ": "nl", "œ": "fr", "æ": "da", "ø": "no",
}
# Frequent words per language: function words, question words, politeness and the shop's
# own nouns. Short messages ("die Rücksendung?", "¿dónde está?", "waar is mijn pakket") carry
# too few letters for langdetect but nearly always one of these. A word listed for several
# languages counts for each by 1/k. Left out on purpose: words shoppers use in any language
# (ok, merci, refund, PayPal, Klarna, iPhone ...), which must keep the conversation's language.
# Written from general knowledge, then checked on MASSIVE/xSID dev (see LANGUAGES.md).
_WORDS = {
    "en": """the a an and or but is are was were be been am do does did have has had i me my
        mine you your we our us they their them he she his her it its this that these those
        what which who whose when where why how can could would should will may might must
        not no yes please thanks thank there here from with without about into of for to at
        by on in up out over after before again just only also very much many more some any
        all each every other than then so if because still yet hello hi order orders return
        returns delivery delivered shipping shipped package parcel payment pay paid account
        size price cost costs item items help want need get got send sent buy bought arrived
        arrive track tracking cancel invoice receipt discount come door till under don' didn'
        doesn' can' isn' won' i' new next""",
    "de": """der die das den dem des ein eine einen einem einer eines und oder aber ist sind
        war waren bin bist hat habe haben hatte wird werden wurde kann kannst können könnte
        möchte muss soll will ich mich mir mein meine meinen meinem meiner du dich dir dein
        deine sie ihr ihre ihren wir uns unser es er ihn ihm nicht kein keine keinen ja nein
        bitte danke dank was wer wie wo wann warum wieso welche welcher welches woher wohin
        mit ohne von vom zum zur bei beim für über unter nach vor seit aus auf im ins am an in
        noch schon auch nur sehr mehr wieder jetzt heute morgen gestern hier dort dass wenn
        weil ob also doch mal so gibt bestellung bestellt rücksendung rückgabe retoure zurück
        erstattung geld lieferung versand paket zahlung bezahlt bezahlen konto passwort größe
        preis kosten artikel hilfe brauche geliefert angekommen storniert stornieren rechnung
        gutschein umtausch produkt diese dieses diesen dieser alle alles etwas""",
    "es": """el la los las un una unos unas y o pero es son está están estoy fue era ser
        estar hay tengo tiene tienen tenemos puedo puede pueden quiero quisiera necesito me mi
        mis tu tus su sus yo usted nosotros nuestro nuestra no sí por para con sin de del al en
        que qué cómo como dónde donde cuándo cuando cuál cuánto cuánta porque muy más menos ya
        todavía aún también solo hola gracias favor ayuda pedido pedidos devolución devolver
        reembolso envío entrega paquete pago pagar cuenta contraseña talla precio artículo
        llegado llegó cancelar factura descuento cambio hoy mañana ayer aquí este esta esto
        ese esa eso lo le les nos se te ahora todo todos algo""",
    "fr": """le la les un une des du de et ou mais est sont était être ai as a avez avons ont
        je j' me moi mon ma mes tu te toi ton ta tes vous votre vos nous notre nos il elle ils
        elles on ce cette ces ça cela pas ne n' plus que qu' qui quoi quand comment où
        pourquoi quel quelle quels quelles combien avec sans pour par sur dans chez en au aux
        oui non bonjour s' l' d' c' plaît svp aide commande commandé retour rembourser
        remboursement livraison livré colis paiement payer payé compte mot passe taille prix
        article reçu annuler facture réduction échange aujourd' demain hier ici très
        encore déjà aussi peut puis veux voudrais dois faut se son mer pris du tout tous
        quelque""",
    "it": """il lo la i gli le un uno una un' di del della dei delle degli da dal dalla in nel
        nella con per su sul tra fra e ed o ma è sono era essere ho hai ha abbiamo hanno posso
        può puoi voglio vorrei devo mi me mio mia miei mie ti tu tuo tua suo sua ci noi nostro
        vostro non sì no che chi cosa come dove quando perché quale quanto quanti molto più
        ancora già anche solo ciao grazie favore aiuto ordine ordinato reso restituire
        rimborso spedizione consegna pacco pagamento pagare conto taglia prezzo articolo
        arrivato annullare fattura sconto cambio oggi domani ieri qui questo questa quello
        quella l' dell' c' d' al se vi tutto tutti qualche""",
    "nl": """de het een en of maar is zijn was waren ben bent heb hebt heeft hebben had kan
        kun kunt wil wilt moet mag ik mij me mijn je jij jou jouw u uw we wij ons onze hij zij
        ze haar hem niet geen ja nee alstublieft alsjeblieft dank bedankt wat wie hoe waar
        wanneer waarom welke hoeveel met zonder van voor naar op aan bij uit over onder door
        na om tot in dit dat deze die er nog al ook alleen heel erg meer nu vandaag morgen
        gisteren hier daar bestelling besteld retour retourneren terugbetaling geld levering
        verzending pakket betaling betalen rekening wachtwoord maat prijs artikel geleverd
        annuleren factuur korting ruilen want ten volgende alle iets""",
    "pl": """i w z na do od po o dla jest są był była było być mam masz ma mamy mają mogę może
        można chcę chciałbym chciałabym muszę ja mnie mi mój moja moje mojego ty ciebie twój
        twoja pan pani my nas nasz on ona oni nie tak czy co kto jak gdzie kiedy dlaczego
        który która które ile bardzo więcej jeszcze już też tylko teraz dzisiaj dziś jutro
        wczoraj tutaj tu to ten ta te tego że ale albo lub proszę dziękuję dzięki pomoc
        zamówienie zamówienia zamówiłem zamówiłam zwrot zwrócić pieniądze dostawa wysyłka
        paczka płatność zapłacić konto hasło rozmiar cena produkt anulować faktura rabat
        wymiana się moją mojej wszystkie jakie jaki jaka""",
    "pt": """o a os as um uma uns umas e ou mas é são está estão estou foi era ser estar tem
        tenho têm temos posso pode podem quero queria gostaria preciso me mim meu minha meus
        minhas eu você vocês tu seu sua nós nosso nossa ele ela eles não sim por para com sem
        de do da dos das no na nos nas em ao que quê como onde quando qual quanto porque
        porquê muito mais menos já ainda também só olá obrigado obrigada favor ajuda
        encomenda pedido devolução devolver reembolso envio entrega pacote pagamento pagar
        conta senha tamanho preço artigo chegou cancelar fatura desconto troca hoje amanhã
        ontem aqui este esta isto esse essa isso se te tudo todos algum""",
    "sv": """och eller men är var vara har hade ha kan kunde vill ska skulle måste får jag mig
        min mitt mina du dig din ditt ni er ert vi oss vår vårt han hon den det de dem inte nej
        ja tack hej snälla vad vem hur när varför vilken vilket vilka mycket med utan av från
        för till på i om hos efter före under över en ett nu idag imorgon igår här där att som
        också bara mer redan fortfarande beställning beställt retur returnera återbetalning
        pengar leverans frakt paket betalning betala konto lösenord storlek pris artikel
        avbryta faktura rabatt alla allt något ny nya
        paketet ordern varan varor frakten leveransen leveranstid returen storleken kvitto
        kvittot presentkort rabattkod rabattkoden betalningen återbetalningen spårning
        spårningen ångerrätt byta bytet köpet""",
    "tr": """bir ve veya ama bu şu o ne nasıl nerede neden niçin kim hangi kaç mı mi mu mü
        var yok değil evet hayır lütfen teşekkür teşekkürler merhaba ben beni bana benim sen
        seni sana senin biz bize bizim siz size sizin onun için ile gibi daha çok en sonra
        önce şimdi bugün yarın dün burada orada de da ki ise sipariş siparişim iade para geri
        kargo teslimat paket ödeme hesap şifre beden fiyat ürün geldi iptal fatura indirim
        değişim istiyorum kadar
        siparis siparisim iadem iadesi kargom kargomu kargoyu siparişimi iptali gelmedi
        odeme ödemem urun ürünü ucret ücret ucreti ücreti degisim degisimi değişimi nasil
        neden lazim lazım zaman suresi süresi teslimati teslimatı hediye paketi kodu
        calismiyor çalışmıyor hasarli hasarlı tesekkur tesekkurler lutfen""",
}
_WORD_LANGS: dict[str, frozenset[str]] = {}
for _lang, _words in _WORDS.items():
    for _word in _words.split():
        _WORD_LANGS[_word] = _WORD_LANGS.get(_word, frozenset()) | {_lang}
# A word, keeping a trailing apostrophe so French and Italian elisions (l', qu', dell') count.
_TOKEN = re.compile(r"[^\W\d_]+'?")
# Word evidence: a score this high with this lead over the runner-up decides even against
# the conversation's language; a weaker lead decides only where no hint does.
STRONG_WORDS = 2.0
STRONG_MARGIN = 1.0
WEAK_WORDS = 1.0
WEAK_MARGIN = 0.5

# langdetect is only trusted when it is this sure and the text has this many letters.
MIN_PROBABILITY = 0.90
MIN_LETTERS = 12
# Below MIN_PROBABILITY langdetect still decides text of MIN_LETTERS when no hint does.
WEAK_PROBABILITY = 0.70

_lock = threading.Lock()
DetectorFactory.seed = 0  # langdetect is random unless seeded


class _FastDetector:
    """langdetect's ``detect_langs`` with its trials run on numpy arrays: the same answers.

    langdetect multiplies 55 language probabilities in a Python loop for every n-gram it
    samples (hundreds per trial, 7 trials): ~2-6 ms a message, a third of answering one.
    Its samples come from ``random.Random`` seeded with 0 for every text, so the stream of
    32-bit words behind them is the same each time: it is generated once (numpy's MT19937 is
    the same generator) and ``choice``/``gauss`` are replayed from it exactly as CPython
    computes them. Each trial's products become cumulative sums of logarithms, checked at the
    steps langdetect checks (every 5th) against its convergence rule, so the result equals
    langdetect's up to rounding (checked on 3,600 MASSIVE texts: same order, |diff| < 1e-12).
    """

    CHUNK = 125  # updates examined at once (a multiple of 5); most trials need fewer

    def __init__(self) -> None:
        from langdetect import detector_factory

        detector_factory.init_factory()
        self.factory = detector_factory._factory
        self.langs: list[str] = list(self.factory.langlist)
        seeded = random.Random()
        seeded.seed(DetectorFactory.seed)
        state = seeded.getstate()[1]
        self._bits = np.random.MT19937()
        self._bits.state = {
            "bit_generator": "MT19937",
            "state": {"key": np.asarray(state[:624], dtype=np.uint32), "pos": state[624]},
        }
        self._words: npt.NDArray[np.uint64] = self._bits.random_raw(1 << 14)
        self._grow = threading.Lock()
        # The profiles as one matrix (87,598 n-grams x 55 languages, 39 MB): gathering rows
        # from it is far cheaper than turning langdetect's lists into arrays per message.
        grams = self.factory.word_lang_prob_map
        self._row = {gram: i for i, gram in enumerate(grams)}
        self._matrix = np.asarray(list(grams.values()), dtype=np.float64)

    def _stream(self, end: int) -> npt.NDArray[np.uint64]:
        """The seeded generator's 32-bit outputs, at least ``end`` of them."""
        words = self._words
        if end > len(words):
            with self._grow:
                words = self._words
                while end > len(words):
                    words = np.concatenate([words, self._bits.random_raw(len(words))])
                self._words = words
        return words

    def _random(self, at: int) -> tuple[float, int]:
        """CPython's ``random()`` from the words at ``at``: (value, next position)."""
        words = self._stream(at + 2)
        a, b = int(words[at]) >> 5, int(words[at + 1]) >> 6
        return (a * 67108864.0 + b) * (1.0 / 9007199254740992.0), at + 2

    def _accepted(
        self, pos: int, need: int, n: int, shift: np.uint64
    ) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64]]:
        """The next ``need`` results of ``choice`` over ``n`` items from word ``pos`` on.

        CPython's choice takes getrandbits(k), k = n.bit_length(), one word each, until one
        is below n. Returns the absolute positions of the accepted words and their values.
        """
        span = 4 * need
        while True:
            words = self._stream(pos + span)[pos : pos + span]
            bits = (words >> shift).astype(np.int64)
            ok = np.flatnonzero(bits < n)
            if len(ok) >= need:
                ok = ok[:need]
                return ok + pos, bits[ok]
            span *= 2

    def detect_langs(self, text: str) -> list[tuple[str, float]]:
        from langdetect.detector import Detector

        det = self.factory.create()
        det.append(text)
        det.cleaning_text()
        ngrams = det._extract_ngrams()
        if not ngrams:
            raise LangDetectException(0, "No features in text.")
        rows, pick = np.unique(
            np.fromiter((self._row[g] for g in ngrams), dtype=np.int64, count=len(ngrams)),
            return_inverse=True,
        )
        table = self._matrix[rows]
        nonzero = np.nonzero(table)
        n = len(ngrams)
        shift = np.uint64(32 - n.bit_length())  # getrandbits(k) keeps a word's top k bits
        limit = Detector.ITERATION_LIMIT
        inv_conv = 1.0 / Detector.CONV_THRESHOLD
        total = np.zeros(len(self.langs))
        pos = 0
        gauss_next: float | None = None
        for _trial in range(det.n_trial):
            # random.gauss: Box-Muller, the second value of a pair kept for the next call.
            if gauss_next is None:
                x, pos = self._random(pos)
                y, pos = self._random(pos)
                radius = math.sqrt(-2.0 * math.log(1.0 - y))
                z, gauss_next = math.cos(x * math.tau) * radius, math.sin(x * math.tau) * radius
            else:
                z, gauss_next = gauss_next, None
            alpha = det.alpha + z * Detector.ALPHA_WIDTH
            # log(p + w) = log(w) + log1p(p / w), and log(w) is the same for every language,
            # so it cancels when normalising: only the ~4 % non-zero profile entries count.
            logs = np.zeros_like(table)
            logs[nonzero] = np.log1p(table[nonzero] * (Detector.BASE_FREQ / alpha))
            # langdetect checks convergence after update i when i % 5 == 0 (and gives up at
            # i == ITERATION_LIMIT, itself a multiple of 5), so updates are summed in the
            # groups it checks: [0], [1..5], [6..10] ...; only group ends are examined.
            acc = np.zeros(len(self.langs))  # the uniform start is a constant: it cancels
            step = 0  # langdetect's i, the index of the next update
            while True:
                need = self.CHUNK + (1 if step == 0 else 0)
                taken = self._accepted(pos, need, n, shift)
                logs_seq = logs[pick[taken[1]]]
                head = logs_seq[:1] if step == 0 else logs_seq[:0]
                body = logs_seq[len(head):].reshape(-1, 5, logs_seq.shape[1]).sum(axis=1)
                cum = np.cumsum(np.concatenate([head, body]), axis=0) + acc
                spread = np.exp(cum - cum.max(axis=1, keepdims=True)).sum(axis=1)
                last = step + need - 1  # the update index of the chunk's last group end
                ends = last - 5 * np.arange(len(cum) - 1, -1, -1)
                done = np.nonzero((spread < inv_conv) | (ends >= limit))[0]
                if done.size:
                    group = int(done[0])
                    used = (1 if step == 0 else 0) + 5 * group + (0 if step == 0 else 5)
                    pos = int(taken[0][used - 1]) + 1
                    final = cum[group]
                    break
                acc = cum[-1]
                step += need
                pos = int(taken[0][-1]) + 1
            prob = np.exp(final - final.max())
            total += prob / prob.sum() / det.n_trial
        found = [(lg, float(p)) for lg, p in zip(self.langs, total, strict=True)
                 if p > Detector.PROB_THRESHOLD]
        found.sort(key=lambda lp: lp[1], reverse=True)
        return found


_fast: _FastDetector | None = None


def warm_language_detection() -> None:
    """Load langdetect's profiles now rather than during a shopper's first message."""
    detect_langs("Where is my order? I have been waiting for two weeks.")


def detect_langs(text: str) -> list[tuple[str, float]]:
    """langdetect's guesses for ``text`` (language, probability), most likely first."""
    global _fast
    if _fast is None:
        with _lock:  # loading the 55 profiles once
            if _fast is None:
                _fast = _FastDetector()
    return _fast.detect_langs(text)


@dataclass(frozen=True)
class Detection:
    """A language decision and what it rests on."""

    language: str
    confident: bool
    source: str  # script | langdetect | letters | words | hint | default


_SCRIPTS = (
    ("HANGUL", "ko"), ("HIRAGANA", "ja"), ("KATAKANA", "ja"), ("CJK", "zh"),
    ("CYRILLIC", "ru"), ("GREEK", "el"), ("ARABIC", "ar"), ("HEBREW", "he"),
    ("THAI", "th"), ("DEVANAGARI", "hi"),
)  # fmt: skip
_IDEOGRAPHIC = frozenset({"zh", "ja", "ko"})


def _script_language(text: str) -> str | None:
    """Return the language a non-Latin writing system gives away, if that script dominates."""
    # Weigh scripts in words: a run of letters of an alphabet is one word, an ideograph or a
    # Hangul syllable about one, so "ok google 能開始周杰倫嗎" is Chinese and "Farrokhzad 的
    # 最佳" too, while one Latin brand name does not outweigh a Russian sentence.
    units: dict[str, int] = {}
    prev = ""
    for ch in text:
        if not ch.isalpha():
            prev = ""
            continue
        name = unicodedata.name(ch, "")
        lang = next((lg for script, lg in _SCRIPTS if name.startswith(script)), "latin")
        if lang in _IDEOGRAPHIC or lang != prev:
            units[lang] = units.get(lang, 0) + 1
        prev = lang
    if not units:
        return None
    cjk = sum(units.get(lg, 0) for lg in _IDEOGRAPHIC)
    alphabets = {k: v for k, v in units.items() if k not in _IDEOGRAPHIC}
    best = max(alphabets, key=lambda k: (alphabets[k], k != "latin"), default="latin")
    if cjk and cjk >= alphabets.get(best, 0):
        # Japanese mixes kanji with kana: any kana means Japanese; Korean likewise.
        if units.get("ja"):
            return "ja"
        if units.get("ko"):
            return "ko"
        return "zh"
    return None if best == "latin" else best


def _word_vote(text: str, supported: Sequence[str]) -> list[tuple[str, float]]:
    """Score the supported languages by their frequent words, best first."""
    scores: dict[str, float] = {}
    for token in _TOKEN.findall(text.casefold().replace("\u2019", "'")):
        langs = _WORD_LANGS.get(token)
        if langs is None and token.endswith("'"):  # "it's" -> "it'" -> "it"
            langs = _WORD_LANGS.get(token[:-1])
        if not langs:
            continue
        usable = [lg for lg in langs if lg in supported]
        for lg in usable:
            scores[lg] = scores.get(lg, 0.0) + 1.0 / len(usable)
    return sorted(scores.items(), key=lambda kv: (-kv[1], kv[0]))


def _vote_lead(vote: list[tuple[str, float]]) -> tuple[str | None, float, float]:
    """Return the word vote's winner, its score and its lead over the runner-up."""
    if not vote:
        return None, 0.0, 0.0
    lang, score = vote[0]
    return lang, score, score - (vote[1][1] if len(vote) > 1 else 0.0)


def _langdetect(text: str, supported: Sequence[str]) -> list[tuple[str, float]]:
    """Return langdetect's guesses among the supported languages, most likely first."""
    try:
        guesses = detect_langs(text)
    except LangDetectException:
        return []
    out: list[tuple[str, float]] = []
    for lang, prob in guesses:
        code = "zh" if lang.startswith("zh") else lang
        if code in supported and code not in {c for c, _ in out}:
            out.append((code, prob))
    return out


def language_code(tag: str) -> str:
    """Return the language code of a language tag: "de-AT" and "de_AT" -> "de"."""
    return tag.strip().split("-")[0].split("_")[0].lower()


def supported_language(tag: str, supported: Sequence[str]) -> str:
    """Return the code of an explicitly chosen language; InputError when it is not supported."""
    code = language_code(tag)
    if code not in supported:
        raise InputError(
            f"language {tag!r} is not supported; use one of: {', '.join(supported)}"
        )
    return code


def detect_language(
    text: str,
    supported: Sequence[str],
    default: str,
    hints: Iterable[str | None] = (),
) -> Detection:
    """Decide the language of ``text``; short or unsure text takes the first usable hint."""
    script = _script_language(text)
    if script is not None:
        if script == "ru" and "ru" not in supported and "uk" in supported:
            script = "uk"
        if script in supported:
            return Detection(script, True, "script")
    letters = sum(ch.isalpha() for ch in text)
    weak: str | None = None
    if letters:
        lowered = text.casefold()
        unique = {lang for ch, lang in _UNIQUE_LETTERS.items() if ch in lowered}
        unique &= set(supported)
        vote = _word_vote(text, supported)
        lead_lang, score, lead = _vote_lead(vote)
        # langdetect is pure-Python n-gram scoring, the dearest step of a message (~2 ms): it
        # runs only where its answer can change the outcome. Clear word evidence on text long
        # enough to judge, with no letter of another language, decides without it.
        if (
            lead_lang is not None and letters >= MIN_LETTERS and score >= STRONG_WORDS + 1
            and lead >= STRONG_MARGIN + 1 and unique <= {lead_lang}
        ):
            return Detection(lead_lang, True, "words")
        # Short text: langdetect only breaks ties between languages sharing a word.
        guesses = _langdetect(text, supported) if letters >= MIN_LETTERS else []
        found = guesses[0] if guesses else None
        if found and found[1] >= MIN_PROBABILITY and letters >= MIN_LETTERS:
            return Detection(found[0], True, "langdetect")
        if len(unique) == 1:
            return Detection(unique.pop(), False, "letters")
        if lead_lang is not None:
            if score >= STRONG_WORDS and lead >= STRONG_MARGIN:
                agrees = found is not None and found[0] == lead_lang
                return Detection(lead_lang, agrees and letters >= MIN_LETTERS, "words")
            if score >= WEAK_WORDS and lead >= WEAK_MARGIN:
                weak = lead_lang
            else:
                # "la", "de", "is" belong to several languages: langdetect picks among
                # those, never outside them ("merci" alone stays with the hints).
                if letters < MIN_LETTERS:
                    guesses = _langdetect(text, supported)
                tied = {lg for lg, sc in vote if sc >= score - 1e-9}
                weak = next((lg for lg, _p in guesses if lg in tied), None)
        if weak is None and found and letters >= MIN_LETTERS and found[1] >= WEAK_PROBABILITY:
            # Long enough to judge, only not sure enough to override the conversation.
            weak = found[0]
    for hint in hints:
        if hint:
            code = language_code(hint)
            if code in supported:
                return Detection(code, False, "hint")
    if weak is not None:
        # One telling word ("bitte", "dónde") and no conversation to go by.
        return Detection(weak, False, "words")
    # No guess from langdetect on short text even when it claims 0.99+: it calls "iPhone 15"
    # English, "merci" Spanish and "Klarna" Swedish; the default is the safer answer.
    return Detection(default, False, "default")
