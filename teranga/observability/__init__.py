"""What operators watch: Prometheus metrics (metrics.py), readiness and liveness (health.py),
their HTTP routes on every Teranga server (endpoints.py) and JSON log lines (logs.py)."""
