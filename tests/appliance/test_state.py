"""Pure verdict logic: retries (confirmation), recovery and quorum across locations."""

from __future__ import annotations

import pytest

from appliance.state import DOWN, PENDING, UP, LocationState, is_alert, step, verdict


def run(results, retries=1, recovery_checks=1, state=None):
    """The sequence of statuses after each result."""
    state = state or LocationState()
    seen = []
    for up in results:
        state = step(state, up, retries, recovery_checks)
        seen.append(state.status)
    return seen


# ---- retries -------------------------------------------------------------------------------

def test_it_starts_pending():
    assert LocationState().status == PENDING


@pytest.mark.parametrize("retries", [0, 1, 2, 5])
def test_it_goes_down_only_after_retries_plus_one_failures_in_a_row(retries):
    statuses = run([False] * (retries + 1), retries=retries)
    assert statuses[-1] == DOWN
    assert DOWN not in statuses[:-1]


@pytest.mark.parametrize("retries", [1, 3])
def test_it_stays_up_while_failures_are_within_the_retries(retries):
    statuses = run([True] + [False] * retries, retries=retries)
    assert statuses == [UP] * (retries + 1)


def test_it_counts_only_consecutive_failures():
    # retries=2: fail, fail, ok, fail, fail never has three failures in a row.
    assert run([True, False, False, True, False, False], retries=2) == [UP] * 6
    assert run([True, False, False, True, False, False, False], retries=2)[-1] == DOWN


def test_it_stays_pending_while_the_first_failures_are_within_the_retries():
    assert run([False], retries=1) == [PENDING]


def test_it_is_down_at_the_first_failure_with_no_retries():
    assert run([True, False], retries=0) == [UP, DOWN]


def test_it_is_up_after_the_first_success():
    assert run([True]) == [UP]


def test_it_recovers_after_one_success():
    assert run([False, False, True], retries=1) == [PENDING, DOWN, UP]


def test_it_stays_down_until_recovery_checks_successes_in_a_row():
    down = LocationState(status=DOWN, failures=2)
    assert run([True, True, True], recovery_checks=3, state=down) == [DOWN, DOWN, UP]


def test_it_restarts_the_recovery_count_after_a_failure():
    down = LocationState(status=DOWN, failures=2)
    assert run([True, False, True, True], recovery_checks=2, state=down) == [DOWN, DOWN, DOWN, UP]


def test_it_stays_down_while_failing():
    down = LocationState(status=DOWN, failures=5)
    assert run([False, False], retries=1, state=down) == [DOWN, DOWN]


def test_it_keeps_counts_of_the_current_streak():
    state = step(LocationState(), False, retries=3)
    state = step(state, False, retries=3)
    assert (state.failures, state.successes) == (2, 0)
    state = step(state, True, retries=3)
    assert (state.failures, state.successes) == (0, 1)


def test_a_restored_down_state_stays_down_on_one_more_failure():
    # After a restart the location starts from the stored status with no failure count.
    assert run([False], retries=1, state=LocationState(status=DOWN)) == [DOWN]


# ---- quorum --------------------------------------------------------------------------------

def loc(status: str) -> LocationState:
    return LocationState(status=status)


def test_it_is_pending_with_no_verdict_anywhere():
    assert verdict({}) == PENDING
    assert verdict({"a": loc(PENDING), "b": loc(PENDING)}) == PENDING


def test_it_follows_a_single_location():
    assert verdict({"a": loc(UP)}) == UP
    assert verdict({"a": loc(DOWN)}) == DOWN


def test_it_is_down_when_more_than_half_of_the_locations_see_it_down():
    assert verdict({"a": loc(DOWN), "b": loc(DOWN), "c": loc(UP)}) == DOWN
    assert verdict({"a": loc(DOWN), "b": loc(UP), "c": loc(UP)}) == UP


def test_it_is_up_when_exactly_half_see_it_down():
    assert verdict({"a": loc(DOWN), "b": loc(UP)}) == UP
    assert verdict({"a": loc(DOWN), "b": loc(DOWN), "c": loc(UP), "d": loc(UP)}) == UP


def test_it_is_down_when_all_locations_see_it_down():
    assert verdict({"a": loc(DOWN), "b": loc(DOWN), "c": loc(DOWN)}) == DOWN
    # Even with a quorum that can never be exceeded.
    assert verdict({"a": loc(DOWN), "b": loc(DOWN)}, quorum=1.0) == DOWN


def test_it_ignores_pending_locations():
    assert verdict({"a": loc(DOWN), "b": loc(PENDING), "c": loc(PENDING)}) == DOWN
    assert verdict({"a": loc(UP), "b": loc(PENDING)}) == UP
    assert verdict({"a": loc(DOWN), "b": loc(UP), "c": loc(PENDING)}) == UP


def test_it_honours_a_configured_quorum():
    # "More than `quorum`" of the decided locations: 3 of 4 is not more than 0.75, 4 of 5 is.
    three_of_four = {"a": loc(DOWN), "b": loc(DOWN), "c": loc(DOWN), "d": loc(UP)}
    assert verdict(three_of_four, quorum=0.75) == UP
    assert verdict({**three_of_four, "e": loc(DOWN)}, quorum=0.75) == DOWN
    assert verdict({"a": loc(DOWN), "b": loc(UP), "c": loc(UP), "d": loc(UP)}, quorum=0.2) == DOWN


def test_it_alerts_on_going_down_and_on_recovering_from_down():
    assert is_alert(UP, DOWN)
    assert is_alert(PENDING, DOWN)
    assert is_alert(DOWN, UP)
    assert not is_alert(PENDING, UP)
    assert not is_alert(UP, UP)
