"""Instance readers on the real benchmark files, and the checker against known solutions."""

from __future__ import annotations

import re

from delivery import OrderKind, Plan, Role, StopRef, check
from delivery.bench import load_bks, main, plan_from_refs
from delivery.io import read_lilim, read_solomon


def test_reads_solomon_c101(benchmarks):
    p = read_solomon(benchmarks / "solomon" / "instances" / "C101.txt")
    assert p.name == "C101"
    assert len(p.orders) == 100 and len(p.vehicles) == 25
    assert p.vehicles[0].capacity_weight == 200
    assert p.vehicles[0].shift_end == 12360  # 1236 in tenths
    o1 = p.order_by_id["1"]
    assert (o1.weight, o1.ready, o1.deadline, o1.delivery_service) == (10, 9120, 9670, 900)


def test_bks_solution_passes_the_checker_with_the_published_cost(benchmarks):
    """The independent checker and the reader agree with CVRPLIB's solution of R101."""
    p = read_solomon(benchmarks / "solomon" / "instances" / "R101.txt")
    text = (benchmarks / "solomon" / "bks_solutions" / "R101.sol").read_text()
    routes = [
        [StopRef(c, Role.DELIVERY) for c in m.split()]
        for m in re.findall(r"Route #\d+:\s*([\d ]+)", text)
    ]
    plan = plan_from_refs(p, routes, 0.0)
    assert check(p, plan) == []
    assert plan.distance / 10 == load_bks(benchmarks / "solomon" / "instances" / "x")["r101"][1]
    # break it: swap two stops and the checker notices
    bad = [list(r) for r in routes]
    bad[0][0], bad[0][-1] = bad[0][-1], bad[0][0]
    assert any(v.code == "late" for v in check(p, plan_from_refs(p, bad, 0.0)))


def test_reads_lilim_lc101(benchmarks):
    p = read_lilim(benchmarks / "lilim" / "instances" / "lc101.txt")
    assert len(p.vehicles) == 25 and p.vehicles[0].capacity_weight == 200
    assert all(o.kind is OrderKind.PICKUP_DELIVERY for o in p.orders)
    nodes = {o.pickup for o in p.orders} | {o.delivery for o in p.orders}
    assert len(nodes) == 2 * len(p.orders) == len(p.locations) - 1


def test_checker_catches_split_and_precedence(benchmarks):
    p = read_lilim(benchmarks / "lilim" / "instances" / "lc101.txt")
    o = p.orders[0]
    backwards = [[StopRef(o.id, Role.DELIVERY), StopRef(o.id, Role.PICKUP)]]
    codes = {v.code for v in check(p, plan_from_refs(p, backwards, 0.0))}
    assert "precedence" in codes
    split = [[StopRef(o.id, Role.PICKUP)], [StopRef(o.id, Role.DELIVERY)]]
    codes = {v.code for v in check(p, plan_from_refs(p, split, 0.0))}
    assert "split" in codes
    assert "dropped" in {v.code for v in check(p, Plan(routes=()))}


def test_bench_cli_writes_json(benchmarks, tmp_path, capsys):
    out = tmp_path / "r.json"
    f = benchmarks / "solomon" / "instances" / "C101.txt"
    assert main(["vrptw", str(f), "--seconds", "1", "--workers", "1", "--json", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "C101" in printed and "gap" in printed
    import json

    (row,) = json.loads(out.read_text())
    assert row["instance"] == "C101" and row["vehicles"] == len(row["routes"])
    assert sorted(c for r in row["routes"] for c in r) == list(range(1, 101))
