"""Known vulnerabilities of the packages Shanhuo depends on: `make audit` and `make audit-snapshot`.

    python .ci/advisories/audit.py audit     # pip-audit (PyPI vulnerability service), else the snapshot
    python .ci/advisories/audit.py snapshot  # refresh .ci/advisories/pypi-snapshot.json from PyPI

`audit` runs pip-audit on the installed environment against the PyPI vulnerability service. A
package that service cannot answer for is *skipped* by pip-audit, which then still prints "No
known vulnerabilities found" and exits 0: an audit that checked nothing looks like a clean one.
So the packages actually checked are counted; when the service checked none (no network, or a
PyPI that serves no per-release JSON), the vendored snapshot is used instead, for the packages
whose installed version it holds; and when neither checked a single package, the audit fails
loudly (exit 2). Vulnerable packages: exit 1, with the versions that fix them.

`snapshot` records, for every package in the resolved requirements of setup.cfg (install_requires
and the test and dev extras, resolved through the installed packages' metadata), the advisories PyPI lists for the installed release (its
per-release JSON), or, where PyPI serves only the project JSON, for the release that JSON
describes (the newest); each entry names its version, so a stale entry is never taken for
another version.
"""

from __future__ import annotations

import argparse
import configparser
import json
import re
import subprocess
import sys
import tempfile
import urllib.error
import urllib.request
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent
SNAPSHOT = HERE / "pypi-snapshot.json"
EXTRAS = ("test", "dev")
PYPI = "https://pypi.org/pypi"


# --- what we depend on ---------------------------------------------------------------------------


def requirements(setup_cfg: Path = ROOT / "setup.cfg", extras: tuple[str, ...] = EXTRAS) -> list[Requirement]:
    """The requirements setup.cfg declares: install_requires and the given extras."""
    config = configparser.ConfigParser()
    config.read(setup_cfg, encoding="utf-8")
    lines = config.get("options", "install_requires", fallback="").splitlines()
    for extra in extras:
        lines += config.get("options.extras_require", extra, fallback="").splitlines()
    return [Requirement(line.strip()) for line in lines if line.strip() and not line.strip().startswith("#")]


def dependencies(top: list[Requirement] | None = None) -> dict[str, str]:
    """The installed closure of setup.cfg's requirements: canonical name -> installed version
    (a requirement that is not installed is reported and left out: it cannot be audited)."""
    found: dict[str, str] = {}
    todo: list[tuple[str, tuple[str, ...]]] = [(r.name, tuple(r.extras)) for r in (top or requirements())
                                               if not r.marker or r.marker.evaluate()]
    seen: set[tuple[str, tuple[str, ...]]] = set()
    while todo:
        name, extras = todo.pop()
        if (canonicalize_name(name), extras) in seen:
            continue
        seen.add((canonicalize_name(name), extras))
        try:
            dist = metadata.distribution(name)
        except metadata.PackageNotFoundError:
            print(f"  {name}: required but not installed, not audited", file=sys.stderr)
            continue
        found[canonicalize_name(dist.metadata["Name"])] = dist.version
        for line in dist.requires or []:
            requirement = Requirement(line)
            environments = [{"extra": extra} for extra in extras] or [{"extra": ""}]
            if requirement.marker and not any(requirement.marker.evaluate(env) for env in environments):
                continue
            todo.append((requirement.name, tuple(sorted(requirement.extras))))
    return dict(sorted(found.items()))


# --- PyPI ----------------------------------------------------------------------------------------


def _get_json(url: str, timeout: float = 20) -> dict | None:
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:  # noqa: S310 (a fixed https URL)
            return json.load(response)
    except urllib.error.HTTPError as error:
        if error.code == 404:
            return None
        raise


def _advisory(vulnerability: dict) -> dict:
    return {"id": vulnerability["id"], "aliases": sorted(vulnerability.get("aliases") or []),
            "fixed_in": vulnerability.get("fixed_in") or [],
            "summary": (vulnerability.get("summary") or vulnerability.get("details") or "")[:200],
            "link": vulnerability.get("link") or ""}


def pypi_advisories(name: str, version: str) -> tuple[str, str, list[dict]] | None:
    """(version described, source, advisories) from PyPI: the release's own JSON, else the
    project's JSON (which describes its newest release); None when PyPI knows neither."""
    release = _get_json(f"{PYPI}/{name}/{version}/json")
    if release is not None:
        source = "release"
    else:
        release = _get_json(f"{PYPI}/{name}/json")
        if release is None:
            return None
        source = "project"
    live = [v for v in release.get("vulnerabilities") or [] if not v.get("withdrawn")]
    return release["info"]["version"], source, [_advisory(v) for v in live]


