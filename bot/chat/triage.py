"""Triage: tell what kind of message a shopper sent, before any FAQ matching.

Kinds: ``greeting``, ``thanks`` (and acknowledgements), ``goodbye`` (small talk: answered
with a short reply, never a ticket), ``person`` (asks for a person), ``complaint`` (urgent:
damaged or wrong item, missing parcel, charged twice, fraud, chargeback, anger), ``order``
(about one specific order), ``faq`` (a question: goes on to matching) and ``noise``.

Evidence, in this order (the first that decides wins):

1. words: a message made only of small-talk words, fillers and emoji ("hi there", "ok
   thanks 👍", "tschüss") is small talk; one made of laughter, keyboard mash or stray emoji
   is noise. A single word outside the lists must be within one typo of a list word
   ("thnaks").
2. keywords anywhere: asking for a person, a complaint rule (not after "what if ..."), an
   order number or "my order" with a status word.
3. the embedding the bot computed for matching (never a second one): the nearest examples of
   each kind, and the FAQ's own best score. Small talk and noise are taken from it only for
   short messages that ask nothing and sit clearly nearer small talk than any FAQ question.
4. otherwise ``faq``: when in doubt a message goes on to matching.

Being wrong in the direction of ``faq`` costs a shopper little (the bot tries to answer or
asks to clarify); taking a question for small talk loses it, so step 3 is conservative.
"""

from __future__ import annotations

import itertools
import re
import threading
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from bot.chat.triage_data import KINDS, SMALL_TALK, TriageData, load_triage_data
from bot.chat.words import (
    KeywordSet,
    elongations,
    fold,
    is_emoji,
    is_word,
    tokens,
    unspaced,
)
from bot.matching.embedder import Embedder, Vectors

# Kinds that go on to FAQ matching.
SUBSTANTIVE = ("faq", "order", "complaint")
_PRECEDENCE = ("goodbye", "thanks", "greeting")  # "ok thanks bye" is a goodbye
_FILLER = "filler"
_EMOJI = "emoji"  # a pictograph that is neither thanks nor a greeting
_EITHER = "greeting-or-goodbye"  # "ciao", "salut": only the context tells
_MAX_PHRASE = 6  # tokens in the longest word-list phrase looked up
_ORDER_NUMBER = re.compile(
    r"(?:#|n[°ºo]\.?\s*|nr\.?\s*|no\.\s*|№\s*|番号\s*|번호\s*)\s*(\d{3,12})\b|\b(\d{4,12})\b"
)
_DIGIT = re.compile(r"\d")
# Laughter and keyboard mash, after folding.
_LAUGHTER = re.compile(
    r"^(?:(?:(?:h|j)[aeiou]|[aeiou]h)h?){2,}$|^k{3,}$|^(?:rs){2,}$|^x+d+$|^(?:sj|js|hd|dh|sk)+$"
    r"|^[ㅋㅎㅠㅜ]{2,}$|^[哈呵嘿嘻]{2,}$|^[wｗ笑草]{2,}$|^(?:ах|ха)+а?х?$|^lo+l$|^l+m+a+o+$"
)
_REPEATED = re.compile(r"^(.)\1{2,}$|^(.{2,3})\2+$")
_LATIN_VOWELS = set("aeiouyäöüåæøœ")
_ROWS = ("qwertyuiop", "asdfghjkl", "zxcvbnm", "azertyuiop", "qsdfghjklm", "wxcvbn",
         "qwertzuiop", "yxcvbnm", "йцукенгшщзхъ", "фывапролджэ", "ячсмитьбю")


@dataclass(frozen=True)
class Thresholds:
    """Cosines the embedding evidence must reach; tuned on tests/data/triage_dev.jsonl."""

    small_talk: float = 0.70  # nearest small-talk example
    small_talk_margin: float = 0.15  # ... ahead of the nearest FAQ question
    noise: float = 0.60
    noise_margin: float = 0.15
    person: float = 0.78
    person_margin: float = 0.08
    complaint: float = 0.78
    complaint_margin: float = 0.08
    order: float = 0.80
    order_margin: float = 0.08


