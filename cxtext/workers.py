"""Per-process resources and the worker pool, in a module light enough to import first.

`cxtext run --workers N` gets its workers under way before the parent imports pandas and the rest
of the run machinery (about a second), so their start-up (imports and resources, 1.5-2 s, paid once
by a fork server where there is one, see `worker_context`) overlaps the parent's instead of
following it. Nothing here imports pandas, NumPy or the tagger.
"""
from __future__ import annotations

import hashlib
import json
import multiprocessing
import os
import sys
import threading
from concurrent.futures import ProcessPoolExecutor
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any, Iterable

from cxtext.inputs import expand_inputs, total_size


@dataclass(frozen=True)
class ResourceSpec:
    """How to load the tagger's resources; small and picklable, so workers can load their own."""

    lexicon_dir: str | None = None
    sentiment: str = "default"
    backend: str = "jieba"
    # Fingerprint of the files behind the resources (see `with_fingerprint`): a long-lived worker
    # (Dask, or this process across runs) reloads exactly when lexicons or models changed.
    token: str = ""

    def with_fingerprint(self) -> "ResourceSpec":
        """This spec with `token` set from the size and mtime of every lexicon and model file."""
        return replace(self, token=resource_fingerprint(self))

    def same_resources(self, other: "ResourceSpec") -> bool:
        """Whether both name the same lexicons, model and backend (fingerprints aside)."""
        return replace(self, token="") == replace(other, token="")

    def load(self) -> Any:
        """Load lexicons, segmenter and models (`cxtext.tagger.load_resources`)."""
        from cxtext.tagger import load_resources

        return load_resources(lexicon_dir=self.lexicon_dir, sentiment=self.sentiment, backend=self.backend)


def spec_from_args(args: Any) -> ResourceSpec:
    """The ResourceSpec of parsed CLI arguments (--lexicons, --sentiment, --backend)."""
    return ResourceSpec(lexicon_dir=getattr(args, "lexicons", None),
                        sentiment=getattr(args, "sentiment", "default"),
                        backend=getattr(args, "backend", "jieba"))


def _resource_roots(spec: ResourceSpec) -> list[Path]:
    from cxtext.paths import lexicon_dir, shipped_model_dir

    roots = [Path(spec.lexicon_dir) if spec.lexicon_dir else lexicon_dir()]
    if Path(spec.sentiment).is_dir():
        roots.append(Path(spec.sentiment))
    elif spec.sentiment == "default":
        roots.append(shipped_model_dir())
    return roots


def resource_fingerprint(spec: ResourceSpec) -> str:
    """A cheap fingerprint (paths, sizes, mtimes; nothing read) of the files a spec loads."""
    digest = hashlib.sha256(repr((spec.lexicon_dir, spec.sentiment, spec.backend)).encode("utf-8"))
    for root in _resource_roots(spec):
        for path in sorted(p for p in root.rglob("*") if p.is_file()) if root.is_dir() else []:
            st = path.stat()
            digest.update(f"{path}\x1f{st.st_size}\x1f{st.st_mtime_ns}\n".encode("utf-8"))
    return digest.hexdigest()[:16]


# The resources of the latest spec this process used. This is the only module-level state, and it
# is deliberate: a worker process (pool or Dask) must load dictionaries and models once per run,
# not once per chunk. One slot, so a new run's spec replaces (and frees) the previous one.
_PROCESS_RESOURCES: dict[ResourceSpec, Any] = {}
_RESOURCES_LOCK = threading.RLock()


def process_resources(spec: ResourceSpec) -> Any:
    """The resources for `spec` in this process, loaded on first use (once, when threads of one
    process ask at the same time, as Prefect's thread task runner does)."""
    with _RESOURCES_LOCK:
        if spec not in _PROCESS_RESOURCES:
            _PROCESS_RESOURCES.clear()
            _PROCESS_RESOURCES[spec] = spec.load()
        return _PROCESS_RESOURCES[spec]


def _init_worker(spec: ResourceSpec) -> None:
    try:
        process_resources(spec)
    except Exception:
        # Reported where it helps: the first chunk's tag_chunk loads again, and its error (a broken
        # lexicon or model folder, naming file and line) reaches the parent with that chunk's
        # result. An initializer that raises only breaks the pool ("terminated abruptly").
        pass


