"""Pictures made on the spot for the proof-photo tests (no files in the repository)."""

from __future__ import annotations

import io
import os

from PIL import Image, ImageDraw


def png_bytes(size: tuple[int, int] = (640, 480), mode: str = "RGB", colour=(40, 120, 60)) -> bytes:
    out = io.BytesIO()
    Image.new(mode, size, colour).save(out, "PNG")
    return out.getvalue()


def jpeg_bytes(size: tuple[int, int] = (4000, 3000), orientation: int | None = None) -> bytes:
    """A camera-sized JPEG, optionally with an EXIF orientation and a GPS block (which the stored
    copy must not keep)."""
    image = Image.new("RGB", size, (200, 180, 40))
    image.paste((20, 20, 200), (0, 0, size[0] // 2, size[1] // 4))  # a mark in the top-left corner
    exif = Image.Exif()
    if orientation:
        exif[0x0112] = orientation
    exif[0x8825] = {1: "N", 2: (28.0, 35.0, 0.0)}  # GPSInfo
    exif[0x010F] = "PhoneMaker"
    out = io.BytesIO()
    image.save(out, "JPEG", quality=85, exif=exif)
    return out.getvalue()


def noise_png(size: tuple[int, int]) -> bytes:
    """Random pixels: a PNG that does not compress (about 3 bytes a pixel)."""
    image = Image.frombytes("RGB", size, os.urandom(size[0] * size[1] * 3))
    out = io.BytesIO()
    image.save(out, "PNG", compress_level=1)
    return out.getvalue()


def bomb_png(size: tuple[int, int] = (12_000, 12_000)) -> bytes:
    """A tiny file that claims a huge canvas (one colour compresses to almost nothing)."""
    out = io.BytesIO()
    Image.new("1", size, 0).save(out, "PNG", optimize=True)
    return out.getvalue()


def parcel_png(size: tuple[int, int] = (1200, 900)) -> bytes:
    """Something like a doorstep photo: a taped parcel on a step."""
    width, height = size
    image = Image.new("RGB", size, (150, 150, 140))
    draw = ImageDraw.Draw(image)
    draw.rectangle((0, int(height * .7), width, height), fill=(110, 105, 95))  # the step
    box = (int(width * .28), int(height * .3), int(width * .72), int(height * .78))
    draw.rectangle(box, fill=(196, 150, 90), outline=(120, 85, 40), width=6)
    middle = (box[0] + box[2]) // 2
    draw.rectangle((middle - 18, box[1], middle + 18, box[3]), fill=(225, 210, 160))  # tape
    draw.rectangle((box[0] + 30, box[1] + 40, box[0] + 200, box[1] + 130), fill=(250, 250, 245))  # label
    out = io.BytesIO()
    image.save(out, "PNG")
    return out.getvalue()
