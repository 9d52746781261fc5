"""The `faqbot users` commands: a key per person for the agent console and the lead page.

    faqbot users add NAME --role agent|lead [--language de]   prints the new key once
    faqbot users list [--json]                                 names, roles, status, last seen
    faqbot users disable NAME / enable NAME                    stop / restore a person's key
    faqbot users rotate NAME                                   a new key; the old one stops

The key goes to standard output alone (so ``KEY=$(faqbot users add ...)`` works); what to do
with it goes to standard error. Keys are stored only as keyed digests (bot/store/people.py).
"""

from __future__ import annotations

import argparse
import json
import sys
from datetime import datetime
from typing import Any

from bot.cli.settings import settings_from_args
from bot.store.db import Database
from bot.store.people import ROLES, People, UserInfo


def _people(args: argparse.Namespace) -> tuple[People, Database]:
    settings = settings_from_args(args)
    db = Database(settings.database_url)
    db.migrate()  # the server may never have run on this database yet
    return People.from_settings(db, settings), db


def _when(at: datetime | None) -> str:
    return at.strftime("%Y-%m-%d %H:%M") if at else "never"


def _print_key(key: str, what: str) -> None:
    print(key, flush=True)
    print(f"{what}. The key above is shown only now: give it to them privately; they sign "
          "in with it at /agent or /lead (or send 'Authorization: Bearer KEY').",
          file=sys.stderr)


def cmd_add(args: argparse.Namespace) -> int:
    """Add a person and print their key."""
    people, db = _people(args)
    try:
        key = people.add(args.name, args.role, args.language)
        info = people.get(args.name)
    finally:
        db.dispose()
    _print_key(key, f"added {info.name} ({info.role})")
    return 0


def cmd_rotate(args: argparse.Namespace) -> int:
    """Give a person a new key and print it."""
    people, db = _people(args)
    try:
        key = people.rotate(args.name)
        info = people.get(args.name)
    finally:
        db.dispose()
    note = "" if info.active else " (still disabled: `faqbot users enable` to let it work)"
    _print_key(key, f"new key for {info.name}; the old one no longer works{note}")
    return 0


def cmd_disable(args: argparse.Namespace) -> int:
    """Stop a person's key from working."""
    people, db = _people(args)
    try:
        info = people.disable(args.name)
    finally:
        db.dispose()
    print(f"disabled {info.name}: their key no longer works (their name stays in the history)")
    return 0


def cmd_enable(args: argparse.Namespace) -> int:
    """Let a disabled person's key work again."""
    people, db = _people(args)
    try:
        info = people.enable(args.name)
    finally:
        db.dispose()
    print(f"enabled {info.name}")
    return 0


def _row(u: UserInfo) -> dict[str, Any]:
    return {
        "name": u.name, "role": u.role, "language": u.language, "active": u.active,
        "key_hint": u.key_hint + "…", "created_at": u.created_at.isoformat(),
        "key_created_at": u.key_created_at.isoformat(),
        "disabled_at": u.disabled_at.isoformat() if u.disabled_at else None,
        "last_seen_at": u.last_seen_at.isoformat() if u.last_seen_at else None,
    }


def cmd_list(args: argparse.Namespace) -> int:
    """Print everyone with their role, status and when their key was last used."""
    people, db = _people(args)
    try:
        users = people.list()
    finally:
        db.dispose()
    if args.json:
        print(json.dumps([_row(u) for u in users], ensure_ascii=False, indent=2))
        return 0
    if not users:
        print("nobody yet: add someone with `faqbot users add NAME --role agent`",
              file=sys.stderr)
        return 0
    header = ("name", "role", "status", "key", "key since", "last seen")
    rows = [(u.name, u.role + (f" ({u.language})" if u.language else ""),
             "active" if u.active else "disabled", u.key_hint + "…",
             _when(u.key_created_at), _when(u.last_seen_at)) for u in users]
    widths = [max(len(str(r[i])) for r in [header, *rows]) for i in range(len(header))]
    for r in [header, *rows]:
        print("  ".join(str(c).ljust(w) for c, w in zip(r, widths, strict=True)).rstrip())
    return 0


def register(sub: Any) -> None:
    """Add `users` to the faqbot CLI."""
    p = sub.add_parser("users", help="people with keys of their own (agents and leads)")
    users = p.add_subparsers(dest="users_command", required=True)

    a = users.add_parser("add", help="add a person and print their key (once)")
    a.add_argument("name")
    a.add_argument("--role", required=True, choices=ROLES)
    a.add_argument("--language", help="the language they read (default FAQBOT_AGENT_LANGUAGE)")
    a.set_defaults(func=cmd_add)

    a = users.add_parser("list", help="everyone, with role, status and last use")
    a.add_argument("--json", action="store_true", help="print JSON instead of a table")
    a.set_defaults(func=cmd_list)

    for name, func, text in (
        ("disable", cmd_disable, "stop a person's key from working"),
        ("enable", cmd_enable, "let a disabled person's key work again"),
        ("rotate", cmd_rotate, "give a person a new key; the old one stops working"),
    ):
        a = users.add_parser(name, help=text)
        a.add_argument("name")
        a.set_defaults(func=func)

