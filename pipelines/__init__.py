"""Prefect flows over the cxtext stages (see `pipelines.flows`).

Importing this package sets Prefect's environment for offline use *before* Prefect itself is
imported: no telemetry (both switches are needed to stop every call home), enough time for the
temporary local server to start on a fresh machine, and cxtext's own log lines routed into the
flow-run logs (and the same stage functions called outside a flow log locally, without a warning
per line). Values already in the environment win.
"""
import os

os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
os.environ.setdefault("DO_NOT_TRACK", "1")
os.environ.setdefault("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", "120")
os.environ.setdefault("PREFECT_LOGGING_EXTRA_LOGGERS", "cxtext")
os.environ.setdefault("PREFECT_LOGGING_TO_API_WHEN_MISSING_FLOW", "ignore")
