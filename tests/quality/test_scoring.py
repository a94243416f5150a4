"""Scorecards: weighted groups, «not applicable», and a critical criterion that zeroes."""

import pytest

from otklik.quality.selectors import compute_score


def test_weights_decide_the_score():
    rows = [("a", 1, False, "met"), ("b", 3, False, "failed")]
    assert compute_score(rows).score == 25.0


def test_not_applicable_counts_for_neither_side():
    rows = [("a", 1, False, "met"), ("b", 3, False, "na")]
    scored = compute_score(rows)
    assert scored.score == 100.0 and scored.groups["b"] is None


def test_one_critical_failure_makes_it_zero_but_groups_still_show_where():
    rows = [("a", 5, False, "met"), ("compliance", 1, True, "failed")]
    scored = compute_score(rows)
    assert scored.score == 0.0 and scored.critical_failed
    assert scored.groups == {"a": 100.0, "compliance": 0.0}


@pytest.mark.parametrize("result", ["met", "na"])
def test_a_critical_criterion_met_or_not_applicable_does_not_zero(result):
    assert compute_score([("a", 1, False, "met"), ("c", 1, True, result)]).score == 100.0
