"""The streaming multipart reader: files go to disk, limits act as the bytes arrive."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.chat.images import PhotoRejected
from bot.errors import InputError
from bot.web.uploads import BodyTooLarge, NotMultipart, Upload, read_upload

BOUNDARY = "----faqbot-test-boundary"
CT = f"multipart/form-data; boundary={BOUNDARY}"


def body(files: list[tuple[str, str, bytes]], fields: dict[str, str] | None = None) -> bytes:
    out = b""
    for name, value in (fields or {}).items():
        out += (f"--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n"
                ).encode() + value.encode() + b"\r\n"
    for name, filename, data in files:
        out += (f"--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"{name}\"; "
                f"filename=\"{filename}\"\r\nContent-Type: image/jpeg\r\n\r\n").encode()
        out += data + b"\r\n"
    return out + f"--{BOUNDARY}--\r\n".encode()


class Stream:
    """An async byte stream in chunks that counts what the reader took."""

    def __init__(self, data: bytes, chunk: int = 4096) -> None:
        self.data, self.chunk, self.taken = data, chunk, 0

    async def __aiter__(self) -> AsyncIterator[bytes]:
        for i in range(0, len(self.data), self.chunk):
            self.taken = i + self.chunk
            yield self.data[i:i + self.chunk]


def read(data: bytes, tmp: Path, stream: Stream | None = None, **limits: int) -> Upload:
    options = {"max_files": 3, "max_file_bytes": 100_000, "max_total_bytes": 400_000, **limits}
    return asyncio.run(read_upload(
        CT, None, aiter(stream or Stream(data)), tmp, file_field="photo", text_fields=("text",),
        **options))


def test_files_and_a_caption_arrive_on_disk(tmp_path: Path) -> None:
    files = [("photo", f"p{i}.jpg", bytes([i]) * (20_000 + i)) for i in range(3)]
    up = read(body(files, {"text": "Kaputt angekommen ✂"}), tmp_path)
    assert [f.filename for f in up.files] == ["p0.jpg", "p1.jpg", "p2.jpg"]
    assert [f.path.read_bytes() for f in up.files] == [f[2] for f in files]
    assert [f.size for f in up.files] == [20_000, 20_001, 20_002]
    assert up.fields == {"text": "Kaputt angekommen ✂"}
    up.discard()
    assert list(tmp_path.iterdir()) == []


def test_a_fourth_photo_is_refused_and_nothing_stays(tmp_path: Path) -> None:
    files = [("photo", f"p{i}.jpg", b"x" * 1000) for i in range(4)]
    with pytest.raises(PhotoRejected) as caught:
        read(body(files), tmp_path)
    assert caught.value.code == "photo_too_many" and caught.value.filename == "p3.jpg"
    assert list(tmp_path.iterdir()) == []


def test_an_oversized_file_stops_the_reading_early(tmp_path: Path) -> None:
    data = body([("photo", "huge.jpg", b"x" * 300_000)])
    stream = Stream(data)
    with pytest.raises(PhotoRejected) as caught:
        read(data, tmp_path, stream)
    assert caught.value.code == "photo_too_large" and caught.value.filename == "huge.jpg"
    assert stream.taken < 110_000 < len(data)  # refused at the limit, not after the body
    assert list(tmp_path.iterdir()) == []


def test_the_whole_body_is_bounded(tmp_path: Path) -> None:
    files = [("photo", f"p{i}.jpg", b"x" * 90_000) for i in range(3)]
    with pytest.raises(BodyTooLarge):
        read(body(files), tmp_path, max_total_bytes=200_000)
    assert list(tmp_path.iterdir()) == []
    with pytest.raises(BodyTooLarge):  # a declared length over the limit: nothing is read
        asyncio.run(read_upload(CT, "999999999", aiter(Stream(b"")), tmp_path,
                                file_field="photo", max_files=3, max_file_bytes=10,
                                max_total_bytes=100))


@pytest.mark.parametrize(
    ("content_type", "data", "error"),
    [
        ("application/json", b"{}", NotMultipart),
        ("multipart/form-data", b"", NotMultipart),  # no boundary
        (CT, body([("file", "a.jpg", b"x")]), InputError),  # another file field
        (CT, body([], {"admin": "1"}), InputError),  # an unexpected text field
        (CT, body([], {"text": "x" * 20_000}), InputError),  # caption over its limit
        (CT, b"--" + BOUNDARY.encode() + b"\r\ngarbage without headers end", InputError),
    ],
)
def test_bad_uploads_get_a_reason(tmp_path: Path, content_type: str, data: bytes,
                                  error: type[Exception]) -> None:
    with pytest.raises(error):
        asyncio.run(read_upload(content_type, None, aiter(Stream(data)), tmp_path,
                                file_field="photo", text_fields=("text",), max_files=3,
                                max_file_bytes=1000, max_total_bytes=100_000))
    assert not tmp_path.exists() or list(tmp_path.iterdir()) == []
