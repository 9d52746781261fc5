"""Argostranslate language packs on disk: read, list, install, download (explicitly).

A pack is a directory (metadata.json, a CTranslate2 model, a tokenizer, maybe a MiniSBD
sentence splitter) in ``FAQBOT_PACKS_DIR``. Serving only reads them; ``install_pack`` checks
an .argosmodel archive before anything is unpacked, and ``download_packs`` (the only use of
the network) is an explicit command for machines with internet.
"""

from __future__ import annotations

import json
import logging
import os
import re
import shutil
import tempfile
import threading
import zipfile
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any

from bot.errors import TranslationError

log = logging.getLogger(__name__)

PIVOT = "en"
_CODE = re.compile(r"^[a-z]{2,3}(?:[-_][a-z0-9]{2,8})?$")


def language_code(code: str) -> str:
    """Return a pack's language code normalised; TranslationError when it is not one."""
    norm = code.strip().lower()
    if not _CODE.match(norm):
        raise TranslationError(f"{code!r} is not a language code such as 'de' or 'en'")
    return norm


# --- packs on disk --------------------------------------------------------------------------


@dataclass(frozen=True)
class PackInfo:
    """One installed pack, read from its metadata.json."""

    from_code: str
    to_code: str
    version: str
    path: Path
    from_name: str = ""
    to_name: str = ""
    splitter: str = "regex"  # "minisbd" (bundled model) or "regex" (faqbot's own, offline)

    @property
    def pair(self) -> tuple[str, str]:
        """Return (from_code, to_code)."""
        return (self.from_code, self.to_code)

    def __str__(self) -> str:
        names = f" ({self.from_name} -> {self.to_name})" if self.from_name else ""
        return f"{self.from_code}->{self.to_code} {self.version}{names} at {self.path}"


def _version_key(version: str) -> tuple[int, ...]:
    return tuple(int(p) for p in re.findall(r"\d+", version)) or (0,)


def read_pack(path: Path) -> PackInfo:
    """Read and check one installed pack directory; raise TranslationError if unusable."""
    meta_path = path / "metadata.json"
    try:
        meta = json.loads(meta_path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise TranslationError(f"{path}: not a language pack (no metadata.json)") from None
    except (OSError, ValueError) as exc:
        raise TranslationError(f"{meta_path}: unreadable ({exc})") from None
    if not isinstance(meta, dict):
        raise TranslationError(f"{meta_path}: expected a JSON object")
    if meta.get("type", "translate") != "translate":
        raise TranslationError(f"{meta_path}: a {meta.get('type')!r} package, not a translation")
    codes = []
    for key in ("from_code", "to_code"):
        value = meta.get(key)
        if not isinstance(value, str) or not _CODE.match(value.lower()):
            raise TranslationError(f"{meta_path}: {key} must be a language code, got {value!r}")
        codes.append(value.lower())
    if not (path / "model").is_dir():
        raise TranslationError(f"{path}: no model/ directory (a CTranslate2 model is needed)")
    if not ((path / "sentencepiece.model").is_file() or (path / "bpe.model").is_file()):
        raise TranslationError(f"{path}: no sentencepiece.model or bpe.model tokenizer")
    has_minisbd = any((path / "minisbd").glob("*.onnx"))
    return PackInfo(
        from_code=codes[0],
        to_code=codes[1],
        version=str(meta.get("package_version", "")),
        path=path,
        from_name=str(meta.get("from_name", "")),
        to_name=str(meta.get("to_name", "")),
        splitter="minisbd" if has_minisbd else "regex",
    )


def list_packs(packs_dir: Path) -> list[PackInfo]:
    """Return the usable packs in ``packs_dir``, one per pair (newest version), sorted."""
    best: dict[tuple[str, str], PackInfo] = {}
    if not packs_dir.is_dir():
        return []
    for path in sorted(packs_dir.iterdir()):
        if not path.is_dir() or path.name.startswith("."):
            continue
        try:
            info = read_pack(path)
        except TranslationError as exc:
            log.warning("skipping a language pack: %s", exc)
            continue
        old = best.get(info.pair)
        if old is None or _version_key(info.version) > _version_key(old.version):
            if old is not None:
                log.warning("two packs for %s->%s; using %s", *info.pair, info.path)
            best[info.pair] = info
    return [best[pair] for pair in sorted(best)]


def install_pack(path: Path, packs_dir: Path) -> PackInfo:
    """Check an .argosmodel file and install it into ``packs_dir``, replacing the same pair.

    The layout is the one ``argostranslate.package.install_from_path`` produces (the zip's
    top-level folder under the packages directory), but the archive is checked first and
    unpacked next to its destination, so a bad file never leaves half a pack behind.
    """
    path = Path(path)
    if not path.is_file():
        raise TranslationError(f"{path}: no such file")
    if not zipfile.is_zipfile(path):
        raise TranslationError(f"{path}: not an .argosmodel (a zip archive is expected)")
    with zipfile.ZipFile(path) as zf:
        names = [n for n in zf.namelist() if n and not n.endswith("/")]
        tops = {PurePosixPath(n).parts[0] for n in names}
        if len(tops) != 1:
            raise TranslationError(f"{path}: expected one top-level folder, found {sorted(tops)}")
        top = tops.pop()
        bad = [n for n in names if n.startswith("/") or ".." in PurePosixPath(n).parts]
        if bad or top.startswith("."):
            raise TranslationError(f"{path}: unsafe paths in the archive: {bad[:3] or [top]}")
        if f"{top}/metadata.json" not in names:
            raise TranslationError(f"{path}: {top}/metadata.json is missing")
        packs_dir.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(prefix=".installing-", dir=packs_dir))
        try:
            zf.extractall(staging)
            info = read_pack(staging / top)
            dest = packs_dir / top
            for old in list_packs(packs_dir):
                if old.pair == info.pair and old.path != dest:
                    shutil.rmtree(old.path)
            if dest.exists():
                shutil.rmtree(dest)
            (staging / top).rename(dest)
        finally:
            shutil.rmtree(staging, ignore_errors=True)
    installed = read_pack(dest)
    log.info("installed language pack %s", installed)
    return installed


