"""The feedback loop's first run on the demo county (14 days of history, as `make demo` seeds
it): the learned values stay sane, and the hill zones move more than the county town.

The bounds follow from how the history is made (seed/load.py, _run_day): a van's start is late
by a few minutes (rarely, a breakdown: more often in the hills), each leg takes its zone's
typical time (the seeded factor) with a log-spread of at most 0.15, and the plan used the seeded
factors. So the 0.9-quantile of a zone's legs is about factor x e^(1.28 x spread) (<= 1.21 x
the seeded factor, 1.3 with sampling noise), and the 0.9-quantile of ETA errors a quarter of an
hour at most in the county town, half an hour in the mountains: a breakdown or two, however
recent, must not set it (at least three runs must be that late)."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from marketplace.extensions import db
from marketplace.logistics import learning
from marketplace.models import ChangeSource, LogisticsParameter, ParameterChange, Zone
from tests.conftest import seed_snapshot, session_instant


@pytest.fixture
def demo_county(app, snapshots):
    """The demo county with `make demo`'s 14 days of history, seeded once per session (shared
    with the browser test of the head's statistics, tests/browser/test_coop_stats.py)."""
    return seed_snapshot(app, snapshots, "seeded_history_14", session_instant(), history_days=14, plan=False)


def _zone_values(key: str) -> dict[str, float]:
    rows = db.session.execute(sa.select(Zone.code, LogisticsParameter.value).join(
        LogisticsParameter, sa.and_(LogisticsParameter.scope == "zone", LogisticsParameter.scope_id == Zone.id,
                                    LogisticsParameter.key == key)))
    return {code: float(value) for code, value in rows}


def test_first_run_on_the_demo_county_learns_sane_values(app, demo_county, clock):
    with app.app_context():
        clock.move_to(session_instant())
        terrain = dict(db.session.execute(sa.select(Zone.code, Zone.terrain)).all())
        seeded_factor, seeded_margin = _zone_values("travel_factor"), _zone_values("promise_margin_s")
        stops = learning._made_stops(clock.now() - learning.DELIVERY_WINDOW)
        assert sum(s.delivered for s in stops) >= 250, "14 days of deliveries"
        late = sum(s.delivered and s.arrival > s.deadline for s in stops) / sum(s.delivered for s in stops)
        assert late < 0.06, f"the history is mostly on time, {late:.1%} late"

        learning.run(clock.now())
        factor, margin = _zone_values("travel_factor"), _zone_values("promise_margin_s")
        for code in seeded_factor:
            assert seeded_factor[code] * 0.95 <= factor[code] <= min(learning.FACTOR_BOUNDS[1], seeded_factor[code] * 1.3), (code, factor)
            assert seeded_margin[code] <= margin[code] <= seeded_margin[code] + (900 if terrain[code] == "plain"
                                                                                 else 1800), (code, margin)
        moved = {code: margin[code] - seeded_margin[code] for code in margin}
        town = [moved[c] for c in moved if terrain[c] == "plain"]
        hills = [moved[c] for c in moved if terrain[c] in ("hill", "mountain")]
        assert sum(hills) / len(hills) > max(town), moved
        # the changes say where they come from; a second run changes nothing
        changes = db.session.scalars(sa.select(ParameterChange).where(
            ParameterChange.source == ChangeSource.DELIVERIES)).all()
        assert changes and all(c.source_refs["stops"] for c in changes)
        assert learning.run(clock.now()) == "no parameter changed"


def test_one_late_run_does_not_set_the_margin():
    """Six deliveries of one van's run, an hour late after a breakdown, among 40 on time: the
    tail must come from three runs, so the margin stays near the on-time errors."""
    on_time = [float(60 * (i % 5)) for i in range(40)]  # 0-4 minutes late, 40 runs
    errors = on_time + [3600.0] * 6
    runs = list(range(40)) + [99] * 6
    assert learning.margin_estimate(errors, 300, 300, runs=runs) == 300 + 240
    # without the runs, six recent hour-late deliveries are six samples: the margin grows
    assert learning.margin_estimate(errors, 300, 300) == learning.MARGIN_BOUNDS[1]
    # the same lateness on three distinct runs is evidence
    runs3 = list(range(40)) + [97, 97, 98, 98, 99, 99]
    assert learning.margin_estimate(errors, 300, 300, runs=runs3) == learning.MARGIN_BOUNDS[1]
