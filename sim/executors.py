"""Where work runs: in this process, in its threads, in a local process pool, or on Dask.

:func:`make_executor` returns a standard :class:`concurrent.futures.Executor`, to be
used as a context manager: :class:`SerialExecutor` (this process), a
:class:`ThreadPool` (threads of this process), a
:class:`ProcessPool` (a ``ProcessPoolExecutor`` started by forkserver) or a
:class:`DaskExecutor` (``distributed.Client.get_executor()``, closing its client and
any local cluster on shutdown).  :func:`in_order` submits tasks and yields their
results in submission order, with a progress bar; since results are accepted in
that order, the executor can never change a result::

    with make_executor("processes") as pool:
        for result in in_order(pool, fn, [(a, b), (c, d)], desc="work"):
            ...
"""

from __future__ import annotations

import asyncio
import concurrent.futures as cf
import contextvars
import logging
import multiprocessing as mp
import os
import re
from collections import deque
from collections.abc import Callable, Generator, Iterable
from typing import Any, TypeVar

from .errors import UsageError

T = TypeVar("T")

EXECUTORS = ("serial", "threads", "processes", "dask")
#: Seconds a Dask scheduler has to answer before its address is given up on.
CONNECT_TIMEOUT = 10.0
#: Local worker processes at most, per core: more only adds memory and switching.
WORKERS_PER_CORE = 4
#: ``[tcp://]HOST:PORT``: the only addresses accepted (TLS, UCX and websockets need
#: security or transport settings this tool does not take).
_ADDRESS = re.compile(r"(?:tcp://)?(?P<host>\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9._-]+):(?P<port>\d{1,5})")


def max_workers() -> int:
    """The most workers a local pool or cluster may start: 4 per core."""
    return WORKERS_PER_CORE * (os.cpu_count() or 1)


def check_scheduler_address(address: object) -> str:
    """``address`` if it is a Dask scheduler address this tool can use (``tcp://HOST:PORT``
    or ``HOST:PORT``); otherwise a :class:`UsageError`, before anything is started."""
    hint = "give tcp://HOST:PORT (e.g. tcp://10.0.0.5:8786), as printed by 'dask scheduler'"
    if not isinstance(address, str) or not address.strip():
        raise UsageError(f"cannot reach the Dask scheduler at {address!r}: an address is "
                         "tcp://HOST:PORT", hint=hint)
    scheme, sep, _ = address.partition("://")
    if sep and scheme != "tcp":
        raise UsageError(f"cannot reach the Dask scheduler at {address!r}: the {scheme}:// "
                         "protocol is not supported, only tcp://", hint=hint)
    match = _ADDRESS.fullmatch(address)
    if match is None or not 1 <= int(match["port"]) <= 65535:
        raise UsageError(f"cannot reach the Dask scheduler at {address!r}: not an address of "
                         "the form tcp://HOST:PORT", hint=hint)
    return address


def probe_scheduler(address: str, timeout: float) -> None:
    """Check that a Dask scheduler answers at ``address`` within ``timeout`` seconds.

    distributed's ``Client(address, timeout=...)`` bounds the TCP connection but not
    the handshake that follows, so a listener that accepts and never answers (or an
    HTTP server) would hang it for ever.  Here the whole exchange, connection,
    handshake and an ``identity`` request, runs under one deadline, in an event loop
    of its own (so this works inside a notebook's running loop too).
    """
    from distributed.comm import connect

    async def identity() -> object:
        comm = await connect(address, timeout=timeout)
        try:
            await comm.write({"op": "identity", "reply": True})
            return await comm.read()
        finally:
            comm.abort()

    def ask() -> object:
        return asyncio.run(asyncio.wait_for(identity(), timeout))

    def fail(reason: str) -> UsageError:
        return UsageError(f"cannot reach the Dask scheduler at {address}: {reason}",
                          hint="check the address, and that a scheduler ('dask scheduler') "
                               "runs there and accepts this machine")

    pool = cf.ThreadPoolExecutor(1, thread_name_prefix="sim-dask-probe")
    try:
        reply = pool.submit(ask).result()
    except TimeoutError:
        raise fail(f"no answer within {timeout:g} s") from None
    except Exception as exc:  # noqa: BLE001 - whatever else answered is no scheduler
        reason = " ".join(str(exc).split()) or type(exc).__name__
        raise fail(reason if len(reason) <= 120 else reason[:117] + "...") from None
    finally:
        pool.shutdown(wait=False)  # the probe ends by its own deadline, even after Ctrl-C
    kind = reply.get("type") if isinstance(reply, dict) else None
    if kind != "Scheduler":
        raise fail(f"a Dask {kind} answered, not a scheduler" if isinstance(kind, str)
                   else "what answered is not a Dask scheduler")


