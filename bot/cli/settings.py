"""The one way the command line reads settings: the environment, then the command's options.

Its own module because every command module imports it and bot/cli/__init__.py imports every
command module.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from bot.settings import Settings, load_settings


def settings_from_args(args: argparse.Namespace) -> Settings:
    """Read the settings, with --faq-dir / --index-dir / --packs-dir over the environment."""
    overrides: dict[str, object] = {}
    for option in ("faq_dir", "index_dir", "packs_dir"):
        value = getattr(args, option, None)  # only some commands have each option
        if value:
            overrides[option] = Path(value)
    return load_settings(**overrides)
