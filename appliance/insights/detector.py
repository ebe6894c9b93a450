"""Streaming anomaly detection on check results: response-time spikes, lasting response-time
shifts, and flapping status. Pure: no I/O, no threads, no clock reads (every timestamp is passed
in), and O(1) memory per stream (one `StreamState` per monitor and location, a few hundred bytes
whatever the number of checks seen).

Usage (the engine calls `observe` once per check result):

    detector = AnomalyDetector(sensitivity="medium")        # "low" | "medium" | "high" | float > 0
    for anomaly in detector.observe((monitor_id, location), at, up, response_time_ms):
        ...                                                   # store / notify
    detector.forget((monitor_id, location))                   # monitor deleted
    saved = detector.state(key).to_dict()                     # JSON-friendly; restore(key, saved)

Design, and why
---------------
*Log scale.* Response times are positive, skewed and their noise is multiplicative (a 200 ms
service jitters by tens of ms, a 2 s one by hundreds), so everything is modelled on
y = log(response time). A ratio ("9x the usual") is then a difference, one threshold serves fast
and slow services alike, and the heavy right tail becomes much closer to symmetric.

*Robust baseline.* The expected value is `level + season[hour]`:
- `level` is an exponentially weighted mean of y whose updates are winsorised at 3 robust
  sigmas (a Huber-type M-estimate of location), so a spike moves it by at most 3·sigma·alpha and a
  burst of outliers barely at all; it is not updated at all while a shift is being suspected
  (CUSUM above half its threshold), so a shift is not half-absorbed before it is confirmed.
  Its weight (alpha 0.02 per check, a memory of ~50 checks) lets it follow slow drift (a service
  getting slower over days) without ever reporting it.
- the scale is an exponentially weighted mean absolute deviation of the residuals, each clipped
  at 4 sigmas, times 1.2533 (= sigma for Gaussian noise): a robust streaming sigma, with a floor
  of 3 % so a perfectly flat series does not make every millisecond an anomaly.
- both start from the median and the MAD of the first `warmup` samples (a buffer of at most
  `warmup` floats, dropped once warm): no anomaly is reported before that.
- `season[hour]` is a per-hour-of-day (UTC) offset in 24 buckets, learnt from *previous days
  only*: the current hour's winsorised deviations from a slow daily reference (a time-weighted
  mean with a 2-day time constant) are accumulated and folded into the hour's bucket when the hour
  ends, each day's visit weighing 1 and older days decaying with a 3-day time constant. A daily
  cycle (slow at the evening peak, fast at night) is therefore expected from the second day on,
  while a change within the current hour is never mistaken for seasonality. Everything is
  time-based, so it works the same for 20-second and 1-hour check intervals.

*Spikes* (`response_time_spike`): one sample whose robust z-score (residual / sigma) is at least
`spike_z` AND whose ratio to the expected value is at least `spike_ratio` AND which is at least
`min_delta_ms` slower. The z-score alone would flag 1.3x on a very steady service; the ratio alone
would flag the normal jitter of a noisy one; both together mean "unusual and noticeable".

*Shifts* (`response_time_shift`): a two-sided CUSUM on the z-scores clipped at ±3 with an
allowance of 0.75 sigma, alarming above `shift_h`. Clipping makes the CUSUM insensitive to
isolated spikes (at medium sensitivity, at least 5 consecutive slow checks are needed, 3 at the
very least at any sensitivity), while a sustained move of ~2 sigmas is caught in ~8 checks. The
change point is where the CUSUM last left zero; the run since then gives the new level ("has
stayed around 640 ms for 15 checks") and it must differ from the expected one by `shift_ratio`
and `min_delta_ms` to be reported. On alarm the baseline is moved to the new level (reported or
not), so a lasting change is reported once and then becomes the new normal. Moving back towards
the level that preceded a reported shift (within 24 hours) is the incident ending: the baseline
follows silently, no second anomaly.

*Flapping* (`flapping`): the check indexes and times of the last `flap_changes` status changes
are kept in a ring of that size; flapping is `flap_changes` changes within the last `flap_window`
checks. An isolated outage is two changes and never flaps. The baseline reported is the usual
number of changes in such a window (an exponentially decayed rate).

*One anomaly per episode.* After a spike, spikes are muted until `quiet` consecutive samples are
unremarkable again (hysteresis); after a shift, shifts are muted until `quiet` consecutive samples
sit within 2 sigmas of the new baseline; after flapping, flapping is muted until the status has
been stable for `flap_window` checks. A large sudden shift reports a spike at its first check and
the shift a few checks later (two kinds, two messages: "it just got slow", "it stays slow").

*Failures.* Failed checks (up=False) count only for flapping; they never update the response-time
baseline, whatever response time they carry.

Sensitivity scales the thresholds monotonically: with s = 0.7 / 1.0 / 1.4 for low / medium / high
(or any float > 0), spike_z = 6/s, spike_ratio = 1 + 1/s, shift_h = 10/s, shift_ratio =
1 + 0.25/s, min_delta_ms = 20/s, flap_changes = max(3, round(6/s)).

Calls for one stream must not run concurrently (the engine runs one check per monitor and
location at a time); different streams are independent.
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
_A_SCALE = 0.01  # per-sample weight of the scale (memory ~100 samples)
_SCALE_FLOOR = 0.03  # minimum sigma of log response time (3 %)
_MAD_TO_SIGMA = 1.2533  # mean absolute deviation -> sigma for Gaussian noise
_Z_CLIP = 3.0  # z-scores are clipped here before entering the CUSUM
_CUSUM_K = 0.75  # CUSUM allowance (in sigmas)
_MIN_RUN = 3  # fewest samples a shift can be made of
_RECENT = 16  # residuals kept to measure the new level robustly (median) when a shift alarms
_QUIET_Z = 2.0  # |z| below which a sample counts as back to normal for shift hysteresis
_DAY_TAU = 2 * 86400.0  # time constant of the daily reference level (seconds)
_SEASON_TAU = 3 * 86400.0  # time constant of the hour-of-day buckets (seconds)
_HOUR = 3600.0
_SEASON_Z = 4.0  # samples further than this from the expected value do not teach the seasonal buckets
_RECOVERY_MEMORY = 86400.0  # a return towards the pre-shift level within this is a recovery
_FLAP_RATE_ALPHA = 0.002  # weight of the usual status-change rate


@dataclass(frozen=True)
class Anomaly:
    """One detected anomaly. `value` and `baseline` are in ms for response-time kinds; for
    flapping they are the number of status changes in the window and the usual number."""

    kind: str  # "response_time_spike" | "response_time_shift" | "flapping"
    at: datetime  # the check result that triggered it
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
                      flap_changes=max(3, round(6.0 / s)))


class StreamState:
    """Everything the detector remembers about one stream (a monitor at a location): a fixed
    number of scalars, 3 x 24 hour-of-day buckets, a ring of at most `flap_changes` status
    changes and, during warm-up only, at most `warmup` samples."""

    __slots__ = (
        "checks", "samples", "last_up", "warm", "level", "mad", "day_level", "t_last",
        "season_mean", "season_weight", "season_t", "acc_hour", "acc_t0", "acc_sum", "acc_n",
        "cusum_up", "cusum_down", "run_up", "run_down", "spike_armed", "spike_quiet",
        "shift_armed", "shift_quiet", "prior_level", "prior_t", "flaps", "flap_active",
        "last_change", "flap_rate", "recent",
    )

    def __init__(self) -> None:
        self.checks = 0  # results seen (any status)
        self.samples = 0  # response times of successful checks seen
        self.last_up: bool | None = None
        self.warm: list[float] | None = []  # log response times until warm, then None
        self.level = 0.0  # deseasonalised expected log response time
        self.mad = 0.0  # EW mean absolute deviation of residuals
        self.day_level = 0.0  # slow, time-weighted reference the seasonal offsets are relative to
        self.t_last = 0.0  # epoch seconds of the last sample
        self.season_mean = [0.0] * 24
        self.season_weight = [0.0] * 24
        self.season_t = [0.0] * 24
        self.acc_hour = -1  # the hour being accumulated (folded into its bucket when it ends)
        self.acc_t0 = 0.0
        self.acc_sum = 0.0
        self.acc_n = 0
        self.cusum_up = 0.0
        self.cusum_down = 0.0
        self.run_up = [0, 0.0, 0.0]  # samples, sum of y, sum of expected since the CUSUM left 0
        self.run_down = [0, 0.0, 0.0]
        self.spike_armed = True
        self.spike_quiet = 0
        self.shift_armed = True
        self.shift_quiet = 0
        self.prior_level: float | None = None  # level before the last reported shift
        self.prior_t = 0.0
        self.flaps: list[list[float]] = []  # [check index, epoch seconds] of recent changes
        self.flap_active = False
        self.last_change = 0
        self.flap_rate = 0.0  # usual status changes per check
        self.recent: list[float] = []  # the last _RECENT residuals (log response time - expected)

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
        return state

    def __repr__(self) -> str:
        return (f"StreamState(checks={self.checks}, samples={self.samples}, "
                f"usual_ms={math.exp(self.level):.1f}, warm_up={self.warm_up})")


class AnomalyDetector:
    """Keeps one StreamState per key and turns check results into Anomaly events."""

    def __init__(self, sensitivity: str | float = "medium", *, warmup: int = 30, quiet: int = 10,
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
        events: list[Anomaly] = []
        flapping = self._flapping(state, at, t, bool(up))
        if flapping is not None:
            events.append(flapping)
        if up and response_time_ms is not None:
            rt = float(response_time_ms)
            if math.isfinite(rt) and rt >= 0:
                events.extend(self._response_time(state, at, t, rt))
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
        if s.flap_active or s.checks < self.flap_window or len(s.flaps) < k:
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
        y = math.log(max(rt, _MIN_MS))
        s.samples += 1
        if s.warm is not None:
            s.warm.append(y)
            s.t_last = t
            if len(s.warm) >= self.warmup:
                self._finish_warm_up(s)
            return []

        dt = max(0.0, t - s.t_last)
        s.t_last = t
        hour = int(t // _HOUR) % 24
        self._roll_season(s, t, hour, max(_MAD_TO_SIGMA * s.mad, _SCALE_FLOOR))
        expected = s.level + (s.season_mean[hour] if s.season_weight[hour] > 0 else 0.0)
        sigma = max(_MAD_TO_SIGMA * s.mad, _SCALE_FLOOR)
        r = y - expected
        z = r / sigma
        s.recent.append(r)
        del s.recent[:-_RECENT]
        usual_ms = math.exp(expected)
        events: list[Anomaly] = []

        # spikes, with hysteresis
        ratio = rt / usual_ms
        if s.spike_armed:
            if z >= th.spike_z and ratio >= th.spike_ratio and rt - usual_ms >= th.min_delta_ms:
                s.spike_armed, s.spike_quiet = False, 0
                events.append(Anomaly(
                    SPIKE, at, round(rt, 1), round(usual_ms, 1),
                    "high" if ratio >= 5 else "medium" if ratio >= 2.5 else "low",
                    f"Response time {_ms(rt)} is {_times(ratio)} the usual {_ms(usual_ms)}"))
        else:
            normal = z < th.spike_z / 2 or ratio < 1 + (th.spike_ratio - 1) / 2
            s.spike_quiet = s.spike_quiet + 1 if normal else 0
            if s.spike_quiet >= self.quiet:
                s.spike_armed = True

        # shifts: two-sided CUSUM on clipped z-scores
        zc = max(-_Z_CLIP, min(_Z_CLIP, z))
        s.cusum_up = _cusum_step(s.cusum_up, zc - _CUSUM_K, s.run_up, y, expected)
        s.cusum_down = _cusum_step(s.cusum_down, -zc - _CUSUM_K, s.run_down, y, expected)
        shifted = False
        for cusum, run in ((s.cusum_up, s.run_up), (s.cusum_down, s.run_down)):
            if cusum > th.shift_h and run[0] >= _MIN_RUN:
                level_before = s.level
                shift = self._shift(s, at, t, run, sigma, 1 if run is s.run_up else -1)
                if shift is not None:
                    events.append(shift)
                shifted = s.level != level_before
                break
        if not shifted and not s.shift_armed:
            s.shift_quiet = s.shift_quiet + 1 if abs(z) < _QUIET_Z else 0
            if s.shift_quiet >= self.quiet:
                s.shift_armed = True

        # learning (winsorised), after the verdicts on this sample
        clipped = expected + max(-3 * sigma, min(3 * sigma, r))
        if shifted or abs(z) < _SEASON_Z:
            s.acc_sum += y - s.day_level
            s.acc_n += 1
        s.day_level += (1.0 - math.exp(-dt / _DAY_TAU)) * (clipped - s.day_level)
        if not shifted and max(s.cusum_up, s.cusum_down) <= th.shift_h / 2:
            s.level += _A_LEVEL * (clipped - expected)
        s.mad += _A_SCALE * (min(abs(r), 4 * sigma) - s.mad)
        return events

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

        if s.prior_level is not None and t - s.prior_t > _RECOVERY_MEMORY:
            s.prior_level = None
        if s.prior_level is not None and (s.prior_level - old_level) * delta > 0:
            # moving back towards the level before the last reported shift: the incident ends
            past = (s.level - s.prior_level) * (1 if delta > 0 else -1)
            if past < math.log(th.shift_ratio):
                if abs(s.level - s.prior_level) < math.log(th.shift_ratio):
                    s.prior_level = None
                return None
            base_log = s.prior_level + (base_log - old_level)  # overshoot: compare with before
            delta = value_log - base_log

        value_ms, base_ms = math.exp(value_log), math.exp(base_log)
        big_enough = (abs(delta) >= math.log(th.shift_ratio)
                      and abs(value_ms - base_ms) >= th.min_delta_ms)
        if not (big_enough and s.shift_armed):
            return None
        s.shift_armed, s.shift_quiet = False, 0
        if s.prior_level is None:
            s.prior_level, s.prior_t = old_level, t
        ratio = value_ms / base_ms
        if delta > 0:
            severity = "high" if ratio >= 3 else "medium" if ratio >= 1.75 else "low"
            direction = "up"
        else:
            severity = "medium" if ratio <= 1 / 3 else "low"
            direction = "down"
        return Anomaly(SHIFT, at, round(value_ms, 1), round(base_ms, 1), severity,
                       f"Response time has stayed around {_ms(value_ms)} for {n} checks, "
                       f"{direction} from the usual {_ms(base_ms)}")

    def _finish_warm_up(self, s: StreamState) -> None:
        values = sorted(s.warm)
        median = _median(values)
        mad = _median(sorted(abs(v - median) for v in values))
        sigma = max(1.4826 * mad, _SCALE_FLOOR)
        s.level = s.day_level = median
        s.mad = sigma / _MAD_TO_SIGMA
        s.warm = None

    @staticmethod
    def _roll_season(s: StreamState, t: float, hour: int, sigma: float) -> None:
        """Fold the finished hour's mean deviation into its bucket: one weight per day, and once
        the bucket has a value, a day moves it by at most one sigma (an incident of a few hours
        barely teaches the daily profile; a new profile is learnt over days)."""
        if s.acc_hour == hour and t - s.acc_t0 < _HOUR:
            return
        if s.acc_hour >= 0 and s.acc_n > 0:
            b = s.acc_hour
            w = s.season_weight[b]
            if w > 0:
                w *= math.exp(-max(0.0, s.acc_t0 - s.season_t[b]) / _SEASON_TAU)
            mean = s.acc_sum / s.acc_n
            if w > 0:
                mean = s.season_mean[b] + max(-sigma, min(sigma, mean - s.season_mean[b]))
            s.season_mean[b] = (s.season_mean[b] * w + mean) / (w + 1.0)
            s.season_weight[b] = w + 1.0
            s.season_t[b] = s.acc_t0
        s.acc_hour, s.acc_t0, s.acc_sum, s.acc_n = hour, t, 0.0, 0


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
