"""Bad input raises ProblemError naming the field, never an OR-Tools traceback."""

from __future__ import annotations

from dataclasses import replace

import pytest

from delivery import Location, Order, Problem, ProblemError, StopRef, Vehicle, solve, validate
from delivery.io import read_lilim, read_solomon

POINTS = {"D": (0, 0), "A": (10, 0)}


def _solve(grid, orders=None, vehicles=None, **kw):
    orders = [Order("A", delivery="A", weight=1)] if orders is None else orders
    return solve(grid(POINTS, orders, vehicles, **kw), time_limit=0.1)


@pytest.mark.parametrize(
    ("order", "field"),
    [
        (Order("A", delivery="A", weight=-1), "orders[0].weight"),
        (Order("A", delivery="A", volume=-5), "orders[0].volume"),
        (Order("A", delivery="A", ready=100, deadline=50), "orders[0].deadline"),
        (Order("A", delivery="nowhere"), "orders[0].delivery"),
        (Order("A", delivery="A", pickup="nowhere"), "orders[0].pickup"),
        (Order("A", delivery="A", kind="pickup_delivery"), "orders[0].pickup"),
        (Order("A", delivery="A", kind="teleport"), "orders[0].kind"),
        (Order("A", delivery="A", pinned_vehicle="V9"), "orders[0].pinned_vehicle"),
        (Order("A", delivery="A", delivery_service=1.5), "orders[0].delivery_service"),
    ],
)
def test_bad_order_names_the_field(grid, order, field):
    with pytest.raises(ProblemError) as exc:
        _solve(grid, [order])
    assert exc.value.field == field
    assert field in str(exc.value)
    assert isinstance(exc.value, ValueError)


@pytest.mark.parametrize(
    ("vehicle", "field"),
    [
        (Vehicle("V1", "D", capacity_weight=-1), "vehicles[0].capacity_weight"),
        (Vehicle("V1", "D", 10, shift_start=500, shift_end=100), "vehicles[0].shift_end"),
        (Vehicle("V1", "X", 10), "vehicles[0].depot"),
        (Vehicle("V1", "D", 10, speed_kmh=0), "vehicles[0].speed_kmh"),
        (Vehicle("V1", "D", 10, onboard=("ZZ",)), "vehicles[0].onboard[0]"),
        (
            Vehicle("V1", "D", 10, locked_stops=(StopRef("A", "pickup"),)),
            "vehicles[0].locked_stops[0]",
        ),
    ],
)
def test_bad_vehicle_names_the_field(grid, vehicle, field):
    with pytest.raises(ProblemError) as exc:
        _solve(grid, vehicles=[vehicle])
    assert exc.value.field == field


def test_duplicate_ids_are_rejected(grid):
    with pytest.raises(ProblemError, match=r"orders\[1\]\.id"):
        _solve(grid, [Order("A", delivery="A"), Order("A", delivery="D")])
    v = Vehicle("V1", "D", 10)
    with pytest.raises(ProblemError, match=r"vehicles\[1\]\.id"):
        _solve(grid, vehicles=[v, v])
    locs = [Location("D", x=0, y=0), Location("D", x=1, y=1)]
    with pytest.raises(ProblemError, match=r"locations\[1\]\.id"):
        solve(Problem(locs, [v], []), time_limit=0.1)


def test_a_grown_problem_is_validated_in_what_was_added(grid):
    base = grid(POINTS, [Order("A", delivery="A", weight=1)])
    validate(base)

    def grown(*orders: Order, locations: tuple[Location, ...] = ()) -> Problem:
        return replace(
            base, locations=(*base.locations, *locations), orders=(*base.orders, *orders)
        )

    validate(grown(Order("B", delivery="B"), locations=(Location("B", x=3, y=4),)), base=base)
    for bad, field in [
        (grown(Order("B", delivery="nowhere")), "orders[1].delivery"),
        (grown(Order("B", delivery="A", weight=-1)), "orders[1].weight"),
        (grown(Order("A", delivery="A")), "orders[1].id"),
        (grown(locations=(Location("A", x=1, y=1),)), "locations[2].id"),
        (grown(locations=(Location("C", lat=91.0, lon=0.0),)), "locations[2].lat"),
        (grown(Order("B", delivery="A"), Order("B", delivery="D")), "orders[2].id"),
        (grown(locations=(Location("C", x=1, y=1), Location("C", x=2, y=2))), "locations[3].id"),
        # a vehicle that is not the base's own object is checked again
        (replace(base, vehicles=(Vehicle("V1", "nowhere", 10),)), "vehicles[0].depot"),
    ]:
        with pytest.raises(ProblemError) as exc:
            validate(bad, base=base)
        assert exc.value.field == field
    # an order the base had is checked again when the vehicles it may name changed
    pinned = grid(POINTS, [Order("A", delivery="A", pinned_vehicle="V1")])
    with pytest.raises(ProblemError, match=r"orders\[0\]\.pinned_vehicle"):
        validate(replace(pinned, vehicles=(Vehicle("V2", "D", 10),)), base=pinned)


def test_locations_need_coordinates():
    p = Problem([Location("D"), Location("A", lat=1.0, lon=2.0)], [Vehicle("V", "D", 1)], [])
    with pytest.raises(ProblemError, match="lat"):
        solve(p, time_limit=0.1)
    with pytest.raises(ProblemError, match=r"locations\[0\]\.lat"):
        solve(replace(p, locations=(Location("D", lat=91.0, lon=0.0),)), time_limit=0.1)


def test_files_that_are_not_instances(tmp_path, benchmarks):
    junk = tmp_path / "notes.txt"
    junk.write_text("hello\nthis is not an instance\n")
    binary = tmp_path / "image.txt"
    binary.write_bytes(b"\x89PNG\x00\x01\x02")
    empty = tmp_path / "empty.txt"
    empty.write_text("")
    for reader in (read_solomon, read_lilim):
        for f in (junk, binary, empty, tmp_path / "missing.txt"):
            with pytest.raises(ProblemError):
                reader(f)
    # each format is not the other
    with pytest.raises(ProblemError):
        read_lilim(benchmarks / "solomon" / "instances" / "C101.txt")
    with pytest.raises(ProblemError):
        read_solomon(benchmarks / "lilim" / "instances" / "lc101.txt")


def test_solomon_file_with_negative_demand(tmp_path, benchmarks):
    text = (benchmarks / "solomon" / "instances" / "C101.txt").read_text()
    lines = text.splitlines()
    i = next(k for k, ln in enumerate(lines) if ln.split()[:1] == ["1"])
    parts = lines[i].split()
    parts[3] = "-10"
    lines[i] = " ".join(parts)
    f = tmp_path / "neg.txt"
    f.write_text("\r\n".join(lines))
    with pytest.raises(ProblemError, match="demand"):
        read_solomon(f)