@dataclass(frozen=True)
class TriageResult:
    """What kind of message it is, how urgent, and what decided it."""

    kind: str
    priority: str = "normal"  # "urgent" for complaints (and any text a complaint rule hits)
    evidence: str = "default"  # words | emoji | keywords | order-number | embedding | default
    rule: str | None = None  # the complaint rule that fired
    score: float = 0.0  # the nearest example's cosine, when the embedding decided
    order_number: str | None = None
    # A single word and nothing else ("Paket", "refund"): too little to open a ticket on.
    vague: bool = False

    @property
    def small_talk(self) -> bool:
        """Tell whether the message is a greeting, thanks or goodbye."""
        return self.kind in SMALL_TALK

    @property
    def substantive(self) -> bool:
        """Tell whether the message goes on to FAQ matching."""
        return self.kind in SUBSTANTIVE


@dataclass(frozen=True)
class _Rule:
    name: str
    keywords: KeywordSet


class _Examples:
    """The example messages embedded once per vector space, grouped by kind."""

    def __init__(self, vectors: Vectors, kinds: list[str]) -> None:
        order = np.argsort([KINDS.index(k) for k in kinds], kind="stable")
        self.vectors = np.ascontiguousarray(vectors[order])
        sorted_kinds = [kinds[i] for i in order]
        self.kinds = [k for k in KINDS if k in sorted_kinds]
        self.starts = np.array([sorted_kinds.index(k) for k in self.kinds], dtype=np.intp)

    def scores(self, vector: Vectors) -> dict[str, float]:
        sims = self.vectors @ vector
        best = np.maximum.reduceat(sims, self.starts)
        return {k: float(s) for k, s in zip(self.kinds, best, strict=True)}


# Embedded examples per (model name, examples): a process embeds each set once, however
# many apps (tests) or lanes ask for it.
_EMBEDDED: dict[tuple[str, int], _Examples] = {}
_EMBED_LOCK = threading.Lock()


