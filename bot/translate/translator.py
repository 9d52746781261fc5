"""Translate text offline with installed argostranslate language packs, and manage the packs.

Translation sits at the edges of faqbot (drafting answer translations, showing an agent the
shopper's words); matching never needs it. So every failure here is a ``TranslationError``
that callers turn into a degradation (untranslated text, default language), never a 500.

- ``Translator`` is the interface; ``NullTranslator`` (no packs) translates nothing;
  ``ArgosTranslator`` uses packs already installed in one directory (``FAQBOT_PACKS_DIR``).
- Serving never touches the network: packs are read from disk, the sentence splitter is the
  pack's bundled MiniSBD model or a regex (argostranslate would otherwise download MiniSBD
  or stanza data at the first translation), and the package index is used only by
  ``download_packs``, an explicit command for machines with internet.
- A pair without a direct pack pivots through English (de->en->es).
- Order numbers, SKUs, URLs, e-mails, prices and amounts, Markdown links and code are masked
  with placeholders before the model and restored after it (``mask``/``unmask``); a model
  that drops one fails the translation rather than lose an order number.
- Results are cached (LRU keyed by text, source, target): no second model call.

Why not ``argostranslate.translate``: importing it pulls torch, stanza and spacy (about 5 s
and 340 MB on the target machines), keeps process-wide caches keyed only by pair, and its
stanza splitter fetches resources.json online. This module uses argostranslate's package
format, ``Package`` class, tokenizer and settings, and runs the pack's CTranslate2 model with
the same decoding options as ``argostranslate.translate.apply_packaged_translation``.
"""

from __future__ import annotations

import importlib.util
import logging
import re
import threading
from collections import OrderedDict
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

from bot.errors import ConfigError, TranslationError
from bot.translate.packs import (
    PIVOT,
    PackInfo,
    configure_argostranslate,
    download_packs,
    install_pack,
    language_code,
    list_packs,
)

if TYPE_CHECKING:
    from bot.settings import Settings

log = logging.getLogger(__name__)


# --- protected spans ------------------------------------------------------------------------

# "XQ<n>QX": plain ASCII letters and digits, so sentencepiece keeps it, argostranslate's
# "_" -> " " rewrite cannot touch it, and NMT models copy such code-like tokens verbatim.
# Reading it back tolerates case changes and spaces a model may insert ("xq 0 QX").
PLACEHOLDER = "XQ{}QX"
_PLACEHOLDER_RE = re.compile(r"X\s?Q\s?(\d{1,4})\s?Q\s?X", re.IGNORECASE)

