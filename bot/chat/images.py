"""Check and clean a shopper's photo: JPEG, PNG or WebP by its bytes, re-encoded from pixels.

What a shopper uploads is untrusted: the name and the declared type say nothing, and a
valid image can carry GPS coordinates (EXIF), an ICC profile or comments, or have a ZIP
or a script appended after its last byte. So the type is read from the file's first
bytes, the picture is decoded by Pillow restricted to that one format (a decompression
bomb is refused before decoding), turned upright by its EXIF orientation, scaled down to
at most ``MAX_SIDE`` pixels, and encoded afresh from its pixels alone: nothing else of
the original survives.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from pathlib import Path

from PIL import Image, ImageOps, UnidentifiedImageError

from bot.errors import InputError

MAX_PHOTO_BYTES = 10 * 1024 * 1024
MAX_PHOTOS_PER_MESSAGE = 3
# A 10 MB file can still decode to gigabytes of pixels; phone cameras stay under 50 MP.
MAX_PIXELS = 60_000_000
# What an agent needs to see a damage or a label; keeps storage and transfers small.
MAX_SIDE = 3072

# kind -> (Pillow format, MIME type, file extension)
KINDS: dict[str, tuple[str, str, str]] = {
    "jpeg": ("JPEG", "image/jpeg", ".jpg"),
    "png": ("PNG", "image/png", ".png"),
    "webp": ("WEBP", "image/webp", ".webp"),
}


class PhotoRejected(InputError):
    """A photo that cannot be taken; ``code`` lets a client say why in the shopper's language.

    Codes: photo_type, photo_too_large, photo_too_many, photo_unreadable, photo_empty
    (bot/web/errors.py gives each its HTTP status).
    """

    def __init__(self, code: str, message: str, filename: str | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.filename = filename


@dataclass(frozen=True)
class CleanImage:
    """A re-encoded picture, ready to store."""

    data: bytes
    kind: str
    content_type: str
    extension: str
    width: int
    height: int


def sniff(head: bytes) -> str | None:
    """Return "jpeg", "png" or "webp" from a file's first 12 bytes, else None."""
    if head.startswith(b"\xff\xd8\xff"):
        return "jpeg"
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "png"
    if len(head) >= 12 and head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "webp"
    return None


def clean_image(path: Path, filename: str | None = None) -> CleanImage:
    """Decode ``path`` as the image its bytes say it is and return it re-encoded.

    Raises PhotoRejected (photo_empty, photo_too_large, photo_type, photo_unreadable).
    """
    name = filename or path.name
    size = path.stat().st_size
    if size == 0:
        raise PhotoRejected("photo_empty", f"{name} is empty", name)
    if size > MAX_PHOTO_BYTES:
        raise PhotoRejected("photo_too_large",
                            f"{name} is {size} bytes; a photo may have {MAX_PHOTO_BYTES}", name)
    with path.open("rb") as fh:
        kind = sniff(fh.read(12))
    if kind is None:
        raise PhotoRejected("photo_type", f"{name} is not a JPEG, PNG or WebP image", name)
    pil_format, content_type, extension = KINDS[kind]
    try:
        with Image.open(path, formats=[pil_format]) as im:
            width, height = im.size
            if width * height > MAX_PIXELS or width < 1 or height < 1:
                raise PhotoRejected("photo_unreadable",
                                    f"{name} is {width}x{height} pixels; at most {MAX_PIXELS}",
                                    name)
            im.seek(0)  # an animated PNG or WebP keeps its first frame
            im.load()
            picture = _pixels_only(ImageOps.exif_transpose(im), kind)
    except PhotoRejected:
        raise
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, EOFError,
            Image.DecompressionBombError) as exc:
        raise PhotoRejected("photo_unreadable",
                            f"{name} looks like a {kind.upper()} but cannot be read: {exc}",
                            name) from None
    if max(picture.size) > MAX_SIDE:
        picture.thumbnail((MAX_SIDE, MAX_SIDE), Image.Resampling.LANCZOS)
    out = io.BytesIO()
    if kind == "jpeg":
        picture.save(out, "JPEG", quality=88, optimize=True)
    elif kind == "png":
        picture.save(out, "PNG", compress_level=6)
    else:
        picture.save(out, "WEBP", quality=85, method=4)
    return CleanImage(out.getvalue(), kind, content_type, extension, *picture.size)


def _pixels_only(im: Image.Image, kind: str) -> Image.Image:
    """Return a new image holding ``im``'s pixels and nothing else (no info, EXIF, ICC)."""
    has_alpha = "A" in im.getbands() or "transparency" in im.info
    if kind == "jpeg":
        mode = "L" if im.mode in ("1", "L", "LA", "I", "I;16", "F") else "RGB"
    elif im.mode in ("1", "L", "RGB", "RGBA", "LA") and not (im.mode in ("1", "L", "RGB")
                                                               and has_alpha):
        mode = im.mode
    else:
        mode = "RGBA" if has_alpha else "RGB"
    converted = im.convert(mode) if im.mode != mode else im
    # frombytes builds a fresh image: nothing of the original's info, EXIF or ICC follows.
    return Image.frombytes(mode, converted.size, converted.tobytes())
