"""Read a multipart upload as a stream, straight to files on disk, within fixed limits.

Starlette's ``request.form()`` spools every file whatever its size and counts no bytes; a
photo upload needs the opposite: refuse the fourth file or the 10,000,001st byte of one
as soon as it arrives, and never hold more than one network chunk in memory. This feeds
the request stream to python-multipart's parser and writes each file part into a
temporary file in ``tmp_dir``; the caller owns the files (``Upload.discard``).
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

from python_multipart.exceptions import MultipartParseError
from python_multipart.multipart import MultipartParser, parse_options_header

from bot.chat.images import PhotoRejected
from bot.errors import InputError, MessageTooLong


class BodyTooLarge(MessageTooLong):
    """The request body is over the route's limit (413)."""


class NotMultipart(InputError):
    """The upload is not multipart/form-data (415, in bot/web/errors.py)."""


@dataclass
class UploadedFile:
    """One file part, on disk."""

    path: Path
    filename: str
    size: int = 0


@dataclass
class Upload:
    """The files and text fields of one multipart request."""

    files: list[UploadedFile] = field(default_factory=list)
    fields: dict[str, str] = field(default_factory=dict)

    def discard(self) -> None:
        """Delete the temporary files."""
        for f in self.files:
            f.path.unlink(missing_ok=True)


@dataclass
class _Part:
    headers: dict[bytes, bytes] = field(default_factory=dict)
    name: str = ""
    file: UploadedFile | None = None
    handle: IO[bytes] | None = None
    text: bytearray = field(default_factory=bytearray)


async def read_upload(
    content_type: str,
    content_length: str | None,
    stream: AsyncIterator[bytes],
    tmp_dir: Path,
    *,
    file_field: str,
    max_files: int,
    max_file_bytes: int,
    max_total_bytes: int,
    text_fields: tuple[str, ...] = (),
    max_field_bytes: int = 16 * 1024,
) -> Upload:
    """Parse a multipart body from ``stream`` into temp files in ``tmp_dir`` and text fields.

    Raises NotMultipart, BodyTooLarge, PhotoRejected (photo_too_many, photo_too_large) or
    InputError (an unexpected part); no temporary file is left behind on an error.
    """
    kind, options = parse_options_header(content_type or "")
    boundary = options.get(b"boundary")
    if kind != b"multipart/form-data" or not boundary:
        raise NotMultipart("send the photos as multipart/form-data")
    if content_length and content_length.isdigit() and int(content_length) > max_total_bytes:
        raise BodyTooLarge(f"the upload is over {max_total_bytes} bytes")
    tmp_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
    upload = Upload()
    part = _Part()
    header_field = bytearray()
    header_value = bytearray()

    def on_part_begin() -> None:
        nonlocal part
        part = _Part()

    def on_header_field(data: bytes, start: int, end: int) -> None:
        header_field.extend(data[start:end])

    def on_header_value(data: bytes, start: int, end: int) -> None:
        header_value.extend(data[start:end])

    def on_header_end() -> None:
        part.headers[bytes(header_field).lower()] = bytes(header_value)
        header_field.clear()
        header_value.clear()

    def on_headers_finished() -> None:
        _disposition, params = parse_options_header(part.headers.get(b"content-disposition", b""))
        part.name = params.get(b"name", b"").decode("utf-8", "replace")
        filename = params.get(b"filename")
        if filename is not None:
            shown = os.path.basename(filename.decode("utf-8", "replace"))[:200] or "photo"
            if part.name != file_field:
                raise InputError(f"unexpected file field {part.name!r}; send files as "
                                 f"{file_field!r}")
            if len(upload.files) >= max_files:
                raise PhotoRejected("photo_too_many",
                                    f"at most {max_files} photos per message", shown)
            fd, tmp = tempfile.mkstemp(prefix=".upload-", dir=tmp_dir)
            part.file = UploadedFile(Path(tmp), shown)
            upload.files.append(part.file)
            part.handle = os.fdopen(fd, "wb")
        elif part.name not in text_fields:
            raise InputError(f"unexpected field {part.name!r}")

    def on_part_data(data: bytes, start: int, end: int) -> None:
        if part.file is not None and part.handle is not None:
            part.file.size += end - start
            if part.file.size > max_file_bytes:
                raise PhotoRejected(
                    "photo_too_large",
                    f"{part.file.filename} is over {max_file_bytes} bytes", part.file.filename,
                )
            # Small writes to a local file: cheaper here than a thread hop per chunk.
            part.handle.write(data[start:end])
        else:
            part.text.extend(data[start:end])
            if len(part.text) > max_field_bytes:
                raise InputError(f"field {part.name!r} is over {max_field_bytes} bytes")

    def on_part_end() -> None:
        if part.handle is not None:
            part.handle.close()
            part.handle = None
        elif part.name:
            upload.fields[part.name] = part.text.decode("utf-8", "replace")

    parser = MultipartParser(boundary, {
        "on_part_begin": on_part_begin, "on_part_data": on_part_data,
        "on_part_end": on_part_end, "on_header_field": on_header_field,
        "on_header_value": on_header_value, "on_header_end": on_header_end,
        "on_headers_finished": on_headers_finished,
    })
    total = 0
    try:
        async for chunk in stream:
            total += len(chunk)
            if total > max_total_bytes:
                raise BodyTooLarge(f"the upload is over {max_total_bytes} bytes")
            parser.write(chunk)
        parser.finalize()
    except BaseException as exc:
        if part.handle is not None:
            part.handle.close()
        upload.discard()
        if isinstance(exc, MultipartParseError):
            raise InputError(f"the upload is not valid multipart/form-data: {exc}") from None
        raise
    return upload