class TriageClassifier:
    """Classify shopper messages from word lists, keywords and the message's embedding."""

    def __init__(
        self,
        data: TriageData,
        rules: Iterable[tuple[str, KeywordSet]] | None = None,
        thresholds: Thresholds | None = None,
    ) -> None:
        """Build the lookups; ``rules`` (name, keywords) replace the file's complaint rules."""
        self.data = data
        self.thresholds = thresholds or Thresholds()
        self._phrases: dict[tuple[str, ...], set[str]] = {}
        self._chunks: dict[str, set[str]] = {}  # unspaced list entries, for segmenting
        self._emoji: dict[str, str] = {}
        for label, name in (*((k, f"{k}.words") for k in (*SMALL_TALK, "noise")),
                            (_FILLER, "fillers"), (_FILLER, "polite")):
            for phrase in data.get(name):
                self._add_phrase(phrase, label)
        for kind in (*SMALL_TALK, "noise"):
            for emoji in data.get(f"{kind}.emoji"):
                self._emoji[fold(emoji)] = kind
        for labels in (*self._phrases.values(), *self._chunks.values()):
            if {"greeting", "goodbye"} <= labels:
                labels -= {"greeting", "goodbye"}
                labels.add(_EITHER)
        self._chunk_max = max((len(c) for c in self._chunks), default=1)
        self._fuzzy = _DeletionIndex(
            (p[0] for p, labels in self._phrases.items() if len(p) == 1 and labels - {_FILLER}),
            min_len=4,
        )
        self._polite = {fold(w) for w in data.get("polite")}
        self._skip = {p[0] for p, labels in self._phrases.items()
                      if len(p) == 1 and _FILLER in labels} | self._polite
        self._person = KeywordSet(data.get("person.keywords"))
        short = [_word_tuple(w) for w in data.get("person.short_words")]
        self._person_short = {p[0] for p in short if len(p) == 1}
        self._person_phrases = sorted({p for p in short if len(p) > 1}, key=len, reverse=True)
        self._person_short_unspaced = sorted(
            (w for w in self._person_short if unspaced(w[0])), key=len, reverse=True)
        self._person_unless = KeywordSet(data.get("person.unless"))
        self._person_requests = {fold(w) for w in data.get("person.requests")}
        self._requests_unspaced = sorted(
            (w for w in self._person_requests | self._polite if unspaced(w[0])),
            key=len, reverse=True)
        self._polite_phrases = sorted(
            {p for w in data.get("polite") if len(p := _word_tuple(w)) > 1},
            key=len, reverse=True)
        self._order = KeywordSet(data.get("order.keywords"))
        self._order_nouns = KeywordSet(data.get("order.nouns"))
        self._order_status = KeywordSet(data.get("order.status"))
        self._questions = KeywordSet(data.get("question_words"))
        self._hypothetical = KeywordSet(data.get("hypothetical"))
        self._answered = KeywordSet(data.get("answered"))
        if rules is None:
            rules = [(str(r["name"]), KeywordSet(w for ws in r["keywords"].values() for w in ws))
                     for r in data.rules]
        self._rules = [_Rule(name, keywords) for name, keywords in rules if keywords]
        self._rule_entries = {str(r["name"]): tuple(r.get("entries", ())) for r in data.rules}
        self._examples_key = hash(tuple((e.kind, e.text) for e in data.examples))
        self._talk_langs: dict[tuple[str, ...], set[str]] = {}
        for phrase, langs in data.word_languages.items():
            toks = tuple(t for t in tokens(fold(phrase)) if is_word(t))[:_MAX_PHRASE]
            if toks:
                self._talk_langs.setdefault(toks, set()).update(langs)

    def entries_for(self, result: TriageResult) -> tuple[str, ...]:
        """Return the FAQ entries the complaint rule that fired names (empty for none)."""
        return self._rule_entries.get(result.rule or "", ())

    def says_answered(self, text: str) -> bool:
        """Tell whether a waiting shopper says the question is answered ("never mind, found it").

        Only a short statement counts: "I found it, but how do I return it?" asks again.
        """
        folded = fold(text)
        if "?" in folded:
            return False
        toks = tokens(folded)
        return sum(map(is_word, toks)) <= 10 and self._answered.search(folded, toks) is not None

    def language_of(self, text: str, supported: Sequence[str]) -> list[str]:
        """Return the languages whose small-talk words make up ``text``, in ``supported``'s order.

        "danke" -> [de], "hallo" -> [de, nl], "ok" -> every language; empty when some word is
        neither small talk nor a filler. Fillers ("so", "sehr") and punctuation say nothing.
        """
        units = [t for t in tokens(fold(text)) if is_word(t)]
        langs: set[str] | None = None
        i = 0
        while i < len(units):
            for j in range(min(len(units), i + _MAX_PHRASE), i, -1):
                found = self._talk_langs.get(tuple(units[i:j]))
                if found is not None:
                    langs = set(found) if langs is None else langs & found
                    i = j
                    break
            else:
                if units[i] not in self._skip:
                    return []
                i += 1
        return [lang for lang in supported if lang in langs] if langs else []

    @classmethod
    def load(cls, extra: Path | None = None, **kwargs: object) -> TriageClassifier:
        """Load the shipped word lists plus a shop's file (FAQBOT_TRIAGE_FILE)."""
        return cls(load_triage_data(extra), **kwargs)  # type: ignore[arg-type]

    def _add_phrase(self, phrase: str, label: str) -> None:
        toks = tuple(t for t in tokens(fold(phrase)) if is_word(t))
        if not toks:
            return
        self._phrases.setdefault(toks[:_MAX_PHRASE], set()).add(label)
        if len(toks) == 1 and unspaced(toks[0][0]):
            self._chunks.setdefault(toks[0], set()).add(label)

    # ---- the embedding ----
    def prepare(self, embedder: Embedder) -> None:
        """Embed the examples with ``embedder`` (once per process and model)."""
        self._examples_for(embedder)

    def _examples_for(self, embedder: Embedder) -> _Examples | None:
        if not self.data.examples:
            return None
        key = (embedder.name, self._examples_key)
        with _EMBED_LOCK:
            found = _EMBEDDED.get(key)
            if found is None:
                texts = [e.text for e in self.data.examples]
                vectors = np.vstack([embedder.embed(texts[i:i + 64])
                                     for i in range(0, len(texts), 64)])
                found = _EMBEDDED[key] = _Examples(vectors, [e.kind for e in
                                                             self.data.examples])
            return found

    # ---- classifying ----
    def classify(
        self,
        text: str,
        vector: Vectors | None = None,
        embedder: Embedder | None = None,
        faq_score: float | None = None,
    ) -> TriageResult:
        """Return the kind of ``text``.

        ``vector`` is the message's embedding by ``embedder`` (whose space the examples are
        embedded in); ``faq_score`` is the best cosine the FAQ index gave it. Without them
        only words decide.
        """
        folded = fold(text)
        toks = tokens(folded)
        words = [t for t in toks if is_word(t)]
        urgent = self._urgent(folded, toks)
        priority = "urgent" if urgent else "normal"
        if not words:
            return self._symbols(toks, priority)
        covered = self._cover(toks)
        if covered is not None:
            kind = _small_talk(covered)
            if kind is not None:
                return TriageResult(kind, priority, "words")
            if covered & {"noise", _EMOJI}:
                return TriageResult("noise", priority, "words")
        if self._asks_person(folded, toks, words):
            return TriageResult("person", priority, "keywords", urgent)
        if urgent:
            return TriageResult("complaint", "urgent", "keywords", urgent)
        number = self._order_number(folded, words)
        if number is not None:
            return TriageResult("order", priority, "order-number", order_number=number)
        if self._order.search(folded, toks) and self._order_status.search(folded, toks):
            return TriageResult("order", priority, "keywords")
        if all(_noise_shaped(w) for w in words) and not _DIGIT.search(folded):
            return TriageResult("noise", priority, "words")
        if vector is not None and embedder is not None:
            decided = self._by_embedding(folded, toks, words, vector, embedder, faq_score)
            if decided is not None:
                return decided
        content = [w for w in words if w not in self._skip]
        vague = len(content) == 1 and not _DIGIT.search(folded) and (
            not unspaced(content[0][0]) or len(content[0]) <= 3)
        return TriageResult("faq", priority, vague=vague)

    def _symbols(self, toks: list[str], priority: str) -> TriageResult:
        """Classify a message with no words: emoji and punctuation only."""
        kinds = {self._emoji.get(t, _EMOJI) for t in toks if is_emoji(t)}
        for kind in _PRECEDENCE:
            if kind in kinds:
                return TriageResult(kind, priority, "emoji")
        return TriageResult("noise", priority, "emoji" if kinds else "words")

    def _cover(self, toks: list[str]) -> set[str] | None:
        """Return the labels of list phrases covering every token, or None if some is left.

        Punctuation covers itself; emoji count as thanks, greeting or stray. Among the ways
        to cover the message the one with the fewest phrases wins.
        """
        units = [t for t in toks if is_word(t) or is_emoji(t)]
        n = len(units)
        best: list[tuple[int, frozenset[str]] | None] = [None] * (n + 1)
        best[0] = (0, frozenset())
        for i in range(n):
            here = best[i]
            if here is None:
                continue
            for j in range(i + 1, min(n, i + _MAX_PHRASE) + 1):
                labels = self._labels(units[i:j])
                if labels is None:
                    continue
                step = (here[0] + 1, here[1] | labels)
                seen = best[j]
                if seen is None or step[0] < seen[0]:
                    best[j] = step
        end = best[n]
        if end is None:
            return None
        found = set(end[1]) - {_FILLER}
        return found or None  # fillers alone ("so", "the") say nothing

    def _labels(self, units: list[str]) -> frozenset[str] | None:
        if len(units) == 1:
            unit = units[0]
            if is_emoji(unit):
                return frozenset([self._emoji.get(unit, _EMOJI)])
            if _LAUGHTER.match(unit):  # before "k" (ok): "kkkkkk" is laughter
                return frozenset(["noise"])
            for variant in elongations(unit):
                found = self._phrases.get((variant,))
                if found:
                    return frozenset(found)
            if _REPEATED.match(unit):
                return frozenset(["noise"])
            if unspaced(unit[0]):
                return self._segment(unit)
            near = self._fuzzy.lookup(unit)
            return frozenset(label for w in near for label in self._phrases[(w,)]) or None
        found = self._phrases.get(tuple(units))
        return frozenset(found) if found else None

    def _segment(self, chunk: str) -> frozenset[str] | None:
        """Cover unspaced text ("好的谢谢") with list entries, or return None."""
        n = len(chunk)
        reach: list[frozenset[str] | None] = [None] * (n + 1)
        reach[0] = frozenset()
        for i in range(n):
            here = reach[i]
            if here is None:
                continue
            for j in range(min(n, i + self._chunk_max), i, -1):
                labels = self._chunks.get(chunk[i:j])
                if labels and reach[j] is None:
                    reach[j] = here | labels
        return reach[n]

    def _asks_person(self, folded: str, toks: list[str], words: list[str]) -> bool:
        """Tell whether the message asks for a person (not about one: "support hours?")."""
        if self._person_unless.search(folded, toks):
            return False
        if self._person.search(folded, toks):
            return True
        rest = list(words)
        named = _cut(rest, self._person_phrases)  # "customer service", "служба поддержки"
        _cut(rest, self._polite_phrases)  # "per favore", "s'il vous plaît"
        rest = [w for w in rest if w not in self._skip and w not in self._person_requests]
        if not rest:
            return named
        if len(rest) > 3:
            return False
        # Only person words and polite ones: "human please", "echter Mitarbeiter", "人工客服".
        return all(w in self._person_short or (unspaced(w[0]) and self._only_person(w))
                   for w in rest)

    def _only_person(self, chunk: str) -> bool:
        """Tell whether unspaced text is person words plus request or list words ("请转客服")."""
        found = False
        for word in self._person_short_unspaced:
            if word in chunk:
                found = True
                chunk = chunk.replace(word, " ")
        for word in self._requests_unspaced:
            chunk = chunk.replace(word, " ")
        return found and all(self._segment(p) is not None for p in chunk.split())

    def _urgent(self, folded: str, toks: list[str]) -> str | None:
        """Return the first complaint rule the text hits, unless it asks "what if ..."."""
        for rule in self._rules:
            if rule.keywords.search(folded, toks):
                if self._hypothetical.search(folded, toks) and (
                    "?" in folded or self._questions.search(folded, toks)
                ):
                    return None
                return rule.name
        return None

    def _order_number(self, folded: str, words: list[str]) -> str | None:
        for m in _ORDER_NUMBER.finditer(folded):
            number = m.group(1) or m.group(2)
            marked = m.group(1) is not None
            nouns = self._order_nouns.search(folded)
            if marked or nouns or len(words) <= 2:
                return number
        return None

    def _by_embedding(
        self,
        folded: str,
        toks: list[str],
        words: list[str],
        vector: Vectors,
        embedder: Embedder,
        faq_score: float | None,
    ) -> TriageResult | None:
        examples = self._examples_for(embedder)
        if examples is None:
            return None
        t = self.thresholds
        scores = examples.scores(vector)
        faq = max(scores.get("faq", 0.0), faq_score if faq_score is not None else 0.0)
        # Short: at most three words, and about as long (unspaced text counts thrice).
        short = len(words) <= 3 and sum(
            len(w) * (3 if unspaced(w[0]) else 1) for w in words) <= 24
        asks = "?" in folded or bool(_DIGIT.search(folded)) or bool(
            self._questions.search(folded, toks))
        if short and not asks:
            kind = max(SMALL_TALK, key=lambda k: scores.get(k, 0.0))
            score = scores.get(kind, 0.0)
            if score >= t.small_talk and score - faq >= t.small_talk_margin:
                return TriageResult(kind, "normal", "embedding", score=score)
            noise = scores.get("noise", 0.0)
            if len(words) <= 2 and noise >= t.noise and noise - faq >= t.noise_margin:
                return TriageResult("noise", "normal", "embedding", score=noise)
        for kind, floor, margin in (("person", t.person, t.person_margin),
                                    ("complaint", t.complaint, t.complaint_margin),
                                    ("order", t.order, t.order_margin)):
            score = scores.get(kind, 0.0)
            if score >= floor and score - faq >= margin:
                priority = "urgent" if kind == "complaint" else "normal"
                return TriageResult(kind, priority, "embedding", score=score)
        return None