# Thousands may be grouped by "." "," "'" or (narrow) no-break spaces; next to a currency a
# plain space too ("1 299,00 €").
_NUM = r"\d{1,3}(?:[ .,\u00a0\u202f']\d{3})+(?:[.,]\d{1,2})?|\d+(?:[.,]\d+)?"
_CUR = (
    r"[€$£¥₹₽₺₩¢]|(?:US|A|C|NZ|HK|R)\$|"
    r"(?:CHF|EUR|USD|GBP|SEK|NOK|DKK|PLN|CZK|HUF|JPY|CNY|RMB|KRW|RUB|TRY|BRL|zł|kr|Kč)"
)
_PROTECTED_PARTS = {
    # Whole Markdown links and images: the URL must not change, and models mangle brackets.
    "link": r"!?\[[^\]\n]*\]\([^()\s]+(?:\s+\"[^\"\n]*\")?\)",
    "code": r"`[^`\n]+`",
    "url": r"(?:https?://|www\.)[^\s<>\"'\[\]]*[^\s<>\"'\[\].,;:!?)]",
    "email": r"[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}",
    "placeholder": _PLACEHOLDER_RE.pattern,  # input that looks like ours is kept verbatim too
    "money": (
        rf"(?<![\w])(?:{_CUR})\s?-?(?:{_NUM})(?![\d])"
        rf"|(?<![\w.,])-?(?:{_NUM})\s?(?:{_CUR})(?![A-Za-z])"
    ),
    "percent": r"(?<![\w.,])\d+(?:[.,]\d+)?\s?%",
    "hash_number": r"(?<![\w#])#\d[\d-]*(?![\w])",
    # SKUs and order numbers: A-1234, ORD_12345, SKU-AB12-XL, TSH_BLK_M (a separator, an
    # upper-case letter or "_", and a digit or "_"; "30-day" and "e-mail" stay translatable).
    "code_sep": (
        r"(?<![\w-])(?=[A-Za-z0-9_-]*[A-Z_])(?=[A-Za-z0-9_-]*[\d_])"
        r"[A-Za-z0-9]+(?:[-_][A-Za-z0-9]+)+(?![\w-])"
    ),
    "code_plain": r"(?<![\w-])(?=[A-Z0-9]*\d)(?=[A-Z0-9]*[A-Z])[A-Z0-9]{3,}(?![\w-])",
    # Amounts, dates and times with separators (1.299,00 / 49.95 / 24.12.2025 / 14:30).
    "number": r"(?<![\w.,])\d+(?:[.,:/\u00a0\u202f']\d+)+(?![\w])",
}
# One alternation: at each position the earliest-listed kind wins, so a price is not split
# into a number, and a URL inside a Markdown link goes with the link.
_PROTECTED_RE = re.compile("|".join(f"(?:{p})" for p in _PROTECTED_PARTS.values()))
_WORD_RE = re.compile(r"[^\W\d_]", re.UNICODE)


def mask(text: str) -> tuple[str, list[str]]:
    """Replace protected spans with numbered placeholders; return the text and the spans."""
    spans: list[str] = []

    def swap(match: re.Match[str]) -> str:
        spans.append(match.group(0))
        return PLACEHOLDER.format(len(spans) - 1)

    return _PROTECTED_RE.sub(swap, text), spans


def unmask(text: str, spans: list[str]) -> str:
    """Put the protected spans back; raise TranslationError if the model lost or invented one."""
    if not spans:
        return text
    seen: set[int] = set()

    def swap(match: re.Match[str]) -> str:
        index = int(match.group(1))
        if index >= len(spans):
            raise TranslationError(f"the translation holds an unknown placeholder #{index}")
        seen.add(index)
        return spans[index]

    restored = _PLACEHOLDER_RE.sub(swap, text)
    missing = sorted(set(range(len(spans))) - seen)
    if missing:
        raise TranslationError(
            f"the translation lost {len(missing)} protected span(s) (order numbers, URLs, "
            "prices ...); the text is left untranslated"
        )
    return restored


# --- interface and the no-pack translator ---------------------------------------------------


@runtime_checkable
class Translator(Protocol):
    """Translate text between language codes; callers degrade on TranslationError."""

    def translate(self, text: str, source: str, target: str) -> str:
        """Return ``text`` in ``target``; raise TranslationError when that cannot be done."""
        ...

    def pairs(self) -> set[tuple[str, str]]:
        """Return every (source, target) this translator can do, pivots included."""
        ...


class _WarnOnce:
    """Log a degradation once per key at WARNING, later ones at DEBUG (no log floods)."""

    def __init__(self) -> None:
        self._seen: set[tuple[str, str]] = set()
        self._lock = threading.Lock()

    def __call__(self, key: tuple[str, str], message: str, exc_info: bool = False) -> None:
        with self._lock:
            first = key not in self._seen
            self._seen.add(key)
        level = logging.WARNING if first else logging.DEBUG
        log.log(level, "translation degraded: %s", message, exc_info=exc_info and first)

    def reset(self) -> None:
        with self._lock:
            self._seen.clear()


