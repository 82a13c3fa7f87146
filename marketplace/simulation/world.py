"""The simulated world: what the application does not know and must cope with.

Demand (when orders arrive, who orders what, which window they want) and the roads (true travel
and service times). Everything random comes from the ``random.Random`` handed in, so a run is
reproducible from its seed. The hidden zone factors are deliberately not the planner's seeded
ones (seed/data.py starts the planner at 1.0-1.6 by terrain): the feedback loop has to find them.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

LOCAL = ZoneInfo("Asia/Shanghai")
EARTH_RADIUS_M = 6_371_008.8
#: road length over great-circle distance (the planner's HaversineMatrix uses the same detour)
DETOUR = 1.3

#: orders per local hour of the day (relative): none at night, a morning and an evening peak
HOURLY_PROFILE = (0, 0, 0, 0, 0, 0, 0, 2, 6, 9, 7, 5, 4, 4, 4, 4, 5, 6, 9, 10, 7, 4, 1, 0)

#: the window a consumer asks for, by the class's length in hours (weights)
PREFERRED_HOURS = {2: 25, 6: 35, 12: 25, 18: 15}
#: a consumer whose window is not offered takes the next longer offered one with this probability
TAKE_LONGER = 0.6
#: share of orders paid online (through the sandbox provider), the rest cash on delivery
ONLINE_SHARE = 0.3
#: of the online orders, the share actually paid (the rest is left to expire)
PAID_SHARE = 0.95

#: the truth the planner does not know: a van's travel time in a zone is the modelled one times
#: this factor (by terrain), times lognormal noise per leg
HIDDEN_BY_TERRAIN = {"plain": 1.1, "valley": 1.35, "hill": 1.55, "mountain": 1.8}
#: the sigma of a leg's log travel time
LEG_SIGMA = 0.12
#: a door's true service time (s): lognormal around this median
SERVICE_MEDIAN_S = 200
SERVICE_SIGMA = 0.35
#: market day (local dates whose day of the month ends in 1, 4 or 7, as the county's markets):
#: roads this much slower from 07:00 to 13:00
MARKET_DAY_DIGITS = (1, 4, 7)
MARKET_SLOWDOWN = 1.3
#: the chance that a van breaks down on a given day (once, some time while it is out)
BREAKDOWN_PER_VAN_DAY = 0.03
#: when the cooperatives' heads review their replenishment suggestions (local time)
HEADS_REVIEW_AT = time(7, 0)
#: complaints: share of late deliveries whose consumer complains, and of deliveries damaged
COMPLAIN_IF_LATE = 0.35
DAMAGED = 0.01


def haversine_m(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    h = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * EARTH_RADIUS_M * math.asin(math.sqrt(min(1.0, max(0.0, h))))


def hidden_factors(zones: list[tuple[str, str]], rng: random.Random) -> dict[str, float]:
    """zone code -> its true travel factor: the terrain's, ±0.05 per zone (zones in code order)."""
    return {code: round(HIDDEN_BY_TERRAIN.get(terrain, 1.3) + rng.uniform(-0.05, 0.05), 3)
            for code, terrain in sorted(zones)}


def is_market_slow(at: datetime) -> bool:
    local = at.astimezone(LOCAL)
    return local.day % 10 in MARKET_DAY_DIGITS and 7 <= local.hour < 13


def arrival_times(day: date, n: int, rng: random.Random) -> list[datetime]:
    """``n`` order times (UTC) on the local ``day``, spread by :data:`HOURLY_PROFILE`."""
    hours = rng.choices(range(24), weights=HOURLY_PROFILE, k=n)
    out = []
    for hour in hours:
        local = datetime.combine(day, time(hour), LOCAL) + timedelta(seconds=rng.randrange(3600))
        out.append(local.astimezone(UTC))
    return sorted(out)


@dataclass(frozen=True)
class Wish:
    """What one arriving consumer wants: who, which goods, which window, how to pay."""

    at: datetime
    consumer: int  # index into the simulation's consumers
    cart: dict[int, int]
    preferred_hours: int
    online: bool
    pays: bool
    pay_after_s: int
    take_longer: float  # drawn now: takes a longer window if < TAKE_LONGER


def wishes(day: date, n: int, consumers: int, products: list[int], rng: random.Random) -> list[Wish]:
    out = []
    hours = sorted(PREFERRED_HOURS)
    for at in arrival_times(day, n, rng):
        size = rng.choice((1, 1, 2, 2, 3))
        picked = rng.sample(products, min(size, len(products)))
        cart = {pid: rng.choice((1, 1, 1, 2)) for pid in sorted(picked)}
        preferred = rng.choices(hours, weights=[PREFERRED_HOURS[h] for h in hours])[0]
        online = rng.random() < ONLINE_SHARE
        out.append(Wish(at, rng.randrange(consumers), cart, preferred, online, rng.random() < PAID_SHARE,
                        rng.randint(30, 300), rng.random()))
    return out


class Roads:
    """True travel and service times, with their own random stream."""

    def __init__(self, factors: dict[str, float], rng: random.Random) -> None:
        self.factors = factors
        self.rng = rng

    def leg(self, a: tuple[float, float], b: tuple[float, float], zone: str | None, speed_kmh: float,
            at: datetime) -> tuple[int, float]:
        """(seconds, metres) of driving from a to b (b's zone sets the factor) leaving at ``at``."""
        metres = haversine_m(a[0], a[1], b[0], b[1]) * DETOUR
        seconds = metres / (speed_kmh / 3.6) * self.factors.get(zone or "", 1.3)
        seconds *= math.exp(self.rng.gauss(0.0, LEG_SIGMA))
        if is_market_slow(at):
            seconds *= MARKET_SLOWDOWN
        return int(round(seconds)), metres

    def service(self) -> int:
        return int(round(SERVICE_MEDIAN_S * math.exp(self.rng.gauss(0.0, SERVICE_SIGMA))))
