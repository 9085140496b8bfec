"""Imported by the worker pool's fork server when it starts (see `cxtext.workers.worker_context`):
loads the resources of the spec the pool was made for, so every worker forked from the server starts
with them. Nothing happens when imported anywhere else (the variable is set only for the server)."""
import gc
import json
import os

from cxtext.workers import PRELOAD_ENV, ResourceSpec, process_resources


def _preload() -> None:
    raw = os.environ.get(PRELOAD_ENV)
    if not raw:
        return
    try:
        process_resources(ResourceSpec(**json.loads(raw)))
    except Exception:  # noqa: BLE001 - a worker loading for itself reports the error with its chunk
        return
    # Objects that live as long as the server are kept out of the collector's passes, which would
    # write to every page the forked workers share with it.
    gc.freeze()


_preload()