class NullTranslator:
    """Translate nothing: the translator of a desk with no language packs installed."""

    def __init__(self, packs_dir: Path | str | None = None) -> None:
        self._hint = (
            f"no translation packs are installed in {packs_dir}"
            if packs_dir is not None
            else "no translation packs are installed"
        )
        self._warn = _WarnOnce()

    def translate(self, text: str, source: str, target: str) -> str:
        """Return ``text`` for same-language requests; raise TranslationError otherwise."""
        src, tgt = language_code(source), language_code(target)
        if src == tgt:
            return text
        message = (
            f"{src}->{tgt}: {self._hint}; install one with `faqbot packs install FILE` "
            "(or `faqbot packs download` where there is internet)"
        )
        self._warn((src, tgt), message)
        raise TranslationError(message)

    def pairs(self) -> set[tuple[str, str]]:
        """Return no pairs."""
        return set()


# --- the argostranslate translator ----------------------------------------------------------

_MD_PREFIX = re.compile(r"^\s*(?:(?:[-*+]|\d{1,3}[.)]|#{1,6}|>)\s+)*")
_SENTENCE_END = re.compile(r"(?<=[.!?…])\s+|(?<=[。！？])")


def _regex_sentences(text: str) -> list[str]:
    return [s for s in (part.strip() for part in _SENTENCE_END.split(text)) if s]


@dataclass
class _Loaded:
    """A pack ready to run: tokenizer, CTranslate2 model and sentence splitter."""

    info: PackInfo
    package: Any  # argostranslate.package.Package
    model: Any  # ctranslate2.Translator
    split: Callable[[str], list[str]]


@dataclass(frozen=True)
class CacheInfo:
    """Counters of the translation cache."""

    hits: int
    misses: int
    size: int
    maxsize: int