def _word_tuple(text: str) -> tuple[str, ...]:
    return tuple(t for t in tokens(fold(text)) if is_word(t))


def _cut(words: list[str], phrases: Iterable[tuple[str, ...]]) -> bool:
    """Remove every occurrence of the phrases from ``words``; tell whether one was there."""
    found = False
    for phrase in phrases:
        n = len(phrase)
        for i in range(len(words) - n, -1, -1):
            if tuple(words[i:i + n]) == phrase:
                del words[i:i + n]
                found = True
    return found


def _small_talk(labels: set[str]) -> str | None:
    """Return the small-talk kind of a covered message: goodbye, thanks, then greeting.

    A word that greets and parts alike ("ciao", "salut", "cześć") is a greeting, unless
    thanks come with it ("boa noite, obrigado"): that is how conversations end.
    """
    if "goodbye" in labels or (_EITHER in labels and "thanks" in labels):
        return "goodbye"
    if "thanks" in labels:
        return "thanks"
    if "greeting" in labels or _EITHER in labels:
        return "greeting"
    return None


def _noise_shaped(word: str) -> bool:
    """Tell whether a word is laughter, a key held down or a walk along the keyboard."""
    if _LAUGHTER.match(word) or _REPEATED.match(word):
        return True
    if len(word) < 4 or not word.isalpha():
        return False
    if word.isascii() and not (_LATIN_VOWELS & set(word)):
        return True
    pairs = list(itertools.pairwise(word))
    near = sum(1 for a, b in pairs if any(_adjacent(row, a, b) for row in _ROWS))
    return near >= 0.8 * len(pairs)


