"""The planner on tiny problems whose optimum is obvious."""

from __future__ import annotations

from dataclasses import replace

from delivery import (
    REASONS,
    HaversineMatrix,
    Location,
    Order,
    OrderKind,
    Problem,
    StopRef,
    Vehicle,
    check,
    solve,
    solve_many,
)


def stop_ids(plan, vehicle_id: str) -> list[tuple[str, str]]:
    route = plan.route_of(vehicle_id)
    return [(v.order_id, str(v.role)) for v in route.stops] if route else []


SQUARE = {"D": (0, 0), "A": (10, 0), "B": (10, 10), "C": (0, 10)}


def _orders(**deadlines):
    return [Order(k, delivery=k, weight=1, deadline=deadlines.get(k, 1000)) for k in "ABC"]


def test_without_deadlines_the_route_is_the_short_square(grid):
    p = grid(SQUARE, _orders())
    plan = solve(p, time_limit=0.5)
    assert check(p, plan) == []
    assert plan.distance == 40
    assert stop_ids(plan, "V1")[1] == ("B", "delivery")


def test_deadline_forces_the_visiting_order(grid):
    p = grid(SQUARE, _orders(B=15))
    plan = solve(p, time_limit=0.5)
    assert check(p, plan) == []
    assert not plan.unassigned
    assert stop_ids(plan, "V1")[0] == ("B", "delivery")
    first = plan.route_of("V1").stops[0]
    assert first.arrival <= 15 and first.deadline == 15


def test_capacity_forces_a_second_vehicle(grid):
    vehicles = [Vehicle(f"V{i}", "D", capacity_weight=10, shift_end=1000) for i in (1, 2)]
    orders = [Order(k, delivery=k, weight=6) for k in "AB"]
    p = grid(SQUARE, orders, vehicles)
    plan = solve(p, time_limit=0.5)
    assert check(p, plan) == []
    assert plan.vehicles_used == 2
    assert all(len(r.stops) == 1 for r in plan.used_routes)


def test_fixed_cost_prefers_fewer_vehicles(grid):
    vehicles = [Vehicle(f"V{i}", "D", capacity_weight=10, shift_end=1000) for i in (1, 2)]
    orders = [Order(k, delivery=k, weight=1) for k in "AC"]
    p = grid(SQUARE, orders, vehicles, vehicle_fixed_cost=None)
    plan = solve(p, time_limit=0.5)
    assert plan.vehicles_used == 1 and not plan.unassigned


def test_pickup_precedes_delivery_on_the_same_vehicle(grid):
    points = {"D": (0, 0), "COOP": (0, 20), "HOME": (0, 5), "X": (5, 0)}
    orders = [
        Order("P1", kind=OrderKind.PICKUP_DELIVERY, pickup="COOP", delivery="HOME", weight=5,
              deadline=200),
        Order("X", delivery="X", weight=1, deadline=200),
    ]  # fmt: skip
    vehicles = [Vehicle(f"V{i}", "D", capacity_weight=10, shift_end=1000) for i in (1, 2)]
    p = grid(points, orders, vehicles)
    plan = solve(p, time_limit=0.5)
    assert check(p, plan) == []
    route = next(r for r in plan.used_routes if "P1" in r.order_ids)
    roles = [(v.order_id, str(v.role)) for v in route.stops]
    assert roles.index(("P1", "pickup")) < roles.index(("P1", "delivery"))
    # the load rises at the cooperative and falls at the consumer
    pick = next(v for v in route.stops if v.order_id == "P1" and v.role == "pickup")
    assert pick.load_weight >= 5


def test_shift_end_excludes_a_stop_and_says_why(grid):
    points = {"D": (0, 0), "NEAR": (10, 0), "FAR": (60, 0)}
    orders = [Order("NEAR", delivery="NEAR"), Order("FAR", delivery="FAR")]
    vehicles = [Vehicle("V1", "D", capacity_weight=10, shift_end=100)]
    p = grid(points, orders, vehicles)
    plan = solve(p, time_limit=0.5)
    assert check(p, plan) == []
    assert stop_ids(plan, "V1") == [("NEAR", "delivery")]
    (u,) = plan.unassigned
    assert (u.order_id, u.reason_code) == ("FAR", "shift_ends")
    assert u.reason == REASONS["shift_ends"]


