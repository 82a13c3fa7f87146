"""Tables for BENCHMARKS.md from a side-by-side run of ``python -m delivery.bench``.

    python bench/summarize.py bench/results/solomon-10s.txt

Per solver: mean and max gap per instance class and overall, vehicles against the BKS.
"""

from __future__ import annotations

import re
import statistics
import sys
from collections import defaultdict

ROW = re.compile(
    r"^(?P<solver>\S+)\s+(?P<inst>\S+)\s+(?P<veh>\d+)\s+(?P<bv>\d+)\s+(?P<dist>[\d.]+)\s+"
    r"(?P<bks>[\d.]+)\s+(?P<gap>-?[\d.]+)\s+(?P<feas>yes|NO)\s+(?P<secs>[\d.]+)\s+(?P<cpu>[\d.]+)"
)


def main(path: str) -> None:
    with open(path) as fh:
        rows = [m.groupdict() for line in fh if (m := ROW.match(line))]
    solvers = list(dict.fromkeys(r["solver"] for r in rows))
    classes = sorted({re.match(r"[A-Za-z]+\d", r["inst"]).group(0).upper() for r in rows})
    print("| solver | feasible | " + " | ".join(f"{c} mean gap" for c in classes)
          + " | mean gap | max gap | vehicles = BKS | vehicles < BKS | CPU s per instance |")
    print("|---" * (len(classes) + 7) + "|")
    for s in solvers:
        rs = [r for r in rows if r["solver"] == s]
        by = defaultdict(list)
        for r in rs:
            by[re.match(r"[A-Za-z]+\d", r["inst"]).group(0).upper()].append(float(r["gap"]))
        gaps = [float(r["gap"]) for r in rs]
        worst = max(rs, key=lambda r: float(r["gap"]))
        same = sum(int(r["veh"]) == int(r["bv"]) for r in rs)
        fewer = sum(int(r["veh"]) < int(r["bv"]) for r in rs)
        cpu = statistics.median(float(r["cpu"]) for r in rs)
        print(f"| {s} | {sum(r['feas'] == 'yes' for r in rs)}/{len(rs)} | "
              + " | ".join(f"{statistics.fmean(by[c]):.2f} %" for c in classes)
              + f" | **{statistics.fmean(gaps):.2f} %** | {float(worst['gap']):.2f} % ({worst['inst']})"
              f" | {same}/{len(rs)} ({100 * same / len(rs):.0f} %) | {fewer} | {cpu:.1f} |")


if __name__ == "__main__":
    main(sys.argv[1])
