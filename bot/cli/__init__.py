"""The `faqbot` command line: validate, build, ask, serve, eval, bench and friends.

Each command group lives in a module of its own and adds its subcommands in ``register``;
every command reads the settings through bot/cli/settings.py.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from bot.cli import devtools, faq, insights, serve, translate, users
from bot.errors import FaqbotError

COMMAND_GROUPS = (faq, serve, devtools, translate, insights, users)


def build_parser() -> argparse.ArgumentParser:
    """Describe every subcommand."""
    parser = argparse.ArgumentParser(prog="faqbot", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    for group in COMMAND_GROUPS:
        group.register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the CLI; errors print as messages, not tracebacks."""
    args = build_parser().parse_args(argv)
    try:
        return int(args.func(args))
    except FaqbotError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
