"""FAQs for tests: the tiny shop FAQ, an English-only fixture, a mixed-language one, writers.

``write_tiny_faq`` is the one FAQ most tests answer from (4 entries, English and German).
"""

from __future__ import annotations

import importlib.util
import sys
import textwrap
from pathlib import Path
from types import ModuleType

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"
SHOP_EN = FIXTURES / "shop_en"  # English-only FAQ: 10 entries in 3 files
ROOT = Path(__file__).resolve().parents[2]  # the repository
# Entries written in several languages; one (gift-cards) only in German.
MIXED_FAQ = """
entries:
  - id: returns-window
    questions:
      en: [How long do I have to return an item?]
      de: [Wie lange habe ich Zeit für eine Rücksendung?]
      sv: [Hur länge har jag på mig att returnera en vara?]
      ja: [返品期限はいつまでですか？]
    answer:
      en: You can return most items within 30 days.
  - id: gift-cards
    questions:
      de: [Verkaufen Sie Geschenkkarten?]
    answer:
      en: Yes, from 10 to 200 euros.
"""


def write_faq(faq_dir: Path, name: str, text: str) -> Path:
    """Write one FAQ file (dedented) into faq_dir and return its path."""
    faq_dir.mkdir(parents=True, exist_ok=True)
    path = faq_dir / name
    path.write_text(textwrap.dedent(text).lstrip("\n"), encoding="utf-8")
    return path


def entry_yaml(entry_id: str, question: str, answer: str, **langs: str) -> str:
    """Return one entry as YAML with an English question and answer (plus other answers)."""
    extra = "".join(f"\n      {lang}: {text}" for lang, text in langs.items())
    return (
        f"  - id: {entry_id}\n"
        f"    questions:\n      en: [{question}]\n"
        f"    answer:\n      en: {answer}{extra}\n"
    )



TINY_FAQ = """
entries:
  - id: returns-window
    questions:
      en: [How long do I have to return an item?, What is the return period?]
      de: [Wie lange habe ich Zeit für eine Rücksendung?]
    answer:
      en: You can return most items within 30 days of delivery.
      de: Sie können die meisten Artikel innerhalb von 30 Tagen zurücksenden.
  - id: shipping-time
    questions:
      en: [How long does delivery take?, When will my order arrive?]
    answer:
      en: Delivery takes 2 to 4 working days.
  - id: payment-methods
    questions:
      en: [Which payment methods do you accept?, Can I pay with PayPal?]
    answer:
      en: We accept cards, PayPal and bank transfer.
  - id: damaged-item
    handoff: true
    questions:
      en: [My item arrived damaged, The product I received is broken]
    answer:
      en: Sorry about that! Please send us a photo of the damage.
"""


def write_tiny_faq(faq_dir: Path) -> Path:
    """Write the tiny FAQ into ``faq_dir`` and return the file."""
    faq_dir.mkdir(parents=True, exist_ok=True)
    path = faq_dir / "shop.yaml"
    path.write_text(textwrap.dedent(TINY_FAQ).lstrip(), encoding="utf-8")
    return path


def load_script(name: str) -> ModuleType:
    """Import scripts/<name>.py (scripts/ is not a package) under a private module name."""
    spec = importlib.util.spec_from_file_location(f"faqbot_script_{name}",
                                                  ROOT / "scripts" / f"{name}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look the module up while it loads
    spec.loader.exec_module(module)
    return module
