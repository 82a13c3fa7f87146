"""Uploaded pictures (proof-of-delivery photos, product photos, certificate and licence scans,
complaint photos): checked by their content (never by name or declared type), size and pixel
count, re-encoded as a web-size JPEG without metadata, stored under a generated name in
``UPLOAD_DIR/<kind>/`` and read back only by id (the views decide who may see one).

An id is ``<owner id>-<32 hex>``: the row it belongs to (a stop, a product, a cooperative…) and a
random part that cannot be guessed; no part of a stored file's path comes from the client."""

from __future__ import annotations

import io
import os
import re
import secrets
import warnings
from pathlib import Path
from typing import BinaryIO

from flask import current_app
from flask_babel import lazy_gettext as _l
from PIL import Image, ImageOps, UnidentifiedImageError

from .errors import ValidationFailed

#: formats a phone camera or gallery gives (MPO: the multi-picture JPEG of some cameras)
ACCEPTED_FORMATS = frozenset({"JPEG", "MPO", "PNG", "WEBP"})
MAX_BYTES = 8 * 1024 * 1024
#: decoded size limit: a small file can claim a huge canvas (a decompression bomb)
MAX_PIXELS = 50_000_000
WEB_SIZE = 1600  # longest side of the stored JPEG, in pixels
JPEG_QUALITY = 82

#: "<owner id>-<32 hex>"
PHOTO_ID = re.compile(r"([1-9][0-9]{0,9})-([0-9a-f]{32})")
#: the folders under UPLOAD_DIR, one per kind of picture
KINDS = frozenset({"proof", "product", "certificate", "licence", "complaint"})


class PhotoRefused(ValidationFailed):
    code = "photo_refused"
    default_message = _l("This file is not a photo. Choose a JPEG, PNG or WebP picture.")


def max_bytes() -> int:
    return int(current_app.config.get("UPLOAD_MAX_BYTES", MAX_BYTES))


def max_pixels() -> int:
    return int(current_app.config.get("UPLOAD_MAX_PIXELS", MAX_PIXELS))


