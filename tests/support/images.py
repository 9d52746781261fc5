"""Images made for the photo tests: known pixels, EXIF with GPS and a rotation, a ZIP to hide."""

from __future__ import annotations

import io
import zipfile

from PIL import Image


def photo_bytes(fmt: str, size: tuple[int, int] = (64, 48), mode: str = "RGB",
                **save: object) -> bytes:
    """Return an image with a red left half and a blue right half (orientation shows)."""
    im = Image.new(mode, size, (0, 0, 255) if mode == "RGB" else (0, 0, 255, 255))
    im.paste((255, 0, 0) if mode == "RGB" else (255, 0, 0, 255), (0, 0, size[0] // 2, size[1]))
    out = io.BytesIO()
    im.save(out, fmt, **save)
    return out.getvalue()


def exif_with_gps_and_rotation() -> bytes:
    """Return EXIF saying: rotate 90° to show, made by "SpyCam Inc.", at a latitude."""
    exif = Image.Exif()
    exif[0x0112] = 6  # orientation: rotate 90° clockwise to show
    exif[0x010F] = "SpyCam Inc."  # camera maker
    gps = exif.get_ifd(0x8825)
    gps[2] = (52.0, 31.0, 12.0)  # latitude: where the shopper lives
    gps[1] = "N"
    return exif.tobytes()


def zip_bytes() -> bytes:
    """Return a small ZIP file (to append to an image, as a hidden payload)."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as z:
        z.writestr("secret.txt", "hidden payload")
    return out.getvalue()
