"""benchmarks/nab_score.py: NAB's scoring rules on small hand-made series (the numbers the
offline evaluation reports rest on them)."""

from __future__ import annotations

import math

import pytest

from benchmarks.nab_score import MAX_TP, Corpus, probation, scaled_sigmoid

N = 1000  # rows: the probationary period is the first 150
WINDOW = (400, 499)


def scores_at(*rows: int) -> list[float]:
    out = [0.0] * N
    for i in rows:
        out[i] = 1.0
    return out


def normalised(scores: list[float], profile: str = "standard", windows=(WINDOW,)) -> float:
    corpus = Corpus.build([(N, list(windows), scores)])
    return corpus.normalised(corpus.raw(profile, 0.5), profile)


def test_the_scaled_sigmoid_has_nabs_values():
    assert scaled_sigmoid(-1.0) == pytest.approx(0.98661, abs=1e-5)
    assert scaled_sigmoid(-0.5) == pytest.approx(0.84828, abs=1e-5)
    assert scaled_sigmoid(0.0) == 0.0
    assert scaled_sigmoid(3.0) == -1.0
    assert probation(1000) == 150 and probation(10_000) == 750


def test_null_scores_0_and_an_alarm_at_the_windows_first_row_scores_100():
    assert normalised(scores_at()) == 0.0
    assert normalised(scores_at(400)) == pytest.approx(100.0)
    # only the earliest detection in a window counts; later ones in it cost nothing
    assert normalised(scores_at(400, 450, 499)) == pytest.approx(100.0)


def test_a_later_detection_is_worth_less_and_a_false_positive_costs_a_fp():
    middle = normalised(scores_at(450))
    tp = scaled_sigmoid(-(499 - 450 + 1) / 100) / MAX_TP
    assert middle == pytest.approx(100 * (tp + 1) / 2)
    # far from any window (before the first one): -A_FP each, i.e. 0.11 / 2 of the range x 100
    assert normalised(scores_at(400, 200)) == pytest.approx(100 - 100 * 0.11 / 2)
    assert normalised(scores_at(400, 200), "reward_low_FP_rate") == pytest.approx(100 - 100 * 0.22 / 2)
    # right after the window a false positive costs less
    assert normalised(scores_at(400, 505)) > normalised(scores_at(400, 200))


def test_detections_in_the_probationary_period_are_ignored():
    assert normalised(scores_at(400, 10)) == pytest.approx(100.0)


def test_the_optimiser_finds_the_best_threshold():
    scores = [0.1] * N
    scores[420] = 0.9  # a true detection
    scores[700] = 0.8  # a false one below it
    corpus = Corpus.build([(N, [WINDOW], scores)])
    threshold, raw = corpus.optimise("standard")
    assert threshold == 0.9
    assert raw == pytest.approx(scaled_sigmoid(-(499 - 420 + 1) / 100) / MAX_TP)
    assert not math.isnan(corpus.normalised(raw, "standard"))