# --- argostranslate, imported lazily ---------------------------------------------------------

_ARGOS_LOCK = threading.Lock()


def configure_argostranslate(packs_dir: Path) -> Any:
    """Point argostranslate at ``packs_dir`` and import its package module.

    argostranslate reads its settings when first imported, so the environment is set first;
    when it was imported earlier (another translator, a test), its settings are repointed.
    """
    with _ARGOS_LOCK:
        os.environ["ARGOS_PACKAGES_DIR"] = str(packs_dir)
        # The other providers (LibreTranslate, OpenAI) are remote services.
        os.environ["ARGOS_MODEL_PROVIDER"] = "OPENNMT"
        try:
            import argostranslate.package as argos_package
            import argostranslate.settings as argos_settings
        except ImportError as exc:
            raise TranslationError(
                f"argostranslate is not installed ({exc}); pip install 'faqbot[translate]'"
            ) from exc
        except OSError as exc:  # it creates ~/.local/share/argos-translate on import
            raise TranslationError(
                f"argostranslate could not create its folders ({exc}); point XDG_DATA_HOME, "
                "XDG_CONFIG_HOME and XDG_CACHE_HOME at writable directories"
            ) from exc
        argos_settings.package_data_dir = packs_dir
        argos_settings.package_dirs = [packs_dir]
        return argos_package


def download_packs(codes: Iterable[str], packs_dir: Path) -> list[PackInfo]:
    """Download and install packs to and from English for ``codes`` (needs internet).

    Uses argostranslate's package index. Never called while serving or at import; offline,
    the index cannot be fetched and this raises TranslationError at once (argostranslate's
    own ``get_available_packages`` would retry for about 50 s). Not testable here.
    """
    wanted = sorted({language_code(c) for c in codes} - {PIVOT})
    if not wanted:
        raise TranslationError("name at least one language other than English, e.g. de es fr")
    argos_package = configure_argostranslate(packs_dir)
    import argostranslate.settings as argos_settings

    index = Path(argos_settings.local_package_index)
    before = index.stat().st_mtime_ns if index.exists() else None
    argos_package.update_package_index()  # logs and returns on failure
    if not index.exists() or index.stat().st_mtime_ns == before:
        raise TranslationError(
            f"could not fetch the argostranslate package index from "
            f"{argos_settings.remote_package_index}; is this machine online?"
        )
    available = argos_package.get_available_packages()
    installed: list[PackInfo] = []
    for code in wanted:
        for pair in ((code, PIVOT), (PIVOT, code)):
            found = [p for p in available if (p.from_code, p.to_code) == pair]
            if not found:
                log.warning("the argostranslate index has no %s->%s pack", *pair)
                continue
            newest = max(found, key=lambda p: _version_key(p.package_version))
            try:
                archive = Path(newest.download())
            except Exception as exc:
                raise TranslationError(f"downloading {pair[0]}->{pair[1]} failed: {exc}") from exc
            installed.append(install_pack(archive, packs_dir))
    return installed


