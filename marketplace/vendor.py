"""Browser libraries vendored from the npm registry by the build: pages never load from a CDN.

``python -m marketplace.vendor`` (``make vendor``, part of ``make install``) downloads each package
of ``MANIFEST`` at its pinned version, checks the tarball against the registry's
``dist.integrity`` (sha512) and extracts the listed files into marketplace/static/vendor/<package>/
(not committed). A package already there at its version is skipped. Pages link the files with
``asset_url(package, path)``.

To add a library: ``npm view NAME@VERSION dist.integrity``, then a ``Package`` with the files the
pages need and the licence.
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import hmac
import io
import shutil
import sys
import tarfile
import tempfile
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

REGISTRY = "https://registry.npmjs.org"
VENDOR_DIR = Path(__file__).parent / "static" / "vendor"
STAMP = ".vendored"  # "name@version integrity" of what the folder holds


class VendorError(Exception):
    pass


@dataclass(frozen=True)
class Package:
    name: str
    version: str  # exact
    integrity: str  # the registry's dist.integrity: "sha512-<base64>"
    files: tuple[str, ...]  # paths inside the package, kept as they are

    def __post_init__(self) -> None:
        for path in (self.name, *self.files):
            parts = PurePosixPath(path).parts
            if not parts or PurePosixPath(path).is_absolute() or ".." in parts:
                raise ValueError(f"not a relative path: {path!r}")

    @property
    def tarball_url(self) -> str:
        return f"{REGISTRY}/{self.name}/-/{self.name.rsplit('/', 1)[-1]}-{self.version}.tgz"

    @property
    def stamp(self) -> str:
        return f"{self.name}@{self.version} {self.integrity}\n"


MANIFEST = {package.name: package for package in (
    # Swagger UI: the interactive docs of the JSON API at /api/v1/docs
    Package("swagger-ui-dist", "5.35.0",
            "sha512-U06rpMtW9V3XPGOBeamTUSr0Z09jMX4IJuANpE/EZbAhw0G8CgwrzU4YmXkn/h0wCDNsXdGarTNNHC3sU8yVUQ==",
            ("swagger-ui-bundle.js", "swagger-ui.css", "LICENSE", "NOTICE", "swagger-ui-bundle.js.LICENSE.txt")),
    # Leaflet: the dispatch console's map of the county (drawn from static/geo, no tile server)
    Package("leaflet", "1.9.4",
            "sha512-nxS1ynzJOmOlHp+iL3FyWqK89GtNL8U8rvlMOsQdTTssxZwCXh8N2NB3GDQOL+YR3XnWyZAxwQixURb+FA74PA==",
            ("dist/leaflet.js", "dist/leaflet.js.map", "dist/leaflet.css", "dist/images/layers.png",
             "dist/images/layers-2x.png", "dist/images/marker-icon.png", "dist/images/marker-icon-2x.png",
             "dist/images/marker-shadow.png", "LICENSE")),
    # Apache ECharts: the cooperative's statistics charts (static/js/charts.js draws them)
    Package("echarts", "6.1.0",
            "sha512-q0yaFPggC9FUdsWH4blavRWFmxdrIodbkoKNAjJudAI6CA9gNPxHtV2RcZNEepZVlk4yvBYkOkbk6HIVpIyHZA==",
            ("dist/echarts.min.js", "LICENSE", "NOTICE")),
)}


def download(url: str) -> bytes:
    with urllib.request.urlopen(url, timeout=120) as response:  # noqa: S310 (a fixed https URL)
        return response.read()


def verify(data: bytes, integrity: str) -> None:
    algorithm, _, expected = integrity.partition("-")
    if algorithm != "sha512":
        raise VendorError(f"unsupported integrity {algorithm!r}: pin the registry's sha512")
    actual = base64.b64encode(hashlib.sha512(data).digest()).decode()
    if not hmac.compare_digest(actual, expected):
        raise VendorError(f"integrity mismatch: expected sha512-{expected}, got sha512-{actual}")


def is_current(package: Package, root: Path = VENDOR_DIR) -> bool:
    target = root / package.name
    try:
        stamp = (target / STAMP).read_text()
    except OSError:
        return False
    return stamp == package.stamp and all((target / path).is_file() for path in package.files)


def install(package: Package, root: Path = VENDOR_DIR, fetch: Callable[[str], bytes] = download) -> bool:
    """Put ``package``'s files under root/<name>/; False when they were already there."""
    if is_current(package, root):
        return False
    data = fetch(package.tarball_url)
    verify(data, package.integrity)
    root.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(dir=root, prefix=".staging-"))
    try:
        with tarfile.open(fileobj=io.BytesIO(data), mode="r:gz") as tar:
            # npm packs everything under one top folder, usually package/
            members = {m.name.split("/", 1)[1]: m for m in tar.getmembers() if "/" in m.name}
            for path in package.files:
                member = members.get(path)
                if member is None or not member.isfile():
                    raise VendorError(f"{package.name}@{package.version} has no file {path}")
                out = staging / path
                out.parent.mkdir(parents=True, exist_ok=True)
                out.write_bytes(tar.extractfile(member).read())
        (staging / STAMP).write_text(package.stamp)
        staging.chmod(0o755)  # mkdtemp makes it private; a web server may serve these files
        target = root / package.name
        if target.exists():
            shutil.rmtree(target)
        target.parent.mkdir(parents=True, exist_ok=True)
        staging.rename(target)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return True


def asset_url(package: str, path: str) -> str:
    """The URL of a vendored file (the version in the query string, for caches)."""
    from flask import url_for

    found = MANIFEST[package]
    if path not in found.files:
        raise ValueError(f"{path} is not vendored from {package}: add it to MANIFEST")
    return url_for("static", filename=f"vendor/{package}/{path}", v=found.version)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m marketplace.vendor", description=__doc__.split("\n\n")[0])
    parser.add_argument("--check", action="store_true", help="only check that every package is in place")
    args = parser.parse_args(argv)
    missing = 0
    for package in MANIFEST.values():
        label = f"{package.name}@{package.version}"
        try:
            if args.check:
                missing += not is_current(package)
                print(f"{label}: {'ok' if is_current(package) else 'missing (run make vendor)'}")
            else:
                print(f"{label}: {'vendored' if install(package) else 'up to date'}")
        except (OSError, VendorError) as error:
            print(f"{label}: {error}", file=sys.stderr)
            return 1
    return 1 if missing else 0


if __name__ == "__main__":
    sys.exit(main())
