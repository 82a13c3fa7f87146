"""Proof photos are judged by their content: anything but a real picture of a sane size is
refused with a message a driver understands; a good one is stored as a web-size JPEG without
its metadata, under a generated name, and found again only by its id."""

from __future__ import annotations

import io

import pytest
from PIL import Image

from marketplace import uploads as photos
from tests.marketplace.images import bomb_png, jpeg_bytes, noise_png, png_bytes


def refused(data: bytes) -> str:
    with pytest.raises(photos.PhotoRefused) as caught:
        photos.store(7, data)
    assert caught.value.status == 422 and caught.value.field == "photo"
    return caught.value.message


def stored_files(uploads) -> list:
    return sorted((uploads / "proof").glob("*")) if (uploads / "proof").exists() else []


def test_a_file_that_is_not_a_picture_is_refused(english, uploads):
    assert "not a photo" in refused(b"%PDF-1.4 this is a document, not a photo\n" * 50)
    assert "not a photo" in refused(b"GIF89a" + bytes(200))  # a picture format a camera does not give
    assert stored_files(uploads) == []


def test_a_picture_over_the_size_limit_is_refused(english, uploads):
    big = noise_png((1800, 1700))
    assert len(big) > photos.MAX_BYTES
    assert "larger than 8 MB" in refused(big)
    assert stored_files(uploads) == []


def test_a_decompression_bomb_is_refused_before_it_is_decoded(english, uploads):
    bomb = bomb_png((12_000, 12_000))  # 144 megapixels in a few kilobytes
    assert len(bomb) < 100_000
    assert "more than 50 megapixels" in refused(bomb)
    # under Pillow's own alarm (89 megapixels), still over ours
    assert "more than 50 megapixels" in refused(bomb_png((8_000, 8_000)))
    assert stored_files(uploads) == []


def test_a_broken_picture_is_refused(english, uploads):
    good = jpeg_bytes((800, 600))
    assert "could not be read" in refused(good[: len(good) // 2])


def test_a_camera_jpeg_is_stored_upright_at_web_size_without_its_metadata(english, uploads):
    photo_id = photos.store(7, jpeg_bytes((4000, 3000), orientation=6))  # taken holding the phone upright
    assert photos.PHOTO_ID.fullmatch(photo_id) and photo_id.startswith("7-")
    path = photos.path_of(photo_id)
    assert stored_files(uploads) == [path]
    stored = Image.open(path)
    assert stored.format == "JPEG" and stored.mode == "RGB"
    assert stored.size == (1200, 1600)  # turned by the EXIF orientation, longest side 1600
    exif = stored.getexif()
    assert 0x8825 not in exif and 0x010F not in exif and 0x0112 not in exif  # no position, maker, orientation
    assert path.stat().st_mode & 0o077 == 0


def test_a_png_with_transparency_is_stored_as_a_jpeg_on_white(english, uploads):
    photo_id = photos.store(8, png_bytes((300, 200), mode="RGBA", colour=(0, 0, 0, 0)))
    stored = Image.open(photos.path_of(photo_id))
    assert stored.format == "JPEG" and stored.size == (300, 200)
    assert stored.getpixel((10, 10)) >= (250, 250, 250)


def test_two_photos_of_one_stop_never_share_a_name(english, uploads):
    data = png_bytes()
    assert photos.store(9, data) != photos.store(9, data)


@pytest.mark.parametrize("photo_id", ["../../etc/passwd", "7-" + "0" * 31, "7-" + "g" * 32, "07-" + "a" * 32,
                                      "7-" + "a" * 32 + ".jpg", "", "7_" + "a" * 32])
def test_only_a_generated_id_names_a_file(english, uploads, photo_id):
    assert photos.path_of(photo_id) is None and photos.stop_of(photo_id) is None


def test_the_stored_file_is_a_fresh_encoding(english, uploads):
    """Not the uploaded bytes: whatever rode along in the file (a script after the image data)
    is gone."""
    data = png_bytes((64, 64)) + b"<script>alert(1)</script>"
    photo_id = photos.store(5, data)
    content = photos.path_of(photo_id).read_bytes()
    assert b"<script>" not in content and content[:3] == b"\xff\xd8\xff"
    assert Image.open(io.BytesIO(content)).size == (64, 64)
