"""`faqbot serve`: the HTTP server, one process or one worker process per usable core."""

from __future__ import annotations

import argparse
import sys
from typing import Any

import uvicorn

from bot.cli.settings import settings_from_args
from bot.runtime.workers import MAX_WORKERS, serve, worker_count
from bot.web.app import create_app

APP = "bot.web.app:create_app"  # what each worker process builds its app with


def cmd_serve(args: argparse.Namespace) -> int:
    """Run the HTTP server."""
    s = settings_from_args(args)
    if args.workers is not None and not 0 <= args.workers <= MAX_WORKERS:
        print(f"error: --workers needs 0 (one per usable core) to {MAX_WORKERS}", file=sys.stderr)
        return 2
    workers = worker_count(s.workers if args.workers is None else args.workers)
    if workers > 1:
        if s.reload_poll_seconds <= 0 and s.faq_remote is None:
            # The lead's reload call reaches one worker; the others notice edits by polling.
            print("warning: FAQBOT_RELOAD_POLL_SECONDS=0 with several workers: an FAQ edit or "
                  "reload call reaches only the worker that gets it; set it above 0 or run "
                  "--workers 1", file=sys.stderr)
        # Worker processes read their settings from the environment: the options go there.
        overrides = {f"FAQBOT_{option.upper()}": str(value) for option, value in
                     (("faq_dir", args.faq_dir), ("index_dir", args.index_dir)) if value}
        serve(APP, args.host, args.port, workers, access_log=False, environment=overrides)
        return 0
    # access_log=False: the app writes its own JSON access line with the request id;
    # uvicorn's plain-text one repeated it (and the bench measures without it).
    # proxy_headers=False: X-Forwarded-For counts only from FAQBOT_TRUSTED_PROXIES (the
    # app applies it); uvicorn's default believed any 127.0.0.1 peer.
    uvicorn.run(create_app(s), host=args.host, port=args.port, log_level="info",
                access_log=False, proxy_headers=False)
    return 0


def register(sub: Any) -> None:
    """Add `serve` to the faqbot CLI."""
    p = sub.add_parser("serve", help="run the HTTP server")
    p.add_argument("--faq-dir", help="FAQ YAML directory (FAQBOT_FAQ_DIR)")
    p.add_argument("--index-dir", help="index directory (FAQBOT_INDEX_DIR)")
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=8000)
    p.add_argument("--workers", type=int,
                   help="server processes (FAQBOT_WORKERS; default one per usable core, max 4)")
    p.set_defaults(func=cmd_serve)