class ResourcePool(ProcessPoolExecutor):
    """Worker processes that each hold the resources of `spec`, loaded once; a run given the pool
    tags with that same spec, so the workers never load a second time. See `worker_context` for
    how they start."""

    def __init__(self, spec: ResourceSpec, workers: int):
        context = worker_context(spec)
        super().__init__(max_workers=workers, mp_context=context, initializer=_init_worker, initargs=(spec,))
        self.spec = spec
        self.start_method = context.get_start_method()


# Read by cxtext._preload in the fork server, which is how a spec reaches a process that runs no
# function of ours: set only while the server starts.
PRELOAD_ENV = "CXTEXT_PRELOAD_SPEC"


def worker_context(spec: ResourceSpec) -> Any:
    """How worker processes start: forked from a fork server that loaded the resources of `spec`
    once, on Linux; else spawned, each loading its own.

    Spawned workers each import jieba, NumPy and pandas and load the lexicons, the dictionary and
    the model (1.2-1.5 s of CPU apiece), all at the start of a run while the parent imports too. The
    fork server does that work once, beside the parent, and every worker is a fork of it that starts
    with the resources loaded and shares their pages with it until it writes to them (the server
    freezes its objects out of the garbage collector's reach, whose passes would write to every
    page). Not plain `fork`: the parent may hold threads (Prefect, Arrow) that `fork` would copy
    mid-state; the server runs none of its own (NumPy's BLAS pool shuts its threads down
    before a fork, for this reason). The server outlives one run: a later pool with another spec
    still works, its workers loading their own resources at start-up. Linux only: on macOS a
    process that has loaded NumPy (Accelerate) is not safe to fork, and Windows has no fork."""
    if not sys.platform.startswith("linux") or "forkserver" not in multiprocessing.get_all_start_methods():
        return multiprocessing.get_context("spawn")
    from multiprocessing import forkserver

    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload(["cxtext._preload"])
    previous = os.environ.get(PRELOAD_ENV)
    os.environ[PRELOAD_ENV] = json.dumps(asdict(spec))
    try:
        forkserver.ensure_running()  # returns at once; the server loads while the caller goes on
    finally:
        if previous is None:
            os.environ.pop(PRELOAD_ENV, None)
        else:
            os.environ[PRELOAD_ENV] = previous
    return context


def process_pool(spec: ResourceSpec, workers: int) -> ResourcePool:
    """Worker processes that each load the resources for `spec` once at start-up."""
    return ResourcePool(spec, workers)


def auto_workers(total_bytes: int) -> int:
    """Workers for `--workers 0`: one for small inputs (start-up would dominate), else up to 4 cores."""
    if total_bytes < 2_000_000:  # about 10,000 short reviews: one process finishes before a pool starts
        return 1
    return max(1, min(os.cpu_count() or 1, 4))


def input_bytes(inputs: Iterable[str | Path]) -> int | None:
    """Total size of the files a run reads from `inputs` (the count `RunSession.discover` makes:
    folders walked, hidden files and unknown extensions left out), or None when a path is missing."""
    try:
        return total_size(expand_inputs(list(inputs)))
    except FileNotFoundError:
        return None


def started_pool(spec: ResourceSpec, workers: int) -> ResourcePool:
    """`process_pool` with its workers under way now rather than at the first submit.

    Spawned workers are started now (the executor starts one per submit until it is full), so
    their seconds of start-up overlap the parent's. With a fork server nothing is submitted: the
    server is already loading, a submit would wait here until it has, and once it has a worker forks
    in milliseconds at the first submit."""
    pool = process_pool(spec, workers)
    if pool.start_method == "spawn":
        for _ in range(workers):
            pool.submit(os.getpid)
    return pool


def early_pool(args: Any) -> ResourcePool | None:
    """For a plain `cxtext run` (parsed arguments) that will tag on several processes: its worker
    processes, started now, before the caller imports the rest of the run (None otherwise).

    With `--workers 0` the count is chosen here from the inputs' size and written back to
    `args.workers`, so the run uses the pool it was given; missing inputs start nothing (the run
    reports them)."""
    if getattr(args, "prefect", False) or getattr(args, "task_runner", "local") != "local":
        return None
    workers = getattr(args, "workers", 0)
    if workers == 0:
        size = input_bytes(getattr(args, "inputs", []))
        if size is None:
            return None
        workers = args.workers = auto_workers(size)
    if workers <= 1:
        return None
    return started_pool(spec_from_args(args).with_fingerprint(), workers)