def _adjacent(row: str, a: str, b: str) -> bool:
    i, j = row.find(a), row.find(b)
    return i >= 0 and j >= 0 and abs(i - j) == 1


class _DeletionIndex:
    """Find list words within one typo of a word (one letter dropped, added or changed)."""

    def __init__(self, words: Iterable[str], min_len: int) -> None:
        self.min_len = min_len
        self._keys: dict[str, set[str]] = {}
        for word in words:
            if len(word) >= min_len and word.isalpha() and not unspaced(word[0]):
                for key in (word, *_deletions(word)):
                    self._keys.setdefault(key, set()).add(word)

    def lookup(self, word: str) -> set[str]:
        """Return list words one letter longer or shorter, or (six letters on) one changed.

        "holaa", "thnks" and "thnaks" find their words; "hora" is not "hola", nor "talla"
        (Spanish: size) "hallå".
        """
        if len(word) < max(5, self.min_len) or not word.isalpha():
            return set()
        found = set(self._keys.get(word, set()))  # a letter missing from the word
        for key in _deletions(word):
            for near in self._keys.get(key, set()):
                # ``key`` is the list word itself (a letter too many), or both lost one.
                if near == key or len(near) >= 6:
                    found.add(near)
        return found


def _deletions(word: str) -> set[str]:
    return {word[:i] + word[i + 1:] for i in range(len(word))}
