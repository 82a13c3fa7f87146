"""marketplace.vendor on tarballs made here (no network): integrity checked, only the listed files
extracted, nothing left behind on failure, idempotent."""

from __future__ import annotations

import base64
import hashlib
import io
import tarfile
from pathlib import Path

import pytest

from marketplace import vendor


def _tarball(files: dict[str, bytes]) -> tuple[bytes, str]:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as tar:
        for name, data in files.items():
            info = tarfile.TarInfo(f"package/{name}")
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    data = buffer.getvalue()
    return data, "sha512-" + base64.b64encode(hashlib.sha512(data).digest()).decode()


def test_vendor_checks_integrity_extracts_only_the_listed_files_and_is_idempotent(tmp_path: Path):
    data, integrity = _tarball({"dist/lib.js": b"lib()", "LICENSE": b"MIT", "src/big.ts": b"x" * 100})
    package = vendor.Package("@scope/lib", "1.2.3", integrity, ("dist/lib.js", "LICENSE"))
    assert package.tarball_url == "https://registry.npmjs.org/@scope/lib/-/lib-1.2.3.tgz"
    fetched: list[str] = []

    def fetch(url: str) -> bytes:
        fetched.append(url)
        return data

    assert vendor.install(package, tmp_path, fetch) is True
    target = tmp_path / "@scope" / "lib"
    assert (target / "dist/lib.js").read_bytes() == b"lib()" and (target / "LICENSE").read_bytes() == b"MIT"
    assert not (target / "src").exists()
    assert vendor.install(package, tmp_path, fetch) is False and len(fetched) == 1  # already there

    newer = vendor.Package("@scope/lib", "1.2.4", integrity, ("dist/lib.js",))
    assert vendor.install(newer, tmp_path, fetch) is True and len(fetched) == 2  # another version: again
    assert not (target / "LICENSE").exists()  # the folder holds one version's files only


def test_vendor_refuses_a_tarball_that_is_not_the_pinned_one(tmp_path: Path):
    data, integrity = _tarball({"lib.js": b"lib()"})
    tampered, _ = _tarball({"lib.js": b"steal()"})
    package = vendor.Package("lib", "1.0.0", integrity, ("lib.js",))
    with pytest.raises(vendor.VendorError, match="integrity"):
        vendor.install(package, tmp_path, lambda url: tampered)
    assert not (tmp_path / "lib").exists() and not list(tmp_path.iterdir())
    with pytest.raises(vendor.VendorError, match="no file"):
        vendor.install(vendor.Package("lib", "1.0.0", integrity, ("missing.js",)), tmp_path, lambda url: data)
    assert not list(tmp_path.iterdir())


@pytest.mark.parametrize("path", ["../evil.js", "/etc/passwd", "a/../../b", ""])
def test_a_manifest_path_cannot_leave_the_vendor_folder(path: str):
    with pytest.raises(ValueError):
        vendor.Package("lib", "1.0.0", "sha512-x", (path,))
