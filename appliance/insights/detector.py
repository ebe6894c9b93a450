"""Streaming anomaly detection on check results: response-time spikes, lasting response-time
shifts, and flapping status. Pure: no I/O, no threads, no clock reads (every timestamp is passed
in), and O(1) memory per stream: one `StreamState` per monitor and location, a fixed ~1,300
numbers whatever the number of checks seen.

Usage (the engine calls `observe` once per check result):

    detector = AnomalyDetector(sensitivity="medium")        # "low" | "medium" | "high" | float > 0
    for anomaly in detector.observe((monitor_id, location), at, up, response_time_ms):
        ...                                                   # store / notify
    detector.score((monitor_id, location))                    # that check's anomaly score, 0..1
    detector.forget((monitor_id, location))                   # monitor deleted
    saved = detector.state(key).to_dict()                     # JSON-friendly; restore(key, saved)

Design, and why
---------------
*Log scale.* Response times are positive, skewed, and their noise is multiplicative (a 200 ms
service jitters by tens of ms, a 2 s one by hundreds), so everything is modelled on
y = log(response time): a ratio ("9x the usual") is a difference, one threshold serves fast and
slow services alike, and the long right tail becomes much closer to symmetric.

*Robust baseline.* The expected value is `level + offsets[hour]`, and residual r = y - expected.
- `level` is an exponentially weighted mean of y (weight 0.02: a memory of ~50 checks) whose
  updates are winsorised at 3 sigmas (a Huber-type M-estimate), so a spike moves it by at most
  0.06 sigma; it stands still while a shift is suspected (a CUSUM above half its threshold), so a
  shift is not half-absorbed before it is confirmed. It follows slow drift without reporting it.
- sigma is an exponentially weighted mean absolute deviation of r (each clipped at 4 sigmas)
  times 1.2533, floored at 3 % so a flat series does not make every millisecond an anomaly.
- `tail` is a streaming estimate (stochastic approximation, O(1)) of the 99.5th percentile of r:
  the service's usual slow checks. Scale estimates such as the MAD deliberately ignore the tail,
  so a service whose checks are sometimes 3x slower would otherwise "spike" every day; a spike
  has to clear the usual tail as well (heavy tails).
- level, sigma and tail start from the median, the MAD and the second largest deviation of the
  first `warmup` samples (a buffer of at most `warmup` floats, dropped once warm). No anomaly of
  any kind is reported during warm-up.
- `offsets` is the daily cycle, 24 hour-of-day (UTC) values: each finished day's hourly means,
  minus that day's mean, make a profile; the last three profiles are kept and an hour's offset is
  their median, a day not seen yet counting as 0. So a pattern is believed once two days agree,
  one odd day (an incident, a level shift in the middle of a day) is always outvoted, and the
  current hour never teaches itself (a slowdown is not mistaken for seasonality). Samples more
  than 4 sigmas off, and the hours of an incident that came and went within 4 hours, are left out
  of the day's means. At intervals under 10 minutes an hour needs 3 checks for its mean to
  count; sparser, one check makes an hour (half-hourly and hourly checks get a daily profile).
  Checks 6 hours apart or more (the usual interval, an EW mean) use the weekly cycle instead:
  7 day-of-week bins, the same rules, weeks instead of days.
- under 6 hours apart, the week is learnt as well: 168 hour-of-the-week bins, the same rules
  (each week's hourly means minus its mean, the median of the last three weeks), used once
  three weeks are known (an hour of the week is seen once a week, not once a day: with two, a
  single odd week and a noisy one could agree), and for an hour where that weekly offset
  differs from the daily one by more than chance (two standard errors of the difference of
  the two medians), the weekly one is used: the last three days cannot tell a Monday morning
  of office hours from a Sunday one, and a service twice as slow in office hours got ~4 false
  shift reports a week without it (test `test_office_hours_on_weekdays_...`); a plain daily
  cycle keeps its daily profile.
- the warm-up is `warmup` checks, or 20 checks once they span 12 hours (sparse checks).

*Cold start.* During warm-up there is one verdict: a jump far above everything seen so far
(10x and 200 ms above the slowest warm-up check, for 3 checks in a row; at least 5 checks seen)
is reported as a shift, and the warm-up starts again from the new level. A fresh monitor at
10 s whose 1 ms checks become 1.5 s is reported 30 s later.

*Spikes* (`response_time_spike`): a sample whose z = r / sigma is at least `spike_z`, whose
ratio to the expected value is at least `spike_ratio`, which is `min_delta_ms` slower, and which
exceeds the spike bar by `tail_margin` (a third of it at sparse checks, where the bar is a
99.5th percentile of few checks, generous already): unusual, noticeable, and beyond ordinary
jitter. The bar is the usual tail, or the size of the recent spikes (it halves every 300 checks:
bursts of spikes are one episode), or the second biggest spike seen at that hour of the day
(give or take one; day of the week when weekly) within the last 7 days (a spike that came twice
at that hour is a job the service runs). Both memories learn from every spike-sized check (z,
ratio and ms) while spikes are not muted, reported or held under the bar: a burst that recurs
every few hours is not news again while it keeps recurring, where remembering only reported
spikes told it again each time that memory had decayed. The recent spikes' size is a residual:
it follows the level when a shift moves it. A spike is held until the stream is back to normal
(then reported with its peak, usually one check later), or until a shift is confirmed (then the
shift is the only report of that incident); at checks 10 minutes apart or more it is reported
at once (the next check may be a day away), and a shift right after it is the same episode.

*Dips* (also `response_time_spike`, value below the baseline, always "low"): a check far faster
than usual, the way an error page or an empty answer is served: the mirror of a spike with
twice its z (being faster is less often bad: 12 sigmas at medium, 8 at sparse checks), at least
`spike_ratio` times faster and `min_delta_ms` less, beyond the usual fast tail (the 0.5th
percentile of residuals, learnt like the slow one) and recent dips (a memory like the recent
spikes') by the spike margin; held, muted and ended like spikes, and a speed-up confirmed right
after one is the same episode. A check back at about the level a slowdown of the last 24 hours
started from is that slowdown ending, never a dip. On NAB, dips are what a failing system looks
like in the one latency series (`ec2_request_latency_system_failure`) and in traffic speed.

*Shifts* (`response_time_shift`): a two-sided CUSUM (Page) on z clipped at ±3 with an allowance
of 0.5 sigma, alarming above `shift_h` (10 at medium: at least 5 checks, ~8 for a 2-sigma move).
Clipping keeps a short burst of spikes from looking like a shift. The CUSUM assumes independent
checks; where load comes and goes over hours, neighbouring checks are alike and a slow wave
reads as a shift, so at dense checks (under 10 minutes) z is divided by sqrt((1 + rho) / (1 -
rho)), the variance inflation of a mean of AR(1) checks, with rho the lag-1 autocorrelation of
z (weight 0.005, not learnt while the CUSUM is above half its threshold, less 0.1, two standard
errors of that estimate, so independent checks keep the plain CUSUM; at most 0.5). Sparse
checks keep theirs: their bars were chosen on hourly series already. On alarm, the new level
is the median residual of the run since the CUSUM left zero (at most the last 16 samples), so
outliers cannot fake one; it is reported ("has stayed around 640 ms for 15 checks, up from the
usual 210 ms") when it differs by `shift_ratio` and `min_delta_ms`, and is not a return to the level
of the last reported shift within 24 hours (the same trouble recurring: said once), and is more
than `wander` (3 at medium) times the usual day-to-day move of the stream's daily mean (the
median move over the last 7 days, means of log response time minus the hour's offset; known
from the 5th day): where the level usually moves 20 % from one day to the next (traffic, a
shared host) a shift must be more than 1.7x (1.2^3) to be news, while a steady service's shifts
are judged by the size bars alone. Reported or not, the baseline moves
to the new level, so a lasting change is reported once and becomes the new normal. A move back
towards the level that preceded a reported shift (within 24 hours) is the incident ending: the
baseline follows silently. Shifts down are reported too (low severity: faster is rarely bad,
but a page suddenly 10x faster may be an error page).

*Flapping* (`flapping`): the check indexes and times of the last `flap_changes` status changes
are kept in a ring of that size; flapping is that many changes within the last `flap_window`
checks. An outage is two changes and never flaps. Its baseline is the usual number of changes
in such a window (an exponentially decayed rate).

*One anomaly per episode.* After a spike, spikes are muted until `quiet` consecutive samples are
unremarkable; after a shift, shifts are muted until `quiet` consecutive samples sit within 2 sigmas
of the new level, and spikes until `quiet` samples are unremarkable against it (a spike on top of
a slowdown just reported is the same episode); after flapping, flapping is muted until the status
is stable for `flap_window` checks.

*Severity* is the lower of a ratio grade and an absolute grade: spikes high from 5x and 1 s
slower, medium from 2.5x and 250 ms; shifts up high from 3x and 300 ms, medium from 1.75x and
50 ms. A few ms becoming 200 ms is "low", however large the ratio.

*Anomaly score* (`score(key)`), per check with a response time: x is the largest of how far the
check is past the spike bar (in sigmas, over 6), as far below the usual (Gaussian tail, over 6)
and the larger CUSUM (over 10), all medium's references whatever the sensitivity; the score is
0.99 x / (1 + x), so ~0.5 where medium reports, never saturating below 0.99, and halved while
a reported episode is still muted (less news); a check that completed a report scores 1.0.
None for failed checks (1.0 if one completes a flapping report). It is for charts and tuning
thresholds; events stay the alerting path.

*Failures* (up=False) count only for flapping; they never touch the response-time baseline,
whatever response time they carry.

*Sensitivity* scales every threshold monotonically: with s = 0.7 / 1.0 / 1.4 for low / medium /
high (or any float > 0), spike_z = 6/s, spike_ratio = 1 + 1/s, shift_h = 10/s,
shift_ratio = 1 + 0.25/s, min_delta_ms = 20/s, tail_margin = log(1 + 0.5/s), wander = 3/s,
flap_changes = max(3, round(6/s)).

*Sparse checks* (30 minutes apart or more, the usual interval; phased in from 10 minutes, on a
log scale, since a stream checked every 10 minutes still makes 144 checks a day): each check
stands for more time, so less evidence per check confirms an anomaly in about the same time:
spike_z and shift_h are divided by 1.5 (at medium a spike needs z >= 4, a shift a CUSUM of
6.7: three hourly checks 3 sigmas off instead of four), and a spike's margin over the usual tail
is a third of the dense one. How big an anomaly must be (spike_ratio, shift_ratio,
min_delta_ms) does not depend on the interval. Both chosen by cross-validation on halves of the
real NAB series averaged to 30 and 60 minutes (`anomaly_eval.py --cv`); with the phase-in, pure
noise checked every 10 to 60 minutes gets about as few false reports a day as at 1 to 5.

Calls for one stream must not run concurrently (the engine runs one check per monitor and
location at a time); different streams are independent. Cost: a few microseconds per check.
`benchmarks/anomaly_eval.py` measures all this against a rolling 3-sigma threshold, and with
NAB's scorer (the shipped NAB sample; the spike-memory half-life and the sensitivity chosen by
cross-validation between the artificial + synthetic series and the real ones; the sparse spike
margin and evidence divisor between halves of the real series averaged to 30 and 60 minutes;
`--noise` counts false events on series with nothing to find, at each check interval).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Hashable

SPIKE = "response_time_spike"
SHIFT = "response_time_shift"
FLAPPING = "flapping"
KINDS = (SPIKE, SHIFT, FLAPPING)

SENSITIVITY_LEVELS = {"low": 0.7, "medium": 1.0, "high": 1.4}

_MIN_MS = 0.1  # response times below this are treated as this (log of 0)
_A_LEVEL = 0.02  # per-sample weight of the level (memory ~50 samples)
_FREEZE = 0.5  # the level stands still while a CUSUM is above this fraction of its threshold
_HUBER = 3.0  # residuals are clipped at this many sigmas before moving the level (Huber)
_A_SCALE = 0.01  # per-sample weight of the scale (memory ~100 samples)
_SCALE_FLOOR = 0.03  # minimum sigma of log response time (3 %)
_MAD_TO_SIGMA = 1.2533  # mean absolute deviation -> sigma for Gaussian noise
_TAIL_P = 0.995  # the quantile of residuals tracked as "the usual slow tail"
_TAIL_STEP = 0.5  # its stochastic-approximation step, in sigmas
_TAIL_INIT = 2.576  # ... and its start: the Gaussian 99.5th percentile, in sigmas
_ESCALATION = math.log(1.5)  # an ongoing slowdown is reported again once 1.5x worse
_BURST_HALF = 300  # a reported spike is the bar for the next ones, halving every this many checks
_BURST_DECAY = 0.5 ** (1.0 / _BURST_HALF)
_SPIKE_HOURS_CYCLES = 7  # an hour's spikes are forgotten after this many days (weeks) without one
_TAIL_YOUNG = 300  # samples after warm-up during which the tail estimate moves faster
_Z_CLIP = 3.0  # z-scores are clipped here before entering the CUSUM
_CUSUM_K = 0.5  # CUSUM allowance (in sigmas): tuned to shifts of 1 sigma and more (Page)
_MIN_RUN = 3  # fewest samples a shift can be made of
_RECENT = 16  # residuals kept to measure the new level robustly (median) when a shift alarms
_QUIET_Z = 2.0  # |z| below which a sample counts as back to normal for shift hysteresis
_HOUR = 3600.0
_DAY = 86400.0
_PROFILE_DAYS = 3  # daily profiles kept; the usual offset of an hour is their median
# a day (week) makes a profile when at least half its hours (days) have a mean
_HOUR_MIN_SAMPLES = 3  # checks an hour needs for its mean to count, at intervals under _DENSE_GAP
_DENSE_GAP = 600.0  # sparser (one check every 10 min or less often): one check makes an hour's mean
_SPARSE_GAP = 1800.0  # the sparse bars below apply in full from this usual interval on, phased in
_SPARSE_SPAN = math.log(_SPARSE_GAP / _DENSE_GAP)  # ... from _DENSE_GAP (log scale)
_SPARSE_MARGIN = 1 / 3  # a spike's margin over the usual tail at sparse checks: a third
_SPARSE_EVIDENCE = 1.5  # ... and spike z and shift CUSUM thresholds are the dense ones / this
_WEEKLY_GAP = 6 * 3600.0  # checks this far apart or more: the profile is the weekly cycle (7 days)
_DAILY_GAP = 4 * 3600.0  # ... and back to the daily one under this (hysteresis)
_GAP_ALPHA = 0.05  # weight of the usual interval between checks
_WARM_MIN = 20  # sparse checks: warm-up ends after this many checks once they span _WARM_SPAN
_WARM_SPAN = 12 * 3600.0
_JUMP_RATIO = math.log(10.0)  # cold start: a jump this far above everything seen (10x) ...
_JUMP_MS = 200.0  # ... and this many ms above it ...
_JUMP_RUN = 3  # ... for this many checks in a row is reported during warm-up
_JUMP_MIN_SEEN = 5  # checks seen before the run that make "everything seen"
_SCORE_Z = 6.0  # the anomaly score is 0.5 at this many sigmas beyond the usual tail (medium) ...
_SCORE_H = 10.0  # ... or at this CUSUM (medium's shift threshold); independent of the sensitivity
_EPISODE_DAMPING = 0.5  # the score is scaled by this while a reported episode is still muted
_SEASON_Z = 4.0  # samples this many sigmas off do not teach the daily profile
_INCIDENT_HOURS = 4  # a reported shift that recovers within this is an incident, not a pattern
_RECOVERY_MEMORY = 86400.0  # a return towards the pre-shift level within this is a recovery
_WANDER_DAYS = 7  # the day-to-day moves of the daily mean a shift is compared with
_FLAP_RATE_ALPHA = 0.002  # weight of the usual status-change rate
_HOURS_OF_WEEK = 168  # checks under 6 h apart: an hour-of-the-week profile as well
_WEEKS_KNOWN = 3  # ... once this many weeks are known (one odd week in three is outvoted)
_WEEK_NOISE = 2.0  # ... used for an hour where it differs from the daily one by this many s.e.
_AR_ALPHA = 0.005  # weight of the lag-1 autocorrelation of z (memory ~200 checks)
_AR_NOISE = 0.1  # ... less this (2 standard errors of that estimate for independent checks)
_AR_MAX = 0.5  # ... capped here (z divided by at most 1.73)
_DIP_Z = 2.0  # a check far faster than usual needs this many times a spike's z (less often bad)


@dataclass(frozen=True)
class Anomaly:
    """One detected anomaly. `value` and `baseline` are in ms for response-time kinds; for
    flapping they are the number of status changes in the window and the usual number."""

    kind: str  # "response_time_spike" | "response_time_shift" | "flapping"
    at: datetime  # the check that triggered it (for a spike: its slowest check, in UTC)
    value: float
    baseline: float
    severity: str  # "low" | "medium" | "high"
    message: str


@dataclass(frozen=True)
class Thresholds:
    spike_z: float  # robust z-score a spike must reach
    spike_ratio: float  # ... and its ratio to the expected response time
    shift_h: float  # CUSUM threshold (in clipped sigmas) of a shift
    shift_ratio: float  # ratio between new and usual level a reported shift must reach
    min_delta_ms: float  # a spike or shift must also be this many ms away from the usual
    tail_margin: float  # a spike must also exceed the usual slow tail by this (log ratio)
    wander: float  # a shift must exceed this many usual day-to-day moves of the daily mean
    flap_changes: int  # status changes within the flapping window that make flapping


def thresholds_for(sensitivity: str | float) -> Thresholds:
    """Thresholds for "low" | "medium" | "high" or a float multiplier (> 0, 1.0 = medium);
    every threshold gets lower as sensitivity goes up."""
    if isinstance(sensitivity, str):
        try:
            s = SENSITIVITY_LEVELS[sensitivity.strip().lower()]
        except KeyError:
            raise ValueError(f"sensitivity must be one of {', '.join(SENSITIVITY_LEVELS)} "
                             f"or a number > 0, not {sensitivity!r}") from None
    elif isinstance(sensitivity, (int, float)) and not isinstance(sensitivity, bool):
        s = float(sensitivity)
        if not (math.isfinite(s) and s > 0):
            raise ValueError(f"sensitivity must be a number > 0, not {sensitivity!r}")
    else:
        raise ValueError(f"sensitivity must be a level name or a number, not {sensitivity!r}")
    return Thresholds(spike_z=6.0 / s, spike_ratio=1.0 + 1.0 / s, shift_h=10.0 / s,
                      shift_ratio=1.0 + 0.25 / s, min_delta_ms=20.0 / s,
                      tail_margin=math.log(1.0 + 0.5 / s), wander=3.0 / s,
                      flap_changes=max(3, round(6.0 / s)))


class StreamState:
    """Everything the detector remembers about one stream (a monitor at a location): scalars,
    today's 2 x 24 hourly sums, at most 3 daily profiles of 24 values and 24 offsets, this
    week's 2 x 168 hourly sums, at most 3 weekly profiles of 168 values and 168 offsets (~1,300
    numbers, ~13 KB of JSON, in all), the means of the last 8 days, at most 16 recent residuals,
    a ring of at most `flap_changes` status changes and, during warm-up only, at most `warmup`
    samples. Its size never grows with the number of checks."""

    __slots__ = (
        "checks", "samples", "last_up", "warm", "level", "mad", "tail", "day", "hour_sum", "hour_n",
        "episode_hours", "profiles", "offsets",
        "cusum_up", "cusum_down", "run_up", "run_down", "spike_armed", "spike_quiet",
        "spike_pending",
        "shift_armed", "shift_quiet", "prior_level", "prior_t", "flaps", "flap_active",
        "last_change", "flap_rate", "recent",
        "score", "last_t", "gap", "weekly", "jump_run", "burst", "spike_hours", "visited",
        "spike_told", "day_sum", "day_means", "fast_tail", "dips", "told_down", "ar",
        "week", "week_sum", "week_n", "week_profiles", "week_offsets", "week_noise",
    )

    def __init__(self) -> None:
        self.checks = 0  # results seen (any status)
        self.samples = 0  # response times of successful checks seen
        self.last_up: bool | None = None
        self.warm: list[float] | None = []  # log response times until warm, then None
        self.level = 0.0  # deseasonalised expected log response time
        self.mad = 0.0  # EW mean absolute deviation of residuals
        self.tail = 0.0  # streaming estimate of the 99.5th percentile of residuals (usual jitter)
        self.day = -1  # the UTC day (days since the epoch) being accumulated
        self.hour_sum = [0.0] * 24  # that day's sum of log response times per hour (UTC)
        self.hour_n = [0] * 24
        self.episode_hours = 0  # bit mask of today's hours touched by the ongoing shift episode
        self.profiles: list[list[float | None]] = []  # last days' hourly deviations from their mean
        self.offsets = [0.0] * 24  # the usual deviation of each hour: median over the profiles
        self.cusum_up = 0.0
        self.cusum_down = 0.0
        self.run_up = [0, 0.0, 0.0]  # samples, sum of y, sum of expected since the CUSUM left 0
        self.run_down = [0, 0.0, 0.0]
        self.spike_armed = True
        self.spike_quiet = 0
        self.spike_pending: list[float] | None = None  # [epoch, ms, usual ms, samples] of the peak
        self.shift_armed = True
        self.shift_quiet = 0
        self.prior_level: float | None = None  # level before the last reported shift
        self.prior_t = 0.0
        self.flaps: list[list[float]] = []  # [check index, epoch seconds] of recent changes
        self.flap_active = False
        self.last_change = 0
        self.flap_rate = 0.0  # usual status changes per check
        self.recent: list[float] = []  # the last _RECENT residuals (log response time - expected)
        self.score: float | None = None  # anomaly score of the last check (None: no response time)
        self.last_t: float | None = None  # epoch seconds of the last check
        self.gap = 0.0  # usual seconds between checks (EW mean)
        self.weekly = False  # the profile is the weekly cycle (sparse checks), not the daily one
        self.jump_run = 0  # warm-up checks in a row far above everything seen before them
        self.burst = 0.0  # residual of recent spikes, decaying: spikes up to it are not news
        # ... and the two biggest recent spikes at each hour of the day (day of the week)
        self.spike_hours = [[0.0, 0.0, 0] for _ in range(24)]
        # [level, epoch, level before the episode] of the last slowdown reported (or told as a spike)
        self.visited: list[float] | None = None
        self.spike_told = -(10 ** 9)  # sample count when the last spike was reported
        self.day_sum = [0.0, 0]  # today's sum and count of log response time minus hour offset
        self.day_means: list[float] = []  # the last days' means of that (how far a level wanders)
        self.fast_tail = 0.0  # ... and of minus the residual: the usual fast checks
        self.dips = 0.0  # minus the residual of recent dips, decaying like `burst`
        self.told_down = False  # the last spike reported was a dip (a check far faster)
        self.week = -1  # the week (since the epoch, UTC) being accumulated, for checks < 6 h apart
        self.week_sum = [0.0] * _HOURS_OF_WEEK  # that week's sum of log response times per hour
        self.week_n = [0] * _HOURS_OF_WEEK
        self.week_profiles: list[list[float | None]] = []  # the last weeks' hourly deviations
        self.week_offsets: list[float] | None = None  # the usual deviation of each hour of the week
        self.week_noise = 0.0  # how far the two profiles differ by chance (2 standard errors)
        self.ar = [0.0, 1.0, 0.0]  # the last clipped z, EW means of z^2 and of z x the last z

    @property
    def warm_up(self) -> bool:
        return self.warm is not None

    def to_dict(self) -> dict:
        """A JSON-serialisable copy of the state."""
        out = {}
        for name in self.__slots__:
            value = getattr(self, name)
            if isinstance(value, list):
                value = [list(v) if isinstance(v, list) else v for v in value]
            out[name] = value
        return out

    @classmethod
    def from_dict(cls, data: dict) -> "StreamState":
        state = cls()
        unknown = set(data) - set(cls.__slots__)
        if unknown:
            raise ValueError(f"unknown detector state fields: {', '.join(sorted(unknown))}")
        for name in cls.__slots__:
            if name in data:
                value = data[name]
                if isinstance(value, list):
                    value = [list(v) if isinstance(v, list) else v for v in value]
                setattr(state, name, value)
        if "fast_tail" not in data and state.warm is None:
            state.fast_tail = state.tail  # saved before dips existed: the slow tail's mirror
        return state

    def __repr__(self) -> str:
        return (f"StreamState(checks={self.checks}, samples={self.samples}, "
                f"usual_ms={math.exp(self.level):.1f}, warm_up={self.warm_up})")


class AnomalyDetector:
    """Keeps one StreamState per key (any hashable, e.g. (monitor_id, location)) and turns check
    results into Anomaly events. `warmup`: successful checks before any verdict; `quiet`: normal
    samples that end an episode; `flap_window`: the checks flapping is counted over."""

    def __init__(self, sensitivity: str | float = "medium", *, warmup: int = 60, quiet: int = 10,
                 flap_window: int = 20) -> None:
        if warmup < 5 or quiet < 1 or flap_window < 4:
            raise ValueError("warmup must be >= 5, quiet >= 1 and flap_window >= 4")
        self.warmup = warmup
        self.quiet = quiet
        self.flap_window = flap_window
        self.sensitivity = sensitivity
        self._states: dict[Hashable, StreamState] = {}

    @property
    def sensitivity(self) -> str | float:
        return self._sensitivity

    @sensitivity.setter
    def sensitivity(self, value: str | float) -> None:
        self.thresholds = thresholds_for(value)
        self._sensitivity = value
        self._dense_bars = _bars(self.thresholds, 0.0)

    def _bars(self, s: StreamState) -> tuple[float, float, float, int]:
        """The spike and shift bars at the stream's usual interval: the dense ones under 10
        minutes, the sparse ones from 30 minutes, log-linear between (a stream checked every
        10 minutes still makes 144 checks a day: no fewer false alarms a day than at 5)."""
        if s.gap < _DENSE_GAP:
            return self._dense_bars
        sparse = min(1.0, math.log(s.gap / _DENSE_GAP) / _SPARSE_SPAN)
        return _bars(self.thresholds, sparse)

    # ---- per-key bookkeeping ------------------------------------------------------------------

    def observe(self, key: Hashable, at: datetime, up: bool,
                response_time_ms: float | None) -> list[Anomaly]:
        """Feed one check result of stream `key`; the anomalies it completes (usually none)."""
        state = self._states.get(key)
        if state is None:
            state = self._states[key] = StreamState()
        return self.update(state, at, up, response_time_ms)

    def state(self, key: Hashable) -> StreamState | None:
        return self._states.get(key)

    def score(self, key: Hashable) -> float | None:
        """The anomaly score (0..1) of the last check of `key`; None when it had no response
        time (a failed check) or the stream is unknown. 0.5 is about where a spike or a shift
        would be reported at medium sensitivity; the score does not depend on the sensitivity."""
        state = self._states.get(key)
        return None if state is None else state.score

    def restore(self, key: Hashable, data: dict | StreamState) -> StreamState:
        state = data if isinstance(data, StreamState) else StreamState.from_dict(data)
        self._states[key] = state
        return state

    def forget(self, key: Hashable) -> None:
        self._states.pop(key, None)

    def keys(self) -> list[Hashable]:
        return list(self._states)

    def __len__(self) -> int:
        return len(self._states)

    # ---- the detector proper -----------------------------------------------------------------

    def update(self, state: StreamState, at: datetime, up: bool,
               response_time_ms: float | None) -> list[Anomaly]:
        """Advance `state` by one check result (the stateless core of `observe`)."""
        t = _epoch(at)
        state.checks += 1
        state.score = None
        if state.last_t is not None and t > state.last_t:
            gap = t - state.last_t
            state.gap = gap if state.gap <= 0 else state.gap + _GAP_ALPHA * (gap - state.gap)
        if state.last_t is None or t > state.last_t:
            state.last_t = t
        events: list[Anomaly] = []
        flapping = self._flapping(state, at, t, bool(up))
        if flapping is not None:
            events.append(flapping)
        if up and response_time_ms is not None:
            rt = float(response_time_ms)
            if math.isfinite(rt) and rt >= 0:
                events.extend(self._response_time(state, at, t, rt))
        if events:
            state.score = 1.0  # a check that completed a report (flapping too) scores the top
        return events

    def _flapping(self, s: StreamState, at: datetime, t: float, up: bool) -> Anomaly | None:
        k = self.thresholds.flap_changes
        changed = s.last_up is not None and up != s.last_up
        s.last_up = up
        s.flap_rate += _FLAP_RATE_ALPHA * ((1.0 if changed else 0.0) - s.flap_rate)
        if s.flap_active and s.checks - s.last_change >= self.flap_window:
            s.flap_active = False  # stable for a whole window: the episode is over
        if not changed:
            return None
        s.last_change = s.checks
        s.flaps.append([s.checks, t])
        del s.flaps[:-k]
        if s.flap_active or s.checks < max(self.flap_window, self.warmup) or len(s.flaps) < k:
            return None
        first_check, first_t = s.flaps[0]
        span = s.checks - first_check + 1
        if span > self.flap_window:
            return None
        s.flap_active = True
        usual = s.flap_rate * self.flap_window
        severity = "high" if k / span >= 0.5 else "medium"
        return Anomaly(FLAPPING, at, float(k), round(usual, 2), severity,
                       f"Status changed {k} times in the last {_duration(t - first_t, span)}")

    def _response_time(self, s: StreamState, at: datetime, t: float, rt: float) -> list[Anomaly]:
        th = self.thresholds
        # spike z, shift CUSUM threshold, spike margin and hold at this stream's interval
        spike_z, shift_h, margin, hold = (self._dense_bars if s.gap < _DENSE_GAP
                                          else self._bars(s))
        y = math.log(max(rt, _MIN_MS))
        s.samples += 1
        if s.warm is not None:
            return self._warming_up(s, at, t, rt, y)

        if s.weekly != (s.gap >= (_DAILY_GAP if s.weekly else _WEEKLY_GAP)):
            _reset_profile(s, not s.weekly)  # checks became sparse (or dense): other seasonality
        bin_len, bins = _profile_bins(s)
        hour = int(t // bin_len) % bins
        day = int(t // (bin_len * bins))
        if day != s.day:
            self._end_day(s, day)
        hour_of_week = 0
        if not s.weekly:
            hour_of_week = int(t // _HOUR) % _HOURS_OF_WEEK
            week = int(t // (_HOUR * _HOURS_OF_WEEK))
            if week != s.week:
                _end_week(s, week)
        offset = _offset(s, hour, hour_of_week)
        expected = s.level + offset
        sigma = max(_MAD_TO_SIGMA * s.mad, _SCALE_FLOOR)
        r = y - expected
        z = r / sigma
        s.recent.append(r)
        del s.recent[:-_RECENT]
        usual_ms = math.exp(expected)
        events: list[Anomaly] = []

        # spikes (and dips, far faster): held until the stream is back to normal (then
        # reported) or a shift is confirmed (then the shift is the one report); muted until
        # `quiet` normal samples
        ratio = rt / usual_ms
        half_ratio = 1 + (th.spike_ratio - 1) / 2
        dip_z = _DIP_Z * spike_z
        normal_up = z < spike_z / 2 or ratio < half_ratio
        normal_down = z > -dip_z / 2 or ratio * half_ratio > 1
        pending = s.spike_pending
        if pending is not None:
            down = pending[1] < pending[2]
            if normal_down if down else normal_up:
                events.append(self._tell_spike(s, pending))
            else:
                pending[3] += 1
                if (ratio < pending[1] / pending[2]) if down else (ratio > pending[1] / pending[2]):
                    pending[:3] = [t, rt, usual_ms]  # a higher peak (a deeper dip)
                if pending[3] > hold:
                    events.append(self._tell_spike(s, pending))
        # what a spike must clear: the usual slow tail, recent spikes, an hour's recurring spikes
        bar = s.tail if s.tail > s.burst else s.burst
        if r > bar:  # only then can the hour's spikes matter (saves the look-up per check)
            seasonal = _seasonal_bar(s, hour, bins)
            if seasonal > bar:
                bar = seasonal
        if s.spike_armed:
            if z >= spike_z and ratio >= th.spike_ratio and rt - usual_ms >= th.min_delta_ms:
                if r >= bar + margin:
                    s.spike_armed, s.spike_quiet = False, 0
                    s.spike_pending = [t, rt, usual_ms, 1]
                    if s.gap >= _DENSE_GAP:  # the next check is 10 min to a day away: now
                        events.append(self._tell_spike(s, s.spike_pending))
                # spikes this size may be what the service does (bursts, jobs): the next one is
                # news once it is bigger, or after a calm (this memory halves every _BURST_HALF).
                # Remembered whether reported or held under the bar: a spike that recurs every
                # few hours would otherwise be reported again each time the memory has decayed
                # (on the real NAB series: 28 of 37 false spike reports gone)
                s.burst = max(s.burst, r)
                seen = s.spike_hours[hour]  # the two biggest recent spikes at this hour, and when
                if r > seen[0]:
                    seen[:2] = [r, seen[0]]
                elif r > seen[1]:
                    seen[1] = r
                seen[2] = day
            elif z <= -dip_z and ratio * th.spike_ratio <= 1 and usual_ms - rt >= th.min_delta_ms:
                # a check far faster than usual: an error page or an empty answer served fast
                # (a spike's mirror, with twice its z: being faster is less often bad); it must
                # clear the usual fast checks and recent dips (a cache answering some at once)
                if -r >= max(s.fast_tail, s.dips) + margin and not _back_from_slowdown(
                        s, y - offset, t, max(math.log(th.spike_ratio), dip_z * sigma)):
                    s.spike_armed, s.spike_quiet = False, 0
                    s.spike_pending = [t, rt, usual_ms, 1]
                    if s.gap >= _DENSE_GAP:
                        events.append(self._tell_spike(s, s.spike_pending))
                s.dips = max(s.dips, -r)
        else:
            s.spike_quiet = s.spike_quiet + 1 if normal_up and normal_down else 0
            if s.spike_quiet >= self.quiet:
                s.spike_armed = True

        # shifts: two-sided CUSUM on clipped z-scores
        zc = max(-_Z_CLIP, min(_Z_CLIP, z))
        # load that comes and goes over hours makes runs of same-signed z that a CUSUM built
        # for independent checks reads as a shift: at dense checks z is divided by the square
        # root of the variance inflation of a mean of AR(1) checks, (1 + rho) / (1 - rho)
        ar = s.ar
        if s.cusum_up <= shift_h * _FREEZE and s.cusum_down <= shift_h * _FREEZE:
            ar[1] += _AR_ALPHA * (zc * zc - ar[1])  # (not while a shift may be building up:
            ar[2] += _AR_ALPHA * (zc * ar[0] - ar[2])  # its own run would look autocorrelated)
        ar[0] = zc
        if s.gap < _DENSE_GAP and ar[1] > 0 and ar[2] > _AR_NOISE * ar[1]:
            rho = min(_AR_MAX, ar[2] / ar[1] - _AR_NOISE)
            zc /= math.sqrt((1 + rho) / (1 - rho))
        s.cusum_up = _cusum_step(s.cusum_up, zc - _CUSUM_K, s.run_up, y, expected)
        s.cusum_down = _cusum_step(s.cusum_down, -zc - _CUSUM_K, s.run_down, y, expected)
        # the score: how far past the spike bar (or as far below the usual), or how far up the
        # CUSUM is, each against medium's reference (then ~0.5)
        spike_x = (r - bar if bar > 0 else r) / sigma
        down_x = -z - _TAIL_INIT
        cusum = s.cusum_up if s.cusum_up > s.cusum_down else s.cusum_down
        s.score = _score((spike_x if spike_x > down_x else down_x) / _SCORE_Z, cusum / _SCORE_H)
        shifted = False
        for cusum, run in ((s.cusum_up, s.run_up), (s.cusum_down, s.run_down)):
            if cusum > shift_h and run[0] >= _MIN_RUN:
                level_before = s.level
                shift = self._shift(s, at, t, run, sigma, 1 if run is s.run_up else -1)
                if shift is not None:
                    events.append(shift)
                    # the spike was this shift's first check; spikes on top of the new level
                    # are the same episode until it has calmed down (`quiet` normal checks)
                    s.spike_pending = None
                    s.spike_armed, s.spike_quiet = False, 0
                shifted = s.level != level_before
                break
        if not shifted and not s.shift_armed:
            s.shift_quiet = s.shift_quiet + 1 if abs(z) < _QUIET_Z else 0
            if s.shift_quiet >= self.quiet:
                s.shift_armed = True

        if events:
            s.score = 1.0  # the check that completed a report
        elif not (s.spike_armed and s.shift_armed):
            s.score = round(s.score * _EPISODE_DAMPING, 4)  # already reported: less news

        # learning (winsorised), after the verdicts on this sample
        clipped = expected + max(-_HUBER * sigma, min(_HUBER * sigma, r))
        if shifted or abs(z) < _SEASON_Z:
            s.hour_sum[hour] += y
            s.hour_n[hour] += 1
            if not s.weekly:
                s.week_sum[hour_of_week] += y
                s.week_n[hour_of_week] += 1
        if abs(z) < _SEASON_Z and not s.weekly:
            s.day_sum[0] += y - offset
            s.day_sum[1] += 1
        if s.prior_level is not None:
            s.episode_hours |= 1 << hour
        if not shifted and max(s.cusum_up, s.cusum_down) <= shift_h * _FREEZE:
            s.level += _A_LEVEL * (clipped - expected)
        s.mad += _A_SCALE * (min(abs(r), 4 * sigma) - s.mad)
        # stochastic approximation of the _TAIL_P quantile: stable where P(r > tail) = 1 - p
        # (steps 4x larger for the first _TAIL_YOUNG samples, so the usual jitter is learnt fast)
        step = _TAIL_STEP * sigma * (4.0 if s.samples < self.warmup + _TAIL_YOUNG else 1.0)
        s.tail += step * (_TAIL_P if r > s.tail else _TAIL_P - 1.0)
        s.fast_tail += step * (_TAIL_P if -r > s.fast_tail else _TAIL_P - 1.0)
        s.burst *= _BURST_DECAY
        s.dips *= _BURST_DECAY
        return events

    @staticmethod
    def _tell_spike(s: StreamState, pending: list[float]) -> Anomaly:
        s.spike_pending = None
        s.spike_told = s.samples
        s.told_down = pending[1] < pending[2]
        return _spike(pending)

    def _shift(self, s: StreamState, at: datetime, t: float, run: list, sigma: float,
               sign: int) -> Anomaly | None:
        th = self.thresholds
        n, _, sum_expected = run
        base_log = sum_expected / n
        # the new level: the median residual of the run's last (up to _RECENT) samples, so a few
        # outliers that pushed the CUSUM up cannot fake or exaggerate a shift
        delta = _median(sorted(s.recent[-min(n, _RECENT):]))
        s.cusum_up = s.cusum_down = 0.0
        s.run_up[:] = [0, 0.0, 0.0]
        s.run_down[:] = [0, 0.0, 0.0]
        if delta * sign < _CUSUM_K * sigma:
            return None  # most of the run is ordinary: outliers, not a new level
        value_log = base_log + delta
        old_level = s.level
        s.level = old_level + delta  # the new normal, reported or not
        s.recent[:] = [r - delta for r in s.recent]
        s.burst = max(0.0, s.burst - delta)  # the recent spikes' size, against the new level
        s.dips = max(0.0, s.dips + delta)  # ... and the recent dips' depth

        if s.prior_level is not None and t - s.prior_t > _RECOVERY_MEMORY:
            s.prior_level, s.episode_hours = None, 0
        if s.prior_level is not None and (s.prior_level - old_level) * delta > 0:
            # moving back towards the level before the last reported shift: the incident ends
            past = (s.level - s.prior_level) * (1 if delta > 0 else -1)
            if past < math.log(th.shift_ratio):
                if abs(s.level - s.prior_level) < math.log(th.shift_ratio):
                    if t - s.prior_t <= _INCIDENT_HOURS * _HOUR:
                        # a passing incident: its hours must not teach today's daily profile
                        for h in range(24):
                            if s.episode_hours >> h & 1:
                                s.hour_sum[h], s.hour_n[h] = 0.0, 0
                    s.prior_level, s.episode_hours = None, 0
                return None
            base_log = s.prior_level + (base_log - old_level)  # overshoot: compare with before
            delta = value_log - base_log

        value_ms, base_ms = math.exp(value_log), math.exp(base_log)
        big_enough = (abs(delta) >= math.log(th.shift_ratio)
                      and abs(value_ms - base_ms) >= th.min_delta_ms)
        if big_enough and s.visited is not None and t - s.visited[1] <= _RECOVERY_MEMORY \
                and abs(s.level - s.visited[0]) < math.log(th.shift_ratio):
            # back at the level of a recent episode: the same trouble recurring, already told
            s.visited[1] = t
            if s.prior_level is None:
                s.prior_level, s.prior_t, s.episode_hours = old_level, t, 0
            return None
        recent = s.visited is not None and t - s.visited[1] <= _RECOVERY_MEMORY
        if delta < 0 and recent and s.level >= s.visited[2] - math.log(th.shift_ratio):
            # down to about where a recent slowdown started from: that episode ending (however
            # many steps it took up), not news
            s.prior_level, s.episode_hours = None, 0
            return None
        if delta > 0 and recent:
            if s.prior_level is not None and s.level - s.visited[0] < _ESCALATION:
                s.visited[1] = t  # the slowdown told about getting somewhat worse: not yet news
                return None
            if s.level - s.visited[2] < math.log(th.shift_ratio):
                return None  # back from an overshoot below where the last slowdown started
        if abs(delta) < th.wander * _usual_wander(s):
            return None  # no bigger than what an ordinary day brings to this service's level
        if not (big_enough and s.shift_armed):
            return None
        hold = self._bars(s)[3]
        if (delta < 0) == s.told_down and s.samples - s.spike_told <= 2 * hold:
            # the slowdown (speed-up) whose first checks were just reported as a spike (a dip):
            # one episode, one report (the baseline moves, and the way back is the end, as
            # after a reported shift)
            s.shift_armed, s.shift_quiet = False, 0
            if s.prior_level is None:
                s.prior_level, s.prior_t, s.episode_hours = old_level, t, 0
            _visit(s, old_level, t)
            return None
        s.shift_armed, s.shift_quiet = False, 0
        if s.prior_level is None:
            s.prior_level, s.prior_t, s.episode_hours = old_level, t, 0
        ratio = value_ms / base_ms
        # by ratio, capped by the absolute difference (a few ms more is never "high")
        moved = abs(value_ms - base_ms)
        by_delta = 2 if moved >= 300 else 1 if moved >= 50 else 0
        if delta > 0:
            by_ratio = 2 if ratio >= 3 else 1 if ratio >= 1.75 else 0
            direction = "up"
        else:
            by_ratio = 1 if ratio <= 1 / 3 else 0
            direction = "down"
        severity = ("low", "medium", "high")[min(by_ratio, by_delta)]
        if delta > 0:
            _visit(s, old_level, t)
        return Anomaly(SHIFT, at, round(value_ms, 1), round(base_ms, 1), severity,
                       f"Response time has stayed around {_ms(value_ms)} for {n} checks, "
                       f"{direction} from the usual {_ms(base_ms)}")

    def _warming_up(self, s: StreamState, at: datetime, t: float, rt: float,
                    y: float) -> list[Anomaly]:
        """Collect the warm-up samples. A young monitor gets one verdict: a jump far above
        everything seen so far (10x and 200 ms), held for a few checks, is reported as a shift
        and the warm-up starts again from the new level."""
        seen = s.warm[:len(s.warm) - s.jump_run]
        events: list[Anomaly] = []
        s.score = 0.0
        if len(seen) >= _JUMP_MIN_SEEN:
            top = max(seen)
            if y - top >= _JUMP_RATIO and rt - math.exp(top) >= _JUMP_MS:
                s.jump_run += 1
                s.score = _score(0.0, s.jump_run / _JUMP_RUN)
            else:
                s.jump_run = 0
        s.warm.append(y)
        if s.jump_run >= _JUMP_RUN:
            run = s.warm[-s.jump_run:]
            value_ms, base_ms = math.exp(_median(sorted(run))), math.exp(_median(sorted(seen)))
            events.append(Anomaly(
                SHIFT, at, round(value_ms, 1), round(base_ms, 1), _severity(value_ms, base_ms),
                f"Response time jumped to {_ms(value_ms)} for {len(run)} checks, up from "
                f"{_ms(base_ms)} (at most {_ms(math.exp(max(seen)))} until then)"))
            s.warm, s.jump_run = run, 0  # learn the new level from scratch
            s.score = 1.0
        elif len(s.warm) >= self.warmup or (
                len(s.warm) >= _WARM_MIN and s.gap * (len(s.warm) - 1) >= _WARM_SPAN):
            self._finish_warm_up(s)  # enough checks, or fewer over half a day (sparse checks)
        return events

    def _finish_warm_up(self, s: StreamState) -> None:
        values = sorted(s.warm)
        median = _median(values)
        mad = _median(sorted(abs(v - median) for v in values))
        sigma = max(1.4826 * mad, _SCALE_FLOOR)
        s.level = median
        s.mad = sigma / _MAD_TO_SIGMA
        # the usual slow tail starts at the Gaussian one or, if the warm-up already saw slower
        # checks, at its second slowest (one spike in the warm-up cannot set it)
        s.tail = max(_TAIL_INIT * sigma, values[-2] - median)
        s.fast_tail = max(_TAIL_INIT * sigma, median - values[1])
        s.warm = None
        s.jump_run = 0
        s.weekly = s.gap >= _WEEKLY_GAP

    @staticmethod
    def _end_day(s: StreamState, day: int) -> None:
        """Turn the finished day's hourly means into a profile (deviations from that day's
        mean) and the usual offset of each hour into the median over the last profiles."""
        _, bins = _profile_bins(s)
        least = _HOUR_MIN_SAMPLES if 0 < s.gap < _DENSE_GAP else 1
        means = [total / n if n >= least else None
                 for total, n in zip(s.hour_sum[:bins], s.hour_n[:bins])]
        known = [m for m in means if m is not None]
        if s.day >= 0 and len(known) >= (bins + 1) // 2:
            center = sum(known) / len(known)
            s.profiles.append([None if m is None else m - center for m in means])
            del s.profiles[:-_PROFILE_DAYS]
            last_hour = max(h for h, m in enumerate(means) if m is not None)
            # (the weekly profile may stand in for some hours: the offsets in use, before and after)
            hows = [(s.day * 24 + h) % _HOURS_OF_WEEK for h in range(bins)]
            old = [_offset(s, h, hows[h]) for h in range(bins)]
            usual = [_usual_offset([p[h] for p in s.profiles if p[h] is not None])
                     for h in range(bins)]
            if len(s.profiles) < 2:
                usual = [0.0] * bins
            for h in sorted(range(bins), key=lambda h: (h - last_hour) % bins):
                if usual[h] is None:  # too few days saw that hour: as the hour before it
                    usual[h] = usual[h - 1] if usual[h - 1] is not None else 0.0
            s.offsets = usual + [0.0] * (24 - bins)
            new = [_offset(s, h, hows[h]) for h in range(bins)]
            # keep the expected value continuous: the level had been following the last hours
            # (its memory, ~1/_A_LEVEL samples) with their old offsets
            per_hour = sum(s.hour_n) / max(1, sum(1 for n in s.hour_n if n))
            span = min(bins, max(1, round(1.0 / _A_LEVEL / max(per_hour, 1e-9))))
            hours = [(last_hour - i) % bins for i in range(span)]
            s.level -= sum(new[h] - old[h] for h in hours) / span
        total, n = s.day_sum
        if n and not s.weekly:
            s.day_means.append(total / n)
            del s.day_means[:-(_WANDER_DAYS + 1)]
        s.day_sum = [0.0, 0]
        for seen in s.spike_hours:  # forgotten after a few cycles without one
            if day - seen[2] > _SPIKE_HOURS_CYCLES:
                seen[:] = [0.0, 0.0, 0]
        s.day = day
        s.hour_sum = [0.0] * 24
        s.hour_n = [0] * 24
        s.episode_hours = 0


def _offset(s: StreamState, hour: int, hour_of_week: int) -> float:
    """The usual deviation of this hour: the daily profile's, or the weekly one's where that
    differs by more than chance (a Monday morning is not a Sunday's)."""
    daily = s.offsets[hour]
    if s.week_offsets is None:
        return daily
    weekly = s.week_offsets[hour_of_week]
    return weekly if abs(weekly - daily) > s.week_noise else daily


def _end_week(s: StreamState, week: int) -> None:
    """The daily profile's rules for the week: the finished week's hourly means (UTC hours of
    the week), minus that week's mean, make a profile; the last three are kept and an hour's
    offset is their median, so a weekly pattern (office hours on weekdays, busy weekend nights)
    is known after three weeks and then stands in for the daily profile, which cannot tell a
    Monday morning from a Sunday one, at the hours where the two differ by more than chance."""
    bins = _HOURS_OF_WEEK
    least = _HOUR_MIN_SAMPLES if 0 < s.gap < _DENSE_GAP else 1
    means = [total / n if n >= least else None for total, n in zip(s.week_sum, s.week_n)]
    known = [m for m in means if m is not None]
    if s.week >= 0 and len(known) >= bins // 2:
        center = sum(known) / len(known)
        # (4 decimals of a log: 0.01 % of a response time, and a saved state a third the size)
        s.week_profiles.append([None if m is None else round(m - center, 4) for m in means])
        del s.week_profiles[:-_PROFILE_DAYS]
        if len(s.week_profiles) >= _WEEKS_KNOWN:
            usual = [_usual_offset([p[h] for p in s.week_profiles if p[h] is not None])
                     for h in range(bins)]
            last = max(h for h, m in enumerate(means) if m is not None)
            for h in sorted(range(bins), key=lambda h: (h - last) % bins):
                if usual[h] is None:
                    usual[h] = usual[h - 1] if usual[h - 1] is not None else 0.0
            old = _offset(s, last % 24, last)
            checks = sorted(n for n in s.week_n if n)
            # the standard error of the difference of two medians of hourly means (weeks, days)
            spread = (1 / len(s.week_profiles) + 1 / _PROFILE_DAYS) / checks[len(checks) // 2]
            s.week_noise = _WEEK_NOISE * 1.25 * max(_MAD_TO_SIGMA * s.mad, _SCALE_FLOOR) \
                * math.sqrt(spread)
            s.week_offsets = usual
            # keep the expected value continuous: the level had been following the last hour
            s.level -= _offset(s, last % 24, last) - old
    s.week = week
    s.week_sum = [0.0] * bins
    s.week_n = [0] * bins


def _usual_wander(s: StreamState) -> float:
    """How far the level usually moves from one day to the next (log scale): the median move of
    the deseasonalised daily mean over the last _WANDER_DAYS days; 0 until 4 days are known."""
    means = s.day_means
    moves = sorted(abs(b - a) for a, b in zip(means, means[1:]))
    return _median(moves) if len(moves) >= 3 else 0.0


def _back_from_slowdown(s: StreamState, level: float, t: float, dip: float) -> bool:
    """Is `level` (deseasonalised) less than a dip (`dip`, log) below where a slowdown of the
    last 24 hours started? Then a check far faster than the baseline is that slowdown ending
    (perhaps overshooting a little), not a dip."""
    floor = s.visited[2] if s.visited is not None and t - s.visited[1] <= _RECOVERY_MEMORY \
        else None
    if s.prior_level is not None and t - s.prior_t <= _RECOVERY_MEMORY \
            and (floor is None or s.prior_level < floor):
        floor = s.prior_level
    return floor is not None and level > floor - dip


def _visit(s: StreamState, old_level: float, t: float) -> None:
    """Remember the level of a slowdown told about, and the lowest level it started from (one
    episode may climb in steps)."""
    base = old_level
    if s.visited is not None and len(s.visited) > 2 and t - s.visited[1] <= _RECOVERY_MEMORY:
        base = min(base, s.visited[2])
    s.visited = [s.level, t, base]


def _seasonal_bar(s: StreamState, hour: int, bins: int) -> float:
    """Spikes at this hour of the day (day of the week, give or take one) are what the service
    does once two of them were seen there recently (a nightly job): the second biggest."""
    hours = s.spike_hours
    values = sorted(hours[hour][:2] + hours[(hour - 1) % bins][:2] + hours[(hour + 1) % bins][:2])
    return values[-2]


def _bars(th: Thresholds, sparse: float) -> tuple[float, float, float, int]:
    """(spike z, shift CUSUM threshold, spike margin over the usual tail, checks a spike is
    held at most) for a stream `sparse` (0..1) of the way to sparse checks. Each sparse check
    stands for more time, so less evidence per check (z, CUSUM) confirms an anomaly in about the
    same time; how big it must be (ratio, ms) does not change. The usual tail there is a 99.5th
    percentile of few checks (a week of hourly ones is 168), a generous bar already: a smaller
    margin on top. A spike is held at most as long as the fewest checks a shift can be
    confirmed in, and one more."""
    evidence = 1.0 + (_SPARSE_EVIDENCE - 1.0) * sparse
    shift_h = th.shift_h / evidence
    margin = th.tail_margin * (1.0 + (_SPARSE_MARGIN - 1.0) * sparse)
    return th.spike_z / evidence, shift_h, margin, math.ceil(shift_h / (_Z_CLIP - _CUSUM_K)) + 1


def _profile_bins(s: StreamState) -> tuple[float, int]:
    """(seconds per bin, bins per cycle): hours of the day, or days of the week when sparse."""
    return (_DAY, 7) if s.weekly else (_HOUR, 24)


def _reset_profile(s: StreamState, weekly: bool) -> None:
    s.weekly = weekly
    s.day = -1
    s.hour_sum, s.hour_n = [0.0] * 24, [0] * 24
    s.profiles, s.episode_hours = [], 0
    s.day_sum, s.day_means = [0.0, 0], []
    s.spike_hours = [[0.0, 0.0, 0] for _ in range(24)]
    s.offsets = [0.0] * 24
    s.week, s.week_profiles, s.week_offsets, s.week_noise = -1, [], None, 0.0
    s.week_sum, s.week_n = [0.0] * _HOURS_OF_WEEK, [0] * _HOURS_OF_WEEK


def _score(spike: float, shift: float) -> float:
    """0..0.99 from how far past the spike and shift references the check is (x = 1 at the
    reference): 0.99 * x / (1 + x), so ~0.5 at the reference, 0.9 at 10x it; it never
    saturates, so a threshold can still tell big from huge. 1.0 is kept for reported checks."""
    x = spike if spike > shift else shift
    return 0.99 * x / (1.0 + x) if x > 0 else 0.0


def _severity(value_ms: float, base_ms: float) -> str:
    """By ratio and by absolute difference, the lower of both: 2.7 ms -> 207 ms is 75x but only
    0.2 s, not worth more than "low"; 1 s -> 2.5 s is 1.5 s but only 2.5x ("medium")."""
    ratio = value_ms / base_ms if base_ms > 0 else math.inf
    delta = abs(value_ms - base_ms)
    if ratio < 1:
        ratio = 1 / ratio if value_ms > 0 else math.inf
    by_ratio = 2 if ratio >= 5 else 1 if ratio >= 2.5 else 0
    by_delta = 2 if delta >= 1000 else 1 if delta >= 250 else 0
    return ("low", "medium", "high")[min(by_ratio, by_delta)]


def _usual_offset(values: list[float]) -> float | None:
    """The median of the last three days' offsets for an hour, a day not seen yet counting as
    no offset: a pattern is believed once two days agree, and one odd day (an incident, a level
    shift in the middle of a day) is outvoted. None when fewer than two days saw the hour."""
    if len(values) < 2:
        return None
    return _median(sorted(values + [0.0] * (_PROFILE_DAYS - len(values))))


def _spike(pending: list[float]) -> Anomaly:
    t, rt, usual_ms, _ = pending
    at = datetime.fromtimestamp(t, timezone.utc)
    if rt < usual_ms:  # a dip: "low" (faster is rarely bad), but worth a look
        return Anomaly(SPIKE, at, round(rt, 1), round(usual_ms, 1), "low",
                       f"Response time {_ms(rt)} is {_times(usual_ms / max(rt, _MIN_MS))} faster "
                       f"than the usual {_ms(usual_ms)}: is it serving an error page?")
    return Anomaly(SPIKE, at, round(rt, 1), round(usual_ms, 1), _severity(rt, usual_ms),
                   f"Response time {_ms(rt)} is {_times(rt / usual_ms)} the usual {_ms(usual_ms)}")


def _cusum_step(cusum: float, increment: float, run: list, y: float, expected: float) -> float:
    new = cusum + increment
    if new <= 0:
        run[:] = [0, 0.0, 0.0]
        return 0.0
    if cusum <= 0:
        run[:] = [0, 0.0, 0.0]
    run[0] += 1
    run[1] += y
    run[2] += expected
    return new


def _median(sorted_values: list[float]) -> float:
    n = len(sorted_values)
    mid = n // 2
    return sorted_values[mid] if n % 2 else (sorted_values[mid - 1] + sorted_values[mid]) / 2


def _epoch(at: datetime) -> float:
    if at.tzinfo is None:
        at = at.replace(tzinfo=timezone.utc)
    return at.timestamp()


def _ms(value: float) -> str:
    """1840.2 -> "1,840 ms"; 3.25 -> "3.2 ms"."""
    return f"{value:,.0f} ms" if value >= 10 else f"{value:.1f} ms"


def _times(ratio: float) -> str:
    """9.2 -> "9.2x"; 12.4 -> "12x"; 3.0 -> "3x"."""
    text = f"{ratio:.0f}" if ratio >= 10 else f"{ratio:.1f}".removesuffix(".0")
    return text + "x"


def _duration(seconds: float, checks: int) -> str:
    if seconds <= 0:
        return f"{checks} checks"
    if seconds < 90:
        return f"{max(1, round(seconds))} seconds"
    if seconds < 90 * 60:
        return f"{round(seconds / 60)} minutes"
    return f"{seconds / 3600:.1f} hours".replace(".0 hours", " hours")
