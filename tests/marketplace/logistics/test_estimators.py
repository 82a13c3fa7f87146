"""The estimators of the feedback loop (marketplace/logistics/learning.py): bounds, dead band,
minimum sample, recency weighting and decay back once deliveries are on time again."""

from __future__ import annotations

import pytest

from marketplace.logistics import learning


def test_weighted_quantile_counts_recent_samples_most():
    assert learning.weighted_quantile([1.0] * 9 + [2.0], q=0.5, recency=1.0) == 1.0
    # the same values, the slow ones recent: the high quantile is theirs
    assert learning.weighted_quantile([1.0] * 10 + [1.6] * 3, q=0.9) == 1.6
    # the slow ones long ago: they weigh too little to reach the 0.9 quantile
    assert learning.weighted_quantile([1.6] * 3 + [1.0] * 60, q=0.9) == 1.0
    with pytest.raises(ValueError):
        learning.weighted_quantile([])


def test_factor_needs_a_minimum_sample_and_stays_within_bounds():
    assert learning.factor_estimate([3.0] * (learning.MIN_SAMPLES - 1), 1.0) is None
    assert learning.factor_estimate([3.0] * learning.MIN_SAMPLES, 1.0) == learning.FACTOR_BOUNDS[1]
    assert learning.factor_estimate([0.3] * 20, 1.0) == learning.FACTOR_BOUNDS[0]


def test_factor_dead_band_ignores_tiny_moves():
    assert learning.factor_estimate([1.03] * 20, 1.0) is None
    assert learning.factor_estimate([1.2] * 20, 1.0) == 1.2
    assert learning.factor_estimate([1.22] * 20, 1.2) is None


def test_factor_decays_back_when_deliveries_are_on_time_again():
    late = [1.8] * 20
    assert learning.factor_estimate(late, 1.0) == 1.8
    recovering = late + [1.0] * 10
    assert learning.factor_estimate(recovering, 1.8) is None  # still recent slow legs
    recovered = late + [1.0] * 60
    assert learning.factor_estimate(recovered, 1.8) == 1.0


def test_margin_adds_the_high_quantile_of_eta_errors_to_the_base_within_bounds():
    assert learning.margin_estimate([600] * 3, 300, 300) is None  # too few
    assert learning.margin_estimate([600] * 10, 300, 300) == 900
    assert learning.margin_estimate([10_000] * 10, 300, 300) == learning.MARGIN_BOUNDS[1]
    assert learning.margin_estimate([20] * 10, 300, 300) is None  # dead band (rounds to 330)
    # early arrivals never push the margin below the base; decay back to it
    assert learning.margin_estimate([-900] * 10, 300, 900) == 300


def test_suspension_and_recovery_rules():
    assert not learning.should_suspend([True, True] + [False] * 8)
    assert learning.should_suspend([False] * 7 + [True] * 3)
    assert not learning.should_suspend([True] * 3 + [False] * 10)  # those were not among the last 10
    assert not learning.should_resume([False] * 9)
    assert not learning.should_resume([False] * 12 + [True])
    assert learning.should_resume([True] + [False] * 10)


def test_quality_score_is_bounded_and_recovers_over_time():
    assert learning.quality_score(100, 0, []) == 100
    assert learning.quality_score(100, 0, [0, 0, 0]) == 100 - 3 * learning.QUALITY_PENALTY
    assert learning.quality_score(100, 0, [0] * 20) == 0
    assert learning.quality_score(100, 0, [60, 60, 60]) > learning.quality_score(100, 0, [0, 0, 0])
    assert learning.quality_score(40, 90, []) > 90  # a staff-set low score recovers too


def test_complaint_counts_are_capped():
    assert learning.per_order_extra(1) == learning.PER_ORDER_S
    assert learning.per_order_extra(100) == learning.EXTRA_CAP_S
    assert learning.handling_flags(0) == []
    assert learning.handling_flags(1) == ["fragile"]
    assert learning.handling_flags(learning.NO_STACKING_ORDERS) == ["fragile", "no_stacking"]
