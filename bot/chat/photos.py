"""Shoppers' photos: files under FAQBOT_PHOTOS_DIR named by a random token, and their messages.

The directory must lie outside the web root (the static folder): photos are served only
through the agents' API, with their key. Files are written atomically (temporary file,
then rename) with owner-only permissions; a row in ``photos`` says which conversation and
message each belongs to. Uploads arrive in ``.incoming/`` first (bot/web/uploads.py).
"""

from __future__ import annotations

import os
import re
import secrets
import tempfile
import time
from pathlib import Path
from typing import Any

from bot.chat.images import CleanImage
from bot.chat.notices import notice
from bot.chat.service import ADDED_MESSAGES, SESSION_ID, ChatService
from bot.chat.triage import TriageResult
from bot.chat.turns import TurnInput, add_message
from bot.chat.views import ChatResult, PhotoMessageResult
from bot.errors import ConfigError, NotFoundError
from bot.matching.bot import normalise_message
from bot.store.db import Database
from bot.store.models import Photo, utcnow

_NAME = re.compile(r"^[0-9a-f]{2}/[0-9a-f]{32}\.(jpg|png|webp)$")


class PhotoStore:
    """Photo files under one directory."""

    def __init__(self, root: Path, web_root: Path | None = None) -> None:
        resolved = root.resolve()
        if web_root is not None and resolved.is_relative_to(web_root.resolve()):
            raise ConfigError(f"FAQBOT_PHOTOS_DIR {root} is inside the web root {web_root}: "
                              "photos must be served only to agents")
        self.root = resolved

    @property
    def incoming(self) -> Path:
        """Return the folder uploads are streamed into before they are checked."""
        return self.root / ".incoming"

    def save(self, image: CleanImage) -> str:
        """Write a cleaned image; return its name relative to the root."""
        token = secrets.token_hex(16)
        name = f"{token[:2]}/{token}{image.extension}"
        folder = self.root / token[:2]
        folder.mkdir(parents=True, exist_ok=True, mode=0o700)
        fd, tmp = tempfile.mkstemp(prefix=".photo-", dir=folder)
        try:
            with os.fdopen(fd, "wb") as fh:
                fh.write(image.data)
            os.replace(tmp, self.root / name)
        finally:
            Path(tmp).unlink(missing_ok=True)
        return name

    def path(self, name: str) -> Path:
        """Return the file of a stored photo (NotFoundError when gone)."""
        if not _NAME.match(name):
            raise NotFoundError("no such photo file")
        path = self.root / name
        if not path.is_file():
            raise NotFoundError("the photo file is gone (removed after the retention period?)")
        return path

    def remove(self, name: str) -> bool:
        """Delete a stored photo; return whether there was one."""
        if not _NAME.match(name):
            return False
        try:
            (self.root / name).unlink()
            return True
        except FileNotFoundError:
            return False

    def sweep(self, known: set[str], older_than_seconds: float = 3600.0) -> int:
        """Delete files no row knows (a crash between writing and committing), and stale uploads.

        Only files older than ``older_than_seconds`` are touched: a younger one may belong to
        an upload whose transaction is still open.
        """
        if not self.root.is_dir():
            return 0
        cutoff = time.time() - older_than_seconds
        removed = 0
        for path in self.root.glob("*/*"):
            name = f"{path.parent.name}/{path.name}"
            if path.is_file() and path.stat().st_mtime < cutoff and (
                path.parent == self.incoming or (name not in known and _NAME.match(name))
                or path.name.startswith(".photo-")
            ):
                path.unlink(missing_ok=True)
                removed += 1
        return removed


def photo_file(db: Database, photo_id: int) -> tuple[str, str]:
    """Return (file name, content type) of a stored photo; NotFoundError when gone."""
    with db.read() as s:
        row = s.get(Photo, photo_id)
        if row is None:
            raise NotFoundError(f"no photo {photo_id}")
        if row.removed_at is not None:
            raise NotFoundError(f"photo {photo_id} was deleted after the retention period")
        return row.file, row.content_type


def photo_message(
    chat: ChatService, sid: str, caption: str, photos: list[dict[str, Any]]
) -> PhotoMessageResult:
    """Store a shopper's message carrying photos (stored files); it goes to a person.

    With no ticket the photos open one (the bot cannot look at them), a resolved one
    reopens, an open one gets them queued like any message. ``photos`` hold file,
    content_type, size, width and height.
    """
    limit = chat.settings.max_message_chars
    text = normalise_message(caption, limit) if caption.strip() else ""
    with chat.db.write() as s:
        conv = chat._lock_conversation(s, sid) if SESSION_ID.match(sid) else None
        if conv is None:
            raise NotFoundError(f"no conversation {sid!r}: start one with POST /api/chat")
        language = conv.language
        conv.updated_at = utcnow()
        ticket = chat.tickets.for_conversation(s, sid, lock=True)
        msg_id = add_message(s, sid, "shopper", text, language, action="photo")
        for p in photos:
            s.add(Photo(conversation_id=sid, message_id=msg_id, created_at=utcnow(), **p))
        result = ChatResult(session_id=sid, message_id=msg_id, action="queued",
                            language=language)
        label = f"📷 ×{len(photos)}" + (f" {text}" if text else "")
        if ticket is None or ticket.state == "resolved":
            # A person looks at photos: a ticket opens (or the last one reopens, within
            # FAQBOT_REOPEN_HOURS of its resolution), with the conversation's topic.
            turn = TurnInput(sid=sid, text=text or label, language=language,
                             triage=TriageResult("photo", evidence="photo"), reply=None)
            ticket = chat.turns.hand_off(s, turn, ticket, "photo", result)
            ticket.preview = label[:300]  # what the agent sees in the queue
        else:
            if text:
                chat.tickets.retriage(s, ticket, text)
            result.ticket_id = ticket.id
            result.notice = notice("queued", language, chat.translator)
        s.flush()
        cursor = max(s.info.get(ADDED_MESSAGES, [msg_id]))
    return PhotoMessageResult(session_id=sid, message_id=msg_id, action=result.action,
                              language=language, ticket_id=result.ticket_id,
                              notice=result.notice, cursor=cursor, photos=len(photos))
