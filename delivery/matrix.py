"""Travel distance/time providers.

A provider is anything with ``distances(origins, destinations)`` and
``durations(origins, destinations, speed_kmh)`` returning integer numpy arrays
(``len(origins) × len(destinations)``). Values ``>= UNREACHABLE`` mean "no way there". A
road-network engine (OSRM/Valhalla table API) can be plugged in behind the same interface.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from operator import attrgetter
from typing import Protocol, runtime_checkable

import numpy as np

from delivery.errors import ProblemError
from delivery.model import Location

#: distance/duration meaning "cannot get there"
UNREACHABLE = 10**9

EARTH_RADIUS_M = 6_371_008.8


@runtime_checkable
class TravelMatrix(Protocol):
    def distances(
        self, origins: Sequence[Location], destinations: Sequence[Location]
    ) -> np.ndarray:  # pragma: no cover - protocol
        """Integer distances (provider unit, e.g. metres)."""
        ...

    def durations(
        self, origins: Sequence[Location], destinations: Sequence[Location], speed_kmh: float
    ) -> np.ndarray:  # pragma: no cover - protocol
        """Integer driving seconds (service times excluded) for a vehicle of this speed."""
        ...


def _coords(locations: Sequence[Location], a: str, b: str) -> tuple[np.ndarray, np.ndarray]:
    xy = np.array(list(map(attrgetter(a, b), locations)), dtype=float).reshape(len(locations), 2)
    missing = np.isnan(xy).any(axis=1)  # (None becomes NaN)
    if missing.any():
        loc = locations[int(np.argmax(missing))]
        raise ProblemError(f"locations[{loc.id}].{a}", f"location {loc.id!r} has no {a}/{b}")
    return xy[:, 0], xy[:, 1]


@dataclass(frozen=True)
class HaversineMatrix:
    """Great-circle distance × road detour factor; time = distance ÷ speed × zone factor.

    The zone factor is that of the destination's zone (learned from late deliveries);
    unknown zones use ``default_zone_factor``.
    """

    detour_factor: float = 1.3
    zone_factors: Mapping[str, float] = field(default_factory=dict)
    default_zone_factor: float = 1.0

    #: the last two (origins, destinations, metres): a context growing its matrices asks for
    #: the same two blocks once for distances and once per vehicle speed
    _last: list = field(default_factory=list, compare=False, repr=False)

    def _metres(self, origins: Sequence[Location], destinations: Sequence[Location]) -> np.ndarray:
        if not (isinstance(origins, tuple) and isinstance(destinations, tuple)):
            return self._compute_metres(origins, destinations)  # (only immutable ones are kept)
        recent = list(self._last)
        for o, d, metres in recent:
            if o is origins and d is destinations:
                return metres
        metres = self._compute_metres(origins, destinations)
        self._last[:] = [*recent[-1:], (origins, destinations, metres)]
        return metres

    def _compute_metres(self, origins: Sequence[Location], destinations: Sequence[Location]) -> np.ndarray:
        lat1, lon1 = (np.radians(v) for v in _coords(origins, "lat", "lon"))
        lat2, lon2 = (np.radians(v) for v in _coords(destinations, "lat", "lon"))
        dlat = lat2[None, :] - lat1[:, None]
        dlon = lon2[None, :] - lon1[:, None]
        h = (
            np.sin(dlat / 2) ** 2
            + np.cos(lat1)[:, None] * np.cos(lat2)[None, :] * np.sin(dlon / 2) ** 2
        )
        return 2 * EARTH_RADIUS_M * np.arcsin(np.sqrt(np.clip(h, 0.0, 1.0))) * self.detour_factor

    def distances(
        self, origins: Sequence[Location], destinations: Sequence[Location]
    ) -> np.ndarray:
        return np.rint(self._metres(origins, destinations)).astype(np.int64)

    def durations(
        self, origins: Sequence[Location], destinations: Sequence[Location], speed_kmh: float
    ) -> np.ndarray:
        if not speed_kmh > 0:
            raise ProblemError("speed_kmh", f"speed must be positive, got {speed_kmh}")
        factors = np.array(
            [self.zone_factors.get(d.zone, self.default_zone_factor) for d in destinations]
            if destinations
            else [],
            dtype=float,
        )
        seconds = self._metres(origins, destinations) / (speed_kmh / 3.6) * factors[None, :]
        return np.minimum(np.rint(seconds), UNREACHABLE).astype(np.int64)


@dataclass(frozen=True)
class EuclideanMatrix:
    """Euclidean distance in scaled integer units; travel time equals distance.

    Solomon (CVRPLIB) convention: ``scale=10, rounding="floor"`` (tenths, truncated).
    Li & Lim (unrounded): e.g. ``scale=1000, rounding="round"``. Speed is ignored.
    """

    scale: float = 1.0
    rounding: str = "round"

    def distances(
        self, origins: Sequence[Location], destinations: Sequence[Location]
    ) -> np.ndarray:
        x1, y1 = _coords(origins, "x", "y")
        x2, y2 = _coords(destinations, "x", "y")
        d = np.hypot(x2[None, :] - x1[:, None], y2[None, :] - y1[:, None]) * self.scale
        if self.rounding == "floor":
            # tiny epsilon: 10*sqrt(x) computed as 29.999999 must floor to 30
            return np.floor(d + 1e-9).astype(np.int64)
        if self.rounding == "ceil":
            return np.ceil(d - 1e-9).astype(np.int64)
        return np.rint(d).astype(np.int64)

    def durations(
        self, origins: Sequence[Location], destinations: Sequence[Location], speed_kmh: float
    ) -> np.ndarray:
        return self.distances(origins, destinations)


def default_matrix(locations: Sequence[Location]) -> TravelMatrix:
    """Haversine when every location has lat/lon, else Euclidean on x/y."""
    if all(loc.lat is not None and loc.lon is not None for loc in locations):
        return HaversineMatrix()
    if all(loc.x is not None and loc.y is not None for loc in locations):
        return EuclideanMatrix()
    bad = next(loc for loc in locations if (loc.lat is None or loc.lon is None) and (loc.x is None))
    raise ProblemError(f"locations[{bad.id}].lat", f"location {bad.id!r} has no coordinates")


def haversine_m(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle distance in metres (scalar helper)."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    h = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * EARTH_RADIUS_M * math.asin(math.sqrt(min(1.0, h)))


class CachedMatrix:
    """Serves sub-matrices of a fixed location set from one precomputed matrix.

    Used for the many small sub-problems of the decomposition search, so that a slow
    provider (a road-network engine) is asked once. Locations outside the set fall through to
    the wrapped provider.
    """

    def __init__(self, inner: TravelMatrix, locations: Sequence[Location]):
        self.inner = inner
        self.locations = list(locations)
        self.index = {loc.id: i for i, loc in enumerate(self.locations)}
        self._dist: np.ndarray | None = None
        self._dur: dict[float, np.ndarray] = {}

    def seed(self, dist: np.ndarray, durations: Mapping[float, np.ndarray]) -> None:
        self._dist = dist
        self._dur.update(durations)

    def _rows(self, locs: Sequence[Location]) -> np.ndarray | None:
        try:
            return np.fromiter(
                (self.index[loc.id] for loc in locs), dtype=np.int64, count=len(locs)
            )
        except KeyError:
            return None

    def distances(
        self, origins: Sequence[Location], destinations: Sequence[Location]
    ) -> np.ndarray:
        a, b = self._rows(origins), self._rows(destinations)
        if a is None or b is None:
            return self.inner.distances(origins, destinations)
        if self._dist is None:
            self._dist = np.asarray(self.inner.distances(self.locations, self.locations))
        return self._dist[np.ix_(a, b)]

    def durations(
        self, origins: Sequence[Location], destinations: Sequence[Location], speed_kmh: float
    ) -> np.ndarray:
        a, b = self._rows(origins), self._rows(destinations)
        if a is None or b is None:
            return self.inner.durations(origins, destinations, speed_kmh)
        m = self._dur.get(speed_kmh)
        if m is None:
            m = np.asarray(self.inner.durations(self.locations, self.locations, speed_kmh))
            self._dur[speed_kmh] = m
        return m[np.ix_(a, b)]
