"""Shopper photos are checked by their bytes and re-encoded: nothing of the original survives."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from PIL import Image, PngImagePlugin

from bot.chat.images import MAX_SIDE, PhotoRejected, clean_image, sniff
from tests.support.images import exif_with_gps_and_rotation, photo_bytes, zip_bytes


def write(tmp_path: Path, name: str, data: bytes) -> Path:
    path = tmp_path / name
    path.write_bytes(data)
    return path


def test_sniff_reads_the_bytes_not_the_name() -> None:
    assert sniff(photo_bytes("JPEG")[:12]) == "jpeg"
    assert sniff(photo_bytes("PNG")[:12]) == "png"
    assert sniff(photo_bytes("WEBP")[:12]) == "webp"
    assert sniff(photo_bytes("GIF")[:12]) is None
    assert sniff(b"<html><script>") is None


def test_jpeg_loses_exif_gps_and_appended_data_but_keeps_its_orientation(
    tmp_path: Path,
) -> None:
    original = photo_bytes("JPEG", exif=exif_with_gps_and_rotation(),
                           icc_profile=b"fake-icc" * 10, comment=b"home address")
    payload = zip_bytes()
    path = write(tmp_path, "upload.bin", original + payload)
    assert b"SpyCam" in path.read_bytes()

    clean = clean_image(path, "IMG_0001.JPG")

    assert (clean.kind, clean.content_type, clean.extension) == ("jpeg", "image/jpeg", ".jpg")
    assert (clean.width, clean.height) == (48, 64)  # turned upright by its EXIF orientation
    assert b"SpyCam" not in clean.data and b"home address" not in clean.data
    assert b"hidden payload" not in clean.data and b"secret.txt" not in clean.data
    assert b"fake-icc" not in clean.data
    assert clean.data.endswith(b"\xff\xd9")  # nothing after the end-of-image marker
    with Image.open(io.BytesIO(clean.data)) as im:
        assert len(im.getexif()) == 0
        assert "icc_profile" not in im.info and "comment" not in im.info
        top = im.convert("RGB").getpixel((24, 2))
        assert isinstance(top, tuple) and top[0] > 200 and top[2] < 60  # red half now on top


def test_png_keeps_transparency_and_loses_text_chunks(tmp_path: Path) -> None:
    meta = PngImagePlugin.PngInfo()
    meta.add_text("Author", "Jane Shopper, 12 Main Street")
    data = photo_bytes("PNG", mode="RGBA", pnginfo=meta) + b"<?php system($_GET[1]); ?>"
    clean = clean_image(write(tmp_path, "a.png", data))
    assert clean.kind == "png" and b"Main Street" not in clean.data and b"php" not in clean.data
    with Image.open(io.BytesIO(clean.data)) as im:
        assert im.mode == "RGBA" and not im.text


def test_webp_is_taken(tmp_path: Path) -> None:
    clean = clean_image(write(tmp_path, "a.webp", photo_bytes("WEBP")))
    assert (clean.kind, clean.content_type, clean.width, clean.height) == (
        "webp", "image/webp", 64, 48)


def test_large_photos_are_scaled_down(tmp_path: Path) -> None:
    clean = clean_image(write(tmp_path, "big.jpg", photo_bytes("JPEG", size=(4000, 1000))))
    assert (clean.width, clean.height) == (MAX_SIDE, MAX_SIDE // 4)


@pytest.mark.parametrize(
    ("data", "code"),
    [
        (b"", "photo_empty"),
        (b"<html><script>alert(1)</script></html>", "photo_type"),
        (b"GIF89a" + b"\0" * 40, "photo_type"),
        (b"%PDF-1.7\n", "photo_type"),
        (b"\xff\xd8\xff\xe0" + b"not really a jpeg" * 10, "photo_unreadable"),
        (b"RIFF\x10\0\0\0WEBPVP8 garbage", "photo_unreadable"),
    ],
)
def test_bad_files_are_refused_with_a_code(tmp_path: Path, data: bytes, code: str) -> None:
    with pytest.raises(PhotoRejected) as caught:
        clean_image(write(tmp_path, "x.jpg", data), "x.jpg")
    assert caught.value.code == code
    assert "x.jpg" in str(caught.value) and caught.value.filename == "x.jpg"


def test_a_truncated_jpeg_and_a_png_posing_as_jpeg(tmp_path: Path) -> None:
    whole = photo_bytes("JPEG", size=(300, 300), quality=95)
    with pytest.raises(PhotoRejected) as caught:
        clean_image(write(tmp_path, "cut.jpg", whole[: len(whole) // 3]))
    assert caught.value.code == "photo_unreadable"
    # Named .jpg, sent as image/jpeg, but PNG inside: taken as the PNG it is.
    assert clean_image(write(tmp_path, "p.jpg", photo_bytes("PNG"))).kind == "png"


def test_a_decompression_bomb_is_refused_before_decoding(tmp_path: Path) -> None:
    out = io.BytesIO()
    Image.new("1", (8000, 8000)).save(out, "PNG")  # 64 megapixels in a few kB
    assert out.tell() < 100_000
    with pytest.raises(PhotoRejected) as caught:
        clean_image(write(tmp_path, "bomb.png", out.getvalue()))
    assert caught.value.code == "photo_unreadable" and "8000x8000" in str(caught.value)


def test_over_ten_megabytes_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "huge.jpg"
    path.write_bytes(photo_bytes("JPEG") + b"\0" * (10 * 1024 * 1024))
    with pytest.raises(PhotoRejected) as caught:
        clean_image(path)
    assert caught.value.code == "photo_too_large"
