from __future__ import annotations

import os
from pathlib import Path

from delivery.errors import ProblemError


def read_lines(path: str | os.PathLike[str]) -> tuple[str, list[str]]:
    """Text lines of ``path`` (any line ending), stripped, or ProblemError."""
    p = Path(path)
    try:
        raw = p.read_bytes()
    except OSError as exc:
        raise ProblemError("file", f"cannot read {p}: {exc.strerror or exc}") from None
    if b"\x00" in raw[:4096]:
        raise ProblemError("file", f"{p.name} is a binary file, not an instance")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise ProblemError("file", f"{p.name} is not a text instance file") from None
    return p.stem, [line.strip() for line in text.splitlines()]


def numbers(line: str, field: str) -> list[float]:
    try:
        return [float(x) for x in line.split()]
    except ValueError:
        raise ProblemError(field, f"expected numbers, got {line[:60]!r}") from None


def as_int(x: float, field: str) -> int:
    if x != int(x):
        raise ProblemError(field, f"expected an integer, got {x}")
    return int(x)