def test_unkeepable_orders_are_reported_with_reason_codes(grid):
    points = {"D": (0, 0), "A": (10, 0), "B": (20, 0), "W2": (50, 50)}
    orders = [
        Order("late", delivery="A", deadline=5),  # 10 away
        Order("heavy", delivery="A", weight=500),
        Order("past", delivery="B", deadline=40),
        Order("elsewhere", delivery="B", pickup="W2"),  # no vehicle starts at W2
        Order("ok", delivery="B"),
    ]
    p = grid(points, orders, now=50)
    plan = solve(p, time_limit=0.5)
    assert check(p, plan) == []
    reasons = {u.order_id: u.reason_code for u in plan.unassigned}
    assert reasons == {
        "late": "deadline_passed",
        "heavy": "capacity",
        "past": "deadline_passed",
        "elsewhere": "no_vehicle",
    }
    p2 = replace(p, now=0)
    reasons2 = {u.order_id: u.reason_code for u in solve(p2, time_limit=0.3).unassigned}
    assert reasons2["late"] == "no_vehicle_reaches_in_time"


def test_fleet_busy_when_alone_it_would_fit(grid):
    points = {"D": (0, 0), "A": (10, 0), "B": (-10, 0)}
    orders = [Order("A", delivery="A", deadline=10), Order("B", delivery="B", deadline=10)]
    p = grid(points, orders)
    plan = solve(p, time_limit=0.5)
    assert check(p, plan) == []
    assert [u.reason_code for u in plan.unassigned] == ["fleet_busy"]


def test_locked_stops_stay_first_and_in_order(grid):
    # C then A is a detour, but the dispatcher locked it
    p = grid(SQUARE, _orders())
    v = replace(p.vehicles[0], locked_stops=(StopRef("C"), StopRef("A")))
    p = replace(p, vehicles=(v,))
    plan = solve(p, time_limit=0.5)
    assert check(p, plan) == []
    ids = stop_ids(plan, "V1")
    assert ids[:2] == [("C", "delivery"), ("A", "delivery")]
    assert plan.route_of("V1").stops[0].locked


def test_started_route_delivers_what_is_on_board(grid):
    points = {"D": (0, 0), "HERE": (30, 0), "A": (40, 0), "B": (0, 40), "COOP": (35, 0)}
    orders = [
        Order("A", delivery="A", weight=4, deadline=100),
        Order("B", delivery="B", weight=1, deadline=500),
        Order("P", kind=OrderKind.PICKUP_DELIVERY, pickup="COOP", delivery="B", weight=3),
    ]
    vehicles = [
        Vehicle("V1", "D", capacity_weight=7, start_location="HERE", available_from=50,
                shift_end=1000, onboard=("A",)),
        Vehicle("V2", "D", capacity_weight=10, shift_end=1000),
    ]  # fmt: skip
    p = grid(points, orders, vehicles)
    plan = solve(p, time_limit=0.5)
    assert check(p, plan) == []
    assert ("A", "delivery") in stop_ids(plan, "V1")
    start = plan.route_of("V1").visits[0]
    assert (start.location, start.departure, start.load_weight) == ("HERE", 50, 4)
    # the depot order B cannot be loaded on V1, which left the depot
    assert ("B", "delivery") in stop_ids(plan, "V2")


def test_pinned_order_goes_to_its_vehicle(grid):
    points = {"D1": (0, 0), "D2": (100, 0), "A": (5, 0)}
    vehicles = [
        Vehicle("V1", "D1", capacity_weight=10, shift_end=1000),
        Vehicle("V2", "D2", capacity_weight=10, shift_end=1000),
    ]
    orders = [
        Order("A", kind=OrderKind.PICKUP_DELIVERY, pickup="A", delivery="A",
              pinned_vehicle="V2"),
        Order("A2", kind=OrderKind.PICKUP_DELIVERY, pickup="A", delivery="A"),
    ]  # fmt: skip
    p = grid(points, orders, vehicles)
    plan = solve(p, time_limit=0.5)
    assert check(p, plan) == []
    assert "A" in plan.route_of("V2").order_ids
    assert not plan.fallback


def test_replenishment_is_optional_and_reported_not_scheduled(grid):
    points = {"D": (0, 0), "COOP": (100, 0), "A": (1, 0)}
    cheap = Order("R", kind=OrderKind.REPLENISHMENT, pickup="COOP", delivery="D", value=10)
    p = grid(points, [cheap, Order("A", delivery="A")])
    plan = solve(p, time_limit=0.5)
    assert check(p, plan) == []
    assert [(u.order_id, u.reason_code) for u in plan.unassigned] == [("R", "not_scheduled")]
    worth = replace(cheap, value=1000)
    p2 = replace(p, orders=(worth, p.orders[1]))
    plan2 = solve(p2, time_limit=0.5)
    assert check(p2, plan2) == [] and not plan2.unassigned


