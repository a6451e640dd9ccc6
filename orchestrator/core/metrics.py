"""Prometheus metrics exported at GET /metrics."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Histogram

REGISTRY = CollectorRegistry(auto_describe=True)

LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)

HTTP_REQUEST_SECONDS = Histogram(
    "museaika_http_request_duration_seconds", "Orchestrator request latency",
    ["method", "route", "status"], buckets=LATENCY_BUCKETS, registry=REGISTRY,
)
MODEL_REQUEST_SECONDS = Histogram(
    "museaika_model_request_duration_seconds", "Latency of one call to a model server, as the orchestrator sees it",
    ["model", "backend", "outcome"], buckets=LATENCY_BUCKETS, registry=REGISTRY,
)
MODEL_BATCH_SIZE = Histogram(
    "museaika_model_batch_size", "Size of the model-server batch each request was served in",
    ["model", "backend"], buckets=(1, 2, 3, 4, 6, 8, 12, 16, 24, 32, 64), registry=REGISTRY,
)
FACES_DETECTED = Counter(
    "museaika_faces_detected_total", "Faces found in uploaded photos", registry=REGISTRY,
)