class ArgosTranslator:
    """Translate with the argostranslate packs installed in ``packs_dir``, offline.

    Models load on first use of a pair. ``model_calls`` counts CTranslate2 batch calls (one
    per hop of an uncached translation); ``cache_info()`` counts cache hits and misses.
    """

    def __init__(self, packs_dir: Path | str, cache_size: int = 4096) -> None:
        packs_dir = Path(packs_dir)
        if not packs_dir.is_dir():
            raise ConfigError(
                f"FAQBOT_PACKS_DIR: {packs_dir} is not a directory; create it or install a "
                "pack with `faqbot packs install FILE.argosmodel`"
            )
        if isinstance(cache_size, bool) or not isinstance(cache_size, int) or cache_size < 0:
            raise ConfigError(
                f"cache_size must be an integer >= 0 (0 = no cache), got {cache_size!r}"
            )
        self._packs_dir = packs_dir.resolve()
        self._maxsize = cache_size
        self._cache: OrderedDict[tuple[str, str, str], str] = OrderedDict()
        self._hits = 0
        self._misses = 0
        self._model_calls = 0
        self._lock = threading.Lock()  # cache and counters
        self._load_lock = threading.Lock()  # model loading
        self._loaded: dict[tuple[str, str], _Loaded] = {}
        self._broken: dict[tuple[str, str], str] = {}
        self._warn = _WarnOnce()
        self._packs = {p.pair: p for p in list_packs(self._packs_dir)}

    @property
    def packs_dir(self) -> Path:
        """Return the directory the packs are read from."""
        return self._packs_dir

    @property
    def model_calls(self) -> int:
        """Return how many times a model was run (one per hop)."""
        return self._model_calls

    def list_packs(self) -> list[PackInfo]:
        """Return the installed packs."""
        return [self._packs[pair] for pair in sorted(self._packs)]

    def install_pack(self, path: Path | str) -> str:
        """Install an .argosmodel file, start using it, and return its pair as 'de->en'."""
        info = install_pack(Path(path), self._packs_dir)
        self.reload()
        return f"{info.from_code}->{info.to_code}"

    def download_packs(self, codes: Iterable[str]) -> list[str]:
        """Download packs to and from English for ``codes`` (needs internet); see module doc."""
        infos = download_packs(codes, self._packs_dir)
        self.reload()
        return [f"{i.from_code}->{i.to_code}" for i in infos]

    def reload(self) -> None:
        """Re-read the packs directory, drop loaded models and empty the cache."""
        with self._load_lock:
            self._packs = {p.pair: p for p in list_packs(self._packs_dir)}
            self._loaded.clear()
            self._broken.clear()
        with self._lock:
            self._cache.clear()
        self._warn.reset()

    def preload(self) -> list[str]:
        """Load every pack now (at server start, so no shopper waits); return the failures."""
        failures = []
        for pair in sorted(self._packs):
            try:
                self._pack(pair)
            except TranslationError as exc:
                self._warn((f"{pair[0]}->{pair[1]}", str(exc)), str(exc))
                failures.append(str(exc))
        return failures

    def pairs(self) -> set[tuple[str, str]]:
        """Return direct pairs and those reachable through English."""
        direct = set(self._packs)
        into = {s for s, t in direct if t == PIVOT}
        out_of = {t for s, t in direct if s == PIVOT}
        return direct | {(s, t) for s in into for t in out_of if s != t}

    def cache_info(self) -> CacheInfo:
        """Return the cache counters."""
        with self._lock:
            return CacheInfo(self._hits, self._misses, len(self._cache), self._maxsize)

    def translate(self, text: str, source: str, target: str) -> str:
        """Return ``text`` in ``target``, protected spans unchanged; raise TranslationError."""
        src, tgt = language_code(source), language_code(target)
        if src == tgt or not text.strip():
            return text
        key = (text, src, tgt)
        with self._lock:
            cached = self._cache.get(key)
            if cached is not None:
                self._cache.move_to_end(key)
                self._hits += 1
                return cached
            self._misses += 1
        route = self._route(src, tgt)
        masked, spans = mask(text)
        if not _WORD_RE.search(_PLACEHOLDER_RE.sub("", masked)):
            result = text  # nothing but codes, numbers and links: nothing to translate
        else:
            try:
                out = masked
                for pair in route:
                    out = self._run(pair, out)
                result = unmask(out, spans)
            except TranslationError as exc:
                # Messages name pairs, packs and counts, never the shopper's words.
                self._warn((f"{src}->{tgt}", str(exc)), f"{src}->{tgt}: {exc}")
                raise
            except Exception as exc:  # the model or tokenizer failed: degrade, never a 500
                message = f"{src}->{tgt}: the translation model failed ({type(exc).__name__})"
                self._warn((f"{src}->{tgt}", type(exc).__name__), message, exc_info=True)
                raise TranslationError(f"{message}: {exc}") from exc
        if self._maxsize:
            with self._lock:
                self._cache[key] = result
                self._cache.move_to_end(key)
                while len(self._cache) > self._maxsize:
                    self._cache.popitem(last=False)
        return result

    def _route(self, src: str, tgt: str) -> list[tuple[str, str]]:
        if (src, tgt) in self._packs:
            return [(src, tgt)]
        if (src, PIVOT) in self._packs and (PIVOT, tgt) in self._packs:
            return [(src, PIVOT), (PIVOT, tgt)]
        installed = ", ".join(f"{s}->{t}" for s, t in sorted(self._packs)) or "none"
        message = (
            f"{src}->{tgt}: no language pack for this pair, directly or through English "
            f"(installed: {installed}); install one with `faqbot packs install FILE`"
        )
        self._warn((src, tgt), message)
        raise TranslationError(message)

    def _pack(self, pair: tuple[str, str]) -> _Loaded:
        loaded = self._loaded.get(pair)
        if loaded is not None:
            return loaded
        with self._load_lock:
            if pair in self._loaded:
                return self._loaded[pair]
            if pair in self._broken:
                raise TranslationError(self._broken[pair])
            info = self._packs[pair]
            try:
                loaded = self._load(info)
            except Exception as exc:
                message = f"{pair[0]}->{pair[1]}: the pack at {info.path} cannot be loaded: {exc}"
                log.debug("loading %s failed", info.path, exc_info=True)
                self._broken[pair] = message  # fail fast from now on; `reload()` tries again
                raise TranslationError(message) from exc
            self._loaded[pair] = loaded
            return loaded

    def _load(self, info: PackInfo) -> _Loaded:
        argos_package = configure_argostranslate(self._packs_dir)
        import argostranslate.settings as argos_settings
        import ctranslate2

        package = argos_package.Package(info.path)
        if getattr(package, "tokenizer", None) is None:
            raise TranslationError(f"{info.path}: argostranslate found no tokenizer")
        model = ctranslate2.Translator(
            str(info.path / "model"),
            device=argos_settings.device,
            inter_threads=argos_settings.inter_threads,
            intra_threads=argos_settings.intra_threads,
            compute_type=argos_settings.compute_type,
        )
        split: Callable[[str], list[str]] = _regex_sentences
        onnx = sorted((info.path / "minisbd").glob("*.onnx"))
        if onnx:
            from minisbd import SBDetect

            detector = SBDetect(str(onnx[0]), use_gpu=argos_settings.device == "cuda")

            def split(text: str) -> list[str]:
                try:
                    return [s.strip() for s in detector.sentences(text) if s.strip()]
                except Exception:  # MiniSBD trips on some inputs; a regex split is fine
                    log.debug("MiniSBD failed on a paragraph; using the regex splitter")
                    return _regex_sentences(text)

        log.info("loaded language pack %s", info)
        return _Loaded(info=info, package=package, model=model, split=split)

    def _run(self, pair: tuple[str, str], text: str) -> str:
        """Translate masked text through one pack, paragraph by paragraph, in one batch."""
        import argostranslate.settings as argos_settings

        pack = self._pack(pair)
        layout: list[tuple[str, int]] = []  # per paragraph: Markdown prefix, sentence count
        sentences: list[str] = []
        for paragraph in text.split("\n"):
            prefix = _MD_PREFIX.match(paragraph)
            head = prefix.group(0) if prefix else ""
            body = paragraph[len(head) :].strip()
            found = pack.split(body) if body else []
            layout.append((head, len(found)))
            sentences.extend(found)
        translated: list[str] = []
        if sentences:
            tokenizer = pack.package.tokenizer
            prefix_token = pack.package.target_prefix
            tokens = [tokenizer.encode(s) for s in sentences]
            with self._lock:
                self._model_calls += 1
            results = pack.model.translate_batch(
                tokens,
                target_prefix=[[prefix_token]] * len(tokens) if prefix_token else None,
                replace_unknowns=True,
                max_batch_size=argos_settings.batch_size,
                batch_type="tokens",
                beam_size=argos_settings.beam_size,
                num_hypotheses=1,
                length_penalty=0.2,
            )
            for result in results:
                value = tokenizer.decode(result.hypotheses[0])
                if prefix_token and value.startswith(prefix_token):
                    value = value[len(prefix_token) :]
                translated.append(value.strip())
        # Chinese and Japanese sentences follow each other without a space.
        glue = "" if pair[1] in {"zh", "zt", "ja"} else " "
        out: list[str] = []
        pos = 0
        for head, count in layout:
            out.append(head + glue.join(translated[pos : pos + count]))
            pos += count
        return "\n".join(out)


def translator_from_settings(settings: Settings) -> Translator:
    """Return an ArgosTranslator when packs are installed in settings.packs_dir, else a Null one."""
    packs_dir = Path(settings.packs_dir)
    packs = list_packs(packs_dir)
    if not packs:
        log.info("no translation packs in %s: answers stay in the languages written", packs_dir)
        return NullTranslator(packs_dir)
    missing = [m for m in ("argostranslate", "ctranslate2") if importlib.util.find_spec(m) is None]
    if missing:
        log.warning(
            "translation packs are installed in %s but %s is missing: pip install "
            "'faqbot[translate]'; translating nothing",
            packs_dir,
            " and ".join(missing),
        )
        return NullTranslator(packs_dir)
    log.info("translation packs: %s", ", ".join(f"{p.from_code}->{p.to_code}" for p in packs))
    return ArgosTranslator(packs_dir)