class SerialExecutor(cf.Executor):
    """Runs each task in this process when it is submitted; returns a finished future.

    An exception of the task is kept in its future (raised by ``result()``), as in a
    pool; an interrupt (``KeyboardInterrupt``) is not caught.
    """

    workers = 1

    def submit(self, fn: Callable[..., T], /, *args: Any, **kwargs: Any) -> cf.Future[T]:
        future: cf.Future[T] = cf.Future()
        try:
            future.set_result(fn(*args, **kwargs))
        except Exception as exc:  # noqa: BLE001 - handed to whoever reads the result
            future.set_exception(exc)
        return future


class ThreadPool(cf.ThreadPoolExecutor):
    """Threads of this process, ``workers`` of them (default: one per core).

    Nothing starts and nothing is pickled, so it pays even for a short run.  The model's
    array arithmetic releases the GIL most of the time (about 70% on the baseline),
    which lets two threads use two cores: 10^6 worlds of the baseline ran in 0.77 s on
    2 threads against 1.72 s serially (issue 11).  Each task must be thread-safe;
    :func:`sim.engine.simulate_chunk` is (its model, streams and arrays are its own).
    """

    def __init__(self, workers: int | None = None):
        self.workers = workers or os.cpu_count() or 1
        super().__init__(max_workers=self.workers, thread_name_prefix="sim-worker")

    def submit(self, fn: Callable[..., T], /, *args: Any, **kwargs: Any) -> cf.Future[T]:
        """Run ``fn`` in the caller's context (its ``numpy.errstate``, for one), as a
        serial run would."""
        context = contextvars.copy_context()
        return super().submit(context.run, fn, *args, **kwargs)


class ProcessPool(cf.ProcessPoolExecutor):
    """A local ``ProcessPoolExecutor`` of ``workers`` processes (default: one per core),
    started by forkserver (spawn where there is none): never fork, since the caller may
    have threads (progress bars, a notebook's kernel, Dask), and forking a threaded
    process can deadlock the child."""

    def __init__(self, workers: int | None = None,
                 initializer: Callable[..., object] | None = None, initargs: tuple = ()):
        self.workers = workers or os.cpu_count() or 1
        context = mp.get_context("forkserver" if "forkserver" in mp.get_all_start_methods()
                                 else "spawn")
        super().__init__(max_workers=self.workers, mp_context=context,
                         initializer=initializer, initargs=initargs)


class DaskExecutor(cf.Executor):
    """Dask distributed, through ``Client.get_executor()``: a local cluster of
    ``workers`` processes by default, or an existing scheduler by ``scheduler`` address.
    Shutting it down closes the client (and the local cluster it started)."""

    def __init__(self, workers: int | None = None, scheduler: str | None = None):
        try:
            from dask.distributed import Client, LocalCluster
        except ImportError:
            raise UsageError("the dask executor needs dask[distributed]",
                             hint="pip install 'dask[distributed]' (or the [distributed] "
                                  "extra of this project)") from None
        self._cluster = None
        try:
            if scheduler:
                probe_scheduler(scheduler, CONNECT_TIMEOUT)
                self._client = Client(scheduler, timeout=f"{CONNECT_TIMEOUT}s")
            else:
                # Dask sets MALLOC_TRIM_THRESHOLD_ in its workers to hand memory back to the
                # OS; that turns off glibc's adaptive mmap threshold, so every large numpy
                # array is mapped and unmapped afresh, which halves the model's speed.  The
                # model's memory is bounded by its chunk size, so keep glibc's default.
                import dask

                environ = {k: v for k, v in
                           dask.config.get("distributed.nanny.pre-spawn-environ").items()
                           if k != "MALLOC_TRIM_THRESHOLD_"}
                with dask.config.set({"distributed.nanny.pre-spawn-environ": environ}):
                    self._cluster = LocalCluster(n_workers=workers or os.cpu_count() or 1,
                                                 threads_per_worker=1, processes=True,
                                                 dashboard_address=None, host="127.0.0.1",
                                                 silence_logs=logging.ERROR)
                self._client = Client(self._cluster)
        except (OSError, TimeoutError, ValueError) as exc:
            reason = " ".join(str(exc).split()) or type(exc).__name__
            raise UsageError(f"cannot reach the Dask scheduler at {scheduler}: {reason}",
                             hint="check the address (e.g. tcp://host:8786)") from None
        # pure=False: every task runs, even one that repeats another's arguments
        self._executor = self._client.get_executor(pure=False)
        self.workers = max(1, len(self._client.scheduler_info().get("workers", {})))

    def submit(self, fn: Callable[..., T], /, *args: Any, **kwargs: Any) -> cf.Future[T]:
        return self._executor.submit(fn, *args, **kwargs)

    def shutdown(self, wait: bool = True, *, cancel_futures: bool = False) -> None:
        self._executor.shutdown(wait=wait and not cancel_futures)
        self._client.close()
        if self._cluster is not None:
            self._cluster.close()


