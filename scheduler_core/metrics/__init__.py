"""Prometheus metrics: the series read from the broker at scrape time (see docs/metrics.md)."""
