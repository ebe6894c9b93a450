"""The Numenta Anomaly Benchmark's score, computed the way NAB's scorer computes it (written from
NAB's description and its sweeper's rules, not copied; standard library only).

Per series (rows in time order, labelled windows [start, end] of row indexes, inclusive):
- probationary period: the first min(floor(0.15 * rows), 0.15 * 5000 = 750) rows are not
  scored at all (no TP, no FP; a window entirely inside it is not counted either);
- a row inside a window of width w (rows), at index i with the window's right edge at R, has the
  relative position p = -(R - i + 1) / w (-1 at the window's first row, close to 0 at its last);
  a row after a window has p = |R_prev - i| / (w_prev - 1) (0 at the window's right edge); a row
  before every window has p = 3 (a full false positive);
- scaled sigmoid: sig(p) = -1 when p >= 3, else 2 / (1 + e^(5p)) - 1 (0.9866 at p = -1);
- a detection in a window is worth A_TP * sig(p) / sig(-1) (1 for the earliest possible one);
  only the best, i.e. the earliest, detection of a window counts; other detections inside it
  are worth nothing;
- a window with no detection costs A_FN; a detection outside every window adds A_FP * sig(p)
  (negative: -A_FP far from a window, less right after one);
- profiles (NAB's config/profiles.json): standard A_TP 1, A_FP 0.11, A_FN 1; reward_low_FP_rate
  A_TP 1, A_FP 0.22, A_FN 1; reward_low_FN_rate A_TP 1, A_FP 0.11, A_FN 2;
- a detection is a row whose anomaly score is >= the threshold. One threshold per detector and
  profile for the whole corpus, the one that maximises the corpus' raw score (NAB's optimiser,
  an exact sweep over every distinct score here instead of NAB's hill climbing);
- normalised score = 100 * (raw - null) / (perfect - null) over the whole corpus, with the null
  detector's raw score = -A_FN * windows (no detection at all) and the perfect detector's
  = A_TP * windows (every window detected at its first row).

Binary detectors (events as alarms) are scored at the fixed threshold 0.5 (rows with an event
score 1, others 0); NAB's optimiser would pick the same threshold for them.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Iterable, Sequence

PROFILES = {
    "standard": (1.0, 0.11, 1.0),  # A_TP, A_FP, A_FN
    "reward_low_FP_rate": (1.0, 0.22, 1.0),
    "reward_low_FN_rate": (1.0, 0.11, 2.0),
}
PROBATION_PERCENT = 0.15


def scaled_sigmoid(position: float) -> float:
    if position >= 3.0:
        return -1.0
    return 2.0 / (1.0 + math.exp(5.0 * position)) - 1.0


MAX_TP = scaled_sigmoid(-1.0)


def probation(rows: int) -> int:
    """Rows at the start of a series that NAB does not score."""
    return int(min(math.floor(PROBATION_PERCENT * rows), PROBATION_PERCENT * 5000))


@dataclass(frozen=True)
class Row:
    """One scorable row: its anomaly score, its window (a corpus-wide id, None outside every
    window) and its unweighted sigmoid value."""

    score: float
    window: int | None
    sigmoid: float


def scorable_rows(n: int, windows: Sequence[tuple[int, int]], scores: Sequence[float],
                  first_window_id: int) -> tuple[list[Row], list[int]]:
    """The rows of one series that count, and the ids of the windows that count (those with at
    least one row after the probationary period)."""
    start = probation(n)
    rows: list[Row] = []
    counted: set[int] = set()
    order = sorted(windows)
    w = 0  # next window
    current: tuple[int, int, int] | None = None  # (id, right edge, width)
    prev: tuple[int, int] | None = None  # (right edge, width) of the last window passed
    for i in range(n):
        if current is None and w < len(order) and i == order[w][0]:
            left, right = order[w]
            current = (first_window_id + w, right, right - left + 1)
            w += 1
        if current is not None:
            wid, right, width = current
            position = -(right - i + 1) / width
            window = wid
        else:
            window = None
            if prev is None:
                position = 3.0
            else:
                right_prev, width_prev = prev
                position = abs(right_prev - i) / max(1.0, width_prev - 1.0)
        if i >= start:
            rows.append(Row(float(scores[i]), window, scaled_sigmoid(position)))
            if window is not None:
                counted.add(window)
        if current is not None and i == current[1]:
            prev = (current[1], current[2])
            current = None
    return rows, sorted(counted)


@dataclass
class Corpus:
    """Every scorable row of a set of series, for one detector."""

    rows: list[Row]
    windows: list[int]

    @classmethod
    def build(cls, series: Iterable[tuple[int, Sequence[tuple[int, int]], Sequence[float]]]) -> "Corpus":
        """`series`: (rows, windows as inclusive row-index pairs, one score per row) each."""
        rows: list[Row] = []
        windows: list[int] = []
        next_id = 0
        for n, wins, scores in series:
            r, counted = scorable_rows(n, wins, scores, next_id)
            rows += r
            windows += counted
            next_id += len(wins)
        return cls(rows, windows)

    def raw(self, profile: str, threshold: float) -> float:
        a_tp, a_fp, a_fn = PROFILES[profile]
        best: dict[int, float] = {}
        fp = 0.0
        for row in self.rows:
            if row.score < threshold:
                continue
            if row.window is None:
                fp += a_fp * row.sigmoid
            else:
                value = a_tp * row.sigmoid / MAX_TP
                if value > best.get(row.window, -math.inf):
                    best[row.window] = value
        missed = len(self.windows) - len(best)
        return fp + sum(best.values()) - a_fn * missed

    def optimise(self, profile: str) -> tuple[float, float]:
        """(the threshold maximising the raw score, that score): an exact sweep from the highest
        score down, each distinct score a candidate (above the highest: no detection at all)."""
        a_tp, a_fp, a_fn = PROFILES[profile]
        best: dict[int, float] = {}
        fp = 0.0
        tp = 0.0
        missed = len(self.windows)
        top = max((r.score for r in self.rows), default=0.0)
        choice = (math.nextafter(top, math.inf), -a_fn * missed)
        ordered = sorted(self.rows, key=lambda r: r.score, reverse=True)
        for k, row in enumerate(ordered):
            if row.window is None:
                fp += a_fp * row.sigmoid
            else:
                value = a_tp * row.sigmoid / MAX_TP
                old = best.get(row.window)
                if old is None:
                    missed -= 1
                    best[row.window] = value
                    tp += value
                elif value > old:
                    best[row.window] = value
                    tp += value - old
            if k + 1 < len(ordered) and ordered[k + 1].score == row.score:
                continue  # a threshold takes every row with this score at once
            total = fp + tp - a_fn * missed
            if total > choice[1]:
                choice = (row.score, total)
        return choice

    def normalised(self, raw: float, profile: str) -> float:
        a_tp, _, a_fn = PROFILES[profile]
        null = -a_fn * len(self.windows)
        perfect = a_tp * len(self.windows)
        return 100.0 * (raw - null) / (perfect - null) if perfect != null else 0.0