def test_fallback_plan_when_there_is_no_time(grid):
    points = {"D": (0, 0), **{f"C{i}": (i * 7 % 30, i * 13 % 30) for i in range(12)}}
    orders = [Order(f"C{i}", delivery=f"C{i}", weight=3, deadline=400) for i in range(12)]
    vehicles = [Vehicle(f"V{i}", "D", capacity_weight=10, shift_end=600) for i in range(5)]
    p = grid(points, orders, vehicles)
    plan = solve(p, time_limit=0)
    assert plan.fallback and plan.status == "fallback"
    assert plan.used_routes
    assert check(p, plan) == []
    assert {o for r in plan.routes for o in r.order_ids} | {
        u.order_id for u in plan.unassigned
    } == {o.id for o in orders}


def test_two_workers_and_a_warm_start(grid):
    points = {"D": (0, 0), **{f"C{i}": (i * 7 % 30, i * 13 % 30) for i in range(10)}}
    orders = [Order(f"C{i}", delivery=f"C{i}", weight=3) for i in range(10)]
    vehicles = [Vehicle(f"V{i}", "D", capacity_weight=10, shift_end=600) for i in range(4)]
    p = grid(points, orders, vehicles)
    plan = solve(p, time_limit=1.5, workers=2)
    assert check(p, plan) == [] and not plan.fallback
    again = solve(p, time_limit=0.5, initial=plan)
    assert check(p, again) == [] and again.distance <= plan.distance


def test_no_orders_gives_idle_routes(grid):
    p = grid(SQUARE, [])
    plan = solve(p, time_limit=0.2)
    assert plan.vehicles_used == 0 and len(plan.routes) == 1 and check(p, plan) == []


def test_haversine_heterogeneous_fleet_and_zone_factor():
    # 10 km apart; a 20 km/h van needs ~39 min, a 60 km/h car ~13 min (×1.3 detour)
    locs = [
        Location("W", lat=28.0, lon=119.0),
        Location("H", lat=28.0 + 10 / 111.2, lon=119.0, zone="hills"),
    ]
    vehicles = [
        Vehicle("slow", "W", capacity_weight=10_000, speed_kmh=20, shift_end=86_400),
        Vehicle("fast", "W", capacity_weight=10_000, speed_kmh=60, shift_end=86_400),
    ]
    order = Order("O", delivery="H", weight=1000, deadline=20 * 60)
    p = Problem(locs, vehicles, [order], vehicle_fixed_cost=0)
    plan = solve(p, time_limit=0.3)
    assert check(p, plan) == []
    assert plan.route_of("fast").order_ids == ["O"]
    slow_hills = replace(p, matrix=HaversineMatrix(zone_factors={"hills": 2.0}))
    plan2 = solve(slow_hills, time_limit=0.3)
    assert [u.reason_code for u in plan2.unassigned] == ["no_vehicle_reaches_in_time"]


def test_locked_pickup_keeps_its_delivery_on_the_same_vehicle(grid):
    points = {"D": (0, 0), "COOP": (20, 0), "HOME": (0, 20), "X": (5, 5)}
    orders = [
        Order("P", kind=OrderKind.PICKUP_DELIVERY, pickup="COOP", delivery="HOME", weight=3,
              deadline=500),
        Order("X", delivery="X", weight=1),
    ]  # fmt: skip
    vehicles = [
        Vehicle("V1", "D", 10, shift_end=1000, locked_stops=(StopRef("P", "pickup"),)),
        Vehicle("V2", "D", 10, shift_end=1000),
    ]
    p = grid(points, orders, vehicles)
    plan = solve(p, time_limit=0.5)
    assert check(p, plan) == []
    ids = stop_ids(plan, "V1")
    assert ids[0] == ("P", "pickup") and ("P", "delivery") in ids


def test_late_locked_stop_is_still_visited_and_flagged(grid):
    # the vehicle is 50 away from a locked stop whose deadline is in 10: it goes anyway
    points = {"D": (0, 0), "A": (50, 0)}
    v = Vehicle("V1", "D", 10, shift_end=1000, locked_stops=(StopRef("A"),))
    p = grid(points, [Order("A", delivery="A", deadline=10)], [v])
    plan = solve(p, time_limit=0.3)
    (visit,) = plan.route_of("V1").stops
    assert visit.late == 40 and not plan.unassigned
    assert [x.code for x in check(p, plan)] == ["late"]


def test_solve_many_plans_each_warehouse(grid):
    problems = [
        grid(SQUARE, _orders()),
        grid(SQUARE, [Order("A", delivery="A")]),
    ]
    plans = solve_many(problems, time_limit=0.5, processes=2)
    assert [len(pl.used_routes[0].stops) for pl in plans] == [3, 1]
    assert all(check(p, pl) == [] for p, pl in zip(problems, plans, strict=True))
