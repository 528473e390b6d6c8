"""Prometheus metrics shared by every component (labelled by component)."""

from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram

EVENTS_PUBLISHED = Counter("kaohe_outbox_published_total", "Outbox events published", ["component"])
OUTBOX_PENDING = Gauge("kaohe_outbox_pending", "Outbox rows not yet published", ["component"])
EVENTS_HANDLED = Counter("kaohe_events_handled_total", "Events handled", ["component", "consumer", "outcome"])
EVENTS_DEAD = Counter(
    "kaohe_events_dead_lettered_total", "Events sent to the dead-letter store", ["component", "consumer"]
)
RPC_SECONDS = Histogram(
    "kaohe_rpc_seconds",
    "RPC handling time",
    ["component", "method", "outcome"],
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5),
)
HTTP_SECONDS = Histogram(
    "kaohe_http_seconds",
    "HTTP request time",
    ["component", "path", "status"],
    buckets=(0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5),
)