def make_executor(kind: str = "serial", workers: int | None = None,
                  scheduler: str | None = None,
                  ) -> SerialExecutor | ThreadPool | ProcessPool | DaskExecutor:
    """An executor by name, ``serial``, ``threads``, ``processes`` or ``dask``, to use as
    a context manager; the arguments are checked (one-line :class:`UsageError`) before
    anything is started."""
    if kind not in EXECUTORS:
        raise UsageError(f"unknown executor {kind!r}", hint=f"use one of {', '.join(EXECUTORS)}")
    if workers is not None and (isinstance(workers, bool) or not isinstance(workers, int)
                                or workers < 1):
        raise UsageError(f"workers must be a whole number >= 1, got {workers!r}")
    if workers is not None and workers > max_workers():
        raise UsageError(f"workers must be at most {max_workers()} ({WORKERS_PER_CORE} per core "
                         f"on this machine), got {workers:,}",
                         hint="leave --workers out to use one per core")
    if scheduler is not None and kind != "dask":
        raise UsageError("a scheduler address needs the dask executor",
                         hint="add --executor dask")
    if workers is not None and kind == "serial":
        raise UsageError("workers need the processes or dask executor (or threads)",
                         hint="add --executor processes")
    if scheduler is not None:
        check_scheduler_address(scheduler)
        if workers is not None:
            raise UsageError("workers cannot be set for an existing Dask cluster: its "
                             "scheduler has its own", hint="leave --workers out with --scheduler")
    if kind == "serial":
        return SerialExecutor()
    if kind == "threads":
        return ThreadPool(workers)
    if kind == "processes":
        return ProcessPool(workers)
    return DaskExecutor(workers, scheduler)


def worker_count(executor: cf.Executor) -> int:
    """How many tasks ``executor`` runs at once (1 if it does not say)."""
    count = getattr(executor, "workers", None) or getattr(executor, "_max_workers", None)
    return int(count or 1)


def completed(value: T) -> cf.Future[T]:
    """A future that already holds ``value`` (e.g. a result read back from disk), for
    :func:`in_order`."""
    future: cf.Future[T] = cf.Future()
    future.set_result(value)
    return future


def in_order(executor: cf.Executor, fn: Callable[..., T], calls: Iterable[tuple | cf.Future],
             *, ahead: int | None = None, progress: bool | None = None,
             amount: Callable[[T], int] | None = None, **bar: Any) -> Generator[T, None, None]:
    """Run ``fn(*args)`` for each ``args`` of ``calls`` on ``executor``; yield the results
    in the order of ``calls``.

    Parameters
    ----------
    executor : concurrent.futures.Executor
        From :func:`make_executor` (or any other).
    fn : callable
        The task; with a process pool or Dask, a module-level function.
    calls : iterable
        Argument tuples, read lazily as the window moves; an item may instead be a
        future already made (:func:`completed`), which is yielded in its place.
    ahead : int, optional
        Tasks submitted ahead of the one awaited: twice the executor's workers by
        default, 1 for :class:`SerialExecutor`, whose tasks then run one at a time as
        the results are taken (so its progress bar moves, and a consumer that stops
        early wastes no task).
    progress : bool, optional
        Show a progress bar (``tqdm``): ``False`` never, ``None`` after 2 s.
    amount : callable, optional
        How far a result moves the bar (default 1 per task).
    **bar
        Passed to ``tqdm``: ``total``, ``unit``, ``desc``, ``unit_scale``, ...

    Yields
    ------
    Each task's result, in the order of ``calls``.  When the consumer stops (``break``,
    an exception), tasks not yet started are cancelled.  The first task to fail raises
    its exception here, in order.
    """
    from tqdm.auto import tqdm

    if ahead is None:
        ahead = 1 if isinstance(executor, SerialExecutor) else 2 * worker_count(executor)
    if ahead < 1:
        raise ValueError("ahead must be >= 1")
    queue: deque[cf.Future] = deque()
    pending = iter(calls)
    more = True
    bar.setdefault("delay", 2.0)
    bar.setdefault("leave", False)
    try:
        with tqdm(disable=progress is False, **bar) as shown:
            while True:
                while more and len(queue) < ahead:
                    call = next(pending, None)
                    if call is None:
                        more = False
                    else:
                        queue.append(call if isinstance(call, cf.Future)
                                     else executor.submit(fn, *call))
                if not queue:
                    return
                result = queue.popleft().result()
                shown.update(1 if amount is None else amount(result))
                yield result
    finally:
        for future in queue:
            future.cancel()