def snapshot(path: Path = SNAPSHOT) -> int:
    installed = dependencies()
    if not installed:
        print("audit-snapshot: none of setup.cfg's requirements is installed here", file=sys.stderr)
        return 2
    packages: dict[str, dict] = {}
    exact = 0
    for name, version in installed.items():
        answer = pypi_advisories(name, version)
        if answer is None:
            print(f"  {name} {version}: unknown to PyPI, left out")
            continue
        described, source, advisories = answer
        exact += described == version
        packages[name] = {"version": described, "source": source, "advisories": advisories}
        note = "" if described == version else f" (installed {version}: not covered)"
        print(f"  {name} {described}: {len(advisories)} advisories, from the {source} JSON{note}")
    if not packages:
        print("audit-snapshot: PyPI answered for no package: snapshot NOT written", file=sys.stderr)
        return 2
    document = {"taken_at": datetime.now(UTC).strftime("%Y-%m-%dT%H:%MZ"),
                "source": f"{PYPI}/<name>/<version>/json, else {PYPI}/<name>/json (its newest release)",
                "packages": packages}
    path.write_text(json.dumps(document, indent=1, ensure_ascii=False, sort_keys=True) + "\n", encoding="utf-8")
    print(f"audit-snapshot: {len(packages)} packages written to {path.relative_to(Path.cwd()) if path.is_relative_to(Path.cwd()) else path}"
          f" ({exact} at the installed version)")
    return 0


# --- the audit -----------------------------------------------------------------------------------


def run_pip_audit(pip_audit: list[str], timeout: int) -> dict | None:
    """pip-audit's JSON report on this environment, or None when it produced none (unreachable)."""
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "report.json"
        command = [*pip_audit, "--vulnerability-service", "pypi", "--format", "json", "--output", str(out),
                   "--progress-spinner", "off", "--skip-editable", "--timeout", str(timeout)]
        done = subprocess.run(command, capture_output=True, text=True)
        if not out.exists() or not out.read_text().strip():
            tail = (done.stderr or done.stdout).strip().splitlines()[-1:] or ["no output"]
            print(f"pip-audit produced no report (exit {done.returncode}): {tail[0]}")
            return None
        return json.loads(out.read_text())


def _fixes(advisories: list[dict]) -> str:
    fixed = sorted({v for a in advisories for v in a.get("fixed_in", [])}, key=_version_key)
    return ", ".join(fixed) or "no fixed release yet"


def _version_key(text: str):
    from packaging.version import InvalidVersion, Version

    try:
        return (0, Version(text))
    except InvalidVersion:
        return (1, text)


def audit(pip_audit: list[str], timeout: int, snapshot_path: Path = SNAPSHOT) -> int:
    ours = dependencies()
    vulnerable: list[tuple[str, str, list[dict]]] = []
    checked = 0
    source = ""
    report = run_pip_audit(pip_audit, timeout)
    if report is not None:
        deps = report.get("dependencies", [])
        audited = [d for d in deps if "skip_reason" not in d]
        skipped = len(deps) - len(audited)
        print(f"pip-audit (PyPI vulnerability service): {len(audited)} of {len(deps)} installed packages checked,"
              f" {skipped} skipped" + (f" (e.g. {deps[0].get('skip_reason')})" if skipped and not audited else ""))
        if audited:
            checked, source = len(audited), "the PyPI vulnerability service"
            for dep in audited:
                if dep.get("vulns"):
                    vulnerable.append((dep["name"], dep["version"], [
                        {"id": v["id"], "aliases": v.get("aliases", []), "fixed_in": v.get("fix_versions", []),
                         "summary": (v.get("description") or "")[:200]} for v in dep["vulns"]]))
    if not checked:
        if not snapshot_path.exists():
            print(f"no advisory snapshot at {snapshot_path} (make audit-snapshot)")
        else:
            data = json.loads(snapshot_path.read_text(encoding="utf-8"))
            packages = data.get("packages", {})
            covered = {name: packages[name] for name, version in ours.items()
                       if name in packages and packages[name]["version"] == version}
            stale = sorted(f"{name} {version} (snapshot: {packages[name]['version']})" for name, version in ours.items()
                           if name in packages and packages[name]["version"] != version)
            absent = sorted(name for name in ours if name not in packages)
            checked, source = len(covered), f"the advisory snapshot of {data.get('taken_at', '?')} ({snapshot_path.name})"
            print(f"fallback: {source}: {len(covered)} of {len(ours)} packages we depend on checked at their installed"
                  f" version; {len(stale)} installed at another version than the snapshot's, {len(absent)} not in it")
            if stale:
                print("  not checked (the snapshot holds another release of them): " + ", ".join(stale))
            for name, entry in covered.items():
                if entry["advisories"]:
                    vulnerable.append((name, entry["version"], entry["advisories"]))
    if not checked:
        print("AUDIT FAILED: no vulnerability data for any package (the PyPI service checked none and the "
              "snapshot covers none of the installed versions): nothing was audited.", file=sys.stderr)
        return 2
    print(f"audit: {checked} packages checked against {source}; {len(vulnerable)} vulnerable")
    for name, version, advisories in vulnerable:
        ids = ", ".join(a["id"] + (f" ({'/'.join(a['aliases'])})" if a.get("aliases") else "") for a in advisories)
        print(f"  VULNERABLE {name} {version}: {ids}; fixed in {_fixes(advisories)}")
    return 1 if vulnerable else 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    run = sub.add_parser("audit")
    run.add_argument("--pip-audit", default=f"{sys.executable} -m pip_audit", help="how to run pip-audit")
    run.add_argument("--timeout", type=int, default=15)
    run.add_argument("--snapshot", type=Path, default=SNAPSHOT)
    take = sub.add_parser("snapshot")
    take.add_argument("--output", type=Path, default=SNAPSHOT)
    args = parser.parse_args(argv)
    if args.command == "snapshot":
        return snapshot(args.output)
    return audit(re.split(r"\s+", args.pip_audit.strip()), args.timeout, args.snapshot)


if __name__ == "__main__":
    sys.exit(main())
