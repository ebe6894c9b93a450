"""Insights computed from check results: anomaly detection on response times and status."""

from appliance.insights.detector import (
    FLAPPING,
    KINDS,
    SPIKE,
    SHIFT,
    Anomaly,
    AnomalyDetector,
    StreamState,
    Thresholds,
    thresholds_for,
)

__all__ = [
    "FLAPPING", "KINDS", "SPIKE", "SHIFT", "Anomaly", "AnomalyDetector", "StreamState",
    "Thresholds", "thresholds_for",
]