def too_large_message() -> str:
    return str(_l("The photo is larger than %(mb)d MB. Take it again at a lower resolution.",
                  mb=max_bytes() // (1024 * 1024)))


def folder(kind: str = "proof") -> Path:
    if kind not in KINDS:
        raise ValueError(kind)
    return Path(current_app.config["UPLOAD_DIR"]) / kind


def path_of(photo_id: str, kind: str = "proof") -> Path | None:
    """Where a stored photo is; None for anything that is not a photo id (no path from input)."""
    if not PHOTO_ID.fullmatch(photo_id or ""):
        return None
    return folder(kind) / f"{photo_id}.jpg"


def owner_of(photo_id: str) -> int | None:
    """The id of the row a photo belongs to (for a proof photo: its stop)."""
    match = PHOTO_ID.fullmatch(photo_id or "")
    return int(match.group(1)) if match else None


stop_of = owner_of


def web_jpeg(data: bytes) -> bytes:
    """The picture in ``data`` as a JPEG at most :data:`WEB_SIZE` pixels on its longest side, turned
    upright, transparency on white, with no metadata (no EXIF position or camera serial).
    Refuses, with a message the driver understands, anything else."""
    if len(data) > max_bytes():
        raise PhotoRefused(too_large_message(), field="photo")
    with warnings.catch_warnings():
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        try:
            image = Image.open(io.BytesIO(data))
            if image.format not in ACCEPTED_FORMATS:
                raise PhotoRefused(field="photo")
            width, height = image.size
            if width * height > max_pixels():
                raise _too_many_pixels()
            image.draft("RGB", (WEB_SIZE, WEB_SIZE))  # JPEG: decode at a reduced scale already
            image = ImageOps.exif_transpose(image)
            image.thumbnail((WEB_SIZE, WEB_SIZE), Image.Resampling.LANCZOS)
            image = _on_white(image)
            out = io.BytesIO()
            image.save(out, "JPEG", quality=JPEG_QUALITY, optimize=True)
        except PhotoRefused:
            raise
        except (Image.DecompressionBombError, Image.DecompressionBombWarning):
            raise _too_many_pixels() from None
        except UnidentifiedImageError:
            raise PhotoRefused(field="photo") from None
        except (OSError, ValueError, SyntaxError, EOFError, MemoryError):  # truncated or corrupt
            raise PhotoRefused(_l("The photo could not be read. Please take it again."), field="photo") from None
    return out.getvalue()


def _too_many_pixels() -> PhotoRefused:
    return PhotoRefused(_l("The picture is too large (more than %(mp)d megapixels). Take it again at a lower "
                           "resolution.", mp=max_pixels() // 1_000_000), field="photo")


def _on_white(image: Image.Image) -> Image.Image:
    if image.mode in ("RGBA", "LA", "PA") or (image.mode == "P" and "transparency" in image.info):
        rgba = image.convert("RGBA")
        background = Image.new("RGB", rgba.size, (255, 255, 255))
        background.paste(rgba, mask=rgba.getchannel("A"))
        return background
    return image.convert("RGB")


def read_upload(stream: BinaryIO) -> bytes:
    """At most one byte more than the limit (enough to tell that a file is too large)."""
    return stream.read(max_bytes() + 1)


def store(owner_id: int, data: bytes, kind: str = "proof", *, key: str | None = None) -> str:
    """Check and re-encode ``data`` (see :func:`web_jpeg`) and store it for the row ``owner_id``
    (a stop for "proof"); the photo's id. The file appears whole or not at all (written aside,
    then renamed). ``key`` (32 hex digits) replaces the random part of the id: only for demo
    data, which then lands on the same file each time it is loaded."""
    jpeg = web_jpeg(data)
    photo_id = f"{owner_id}-{key or secrets.token_hex(16)}"
    if not PHOTO_ID.fullmatch(photo_id):
        raise ValueError(photo_id)
    target = folder(kind)
    target.mkdir(parents=True, exist_ok=True, mode=0o700)
    final = target / f"{photo_id}.jpg"
    partial = target / f".{photo_id}.{secrets.token_hex(4)}.part"
    fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(jpeg)
    os.replace(partial, final)
    return photo_id


def size_of(photo_id: str, kind: str = "proof") -> tuple[int, int]:
    """(width, height) of a stored photo."""
    with Image.open(path_of(photo_id, kind)) as image:
        return image.size


def discard(photo_id: str, kind: str = "proof") -> None:
    """Remove a stored photo that no record refers to (a double tap's second upload), with its
    smaller copies (see :func:`sized`)."""
    path = path_of(photo_id, kind)
    if path is not None:
        path.unlink(missing_ok=True)
        for size in SIZES:
            (folder(kind) / "sized" / f"{photo_id}-{size}.jpg").unlink(missing_ok=True)


#: the smaller copies of a stored photo (longest side in pixels): 480 for a product card (two
#: columns on a phone at 2-3x), 160 for a thumbnail (cart line, gallery strip)
SIZES = (160, 480)


def sized(photo_id: str, kind: str, size: int) -> Path | None:
    """A stored photo scaled down to ``size`` pixels on its longest side (one of :data:`SIZES`),
    made from the stored JPEG the first time it is asked for and kept under ``<kind>/sized/``;
    None when there is no such photo. Safe when two requests make it at once (each writes aside,
    then renames). Call it after :func:`store` to make the copies at upload time instead."""
    if size not in SIZES:
        raise ValueError(size)
    original = path_of(photo_id, kind)
    if original is None or not original.is_file():
        return None
    target = folder(kind) / "sized" / f"{photo_id}-{size}.jpg"
    if target.is_file():
        return target
    target.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    with Image.open(original) as image:
        image.draft("RGB", (size, size))
        image = image.convert("RGB")
        image.thumbnail((size, size), Image.Resampling.LANCZOS)
        out = io.BytesIO()
        image.save(out, "JPEG", quality=JPEG_QUALITY, optimize=True, progressive=size > 200)
    partial = target.parent / f".{photo_id}-{size}.{secrets.token_hex(4)}.part"
    partial.write_bytes(out.getvalue())
    os.replace(partial, target)
    return target
