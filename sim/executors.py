"""Where chunks run: in this process, in a local process pool, or on a Dask cluster.

Every executor offers ``submit(fn, *args) -> future`` and ``wait_any(futures)``;
the engine decides what to submit and accepts results in block order, so the
executor can never change a result.
"""

from __future__ import annotations

import asyncio
import concurrent.futures as cf
import logging
import multiprocessing as mp
import os
import re

from .errors import UsageError

EXECUTORS = ("serial", "processes", "dask")
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


class _Done:
    """An already computed result, shaped like a future."""

    def __init__(self, value):
        self._value = value

    def result(self):
        return self._value


class SerialExecutor:
    workers = 1

    def submit(self, fn, *args):
        return _Done(fn(*args))

    def wait_any(self, futures):
        return list(futures)

    def close(self):
        pass


class ProcessExecutor:
    """A local process pool (the default on a multi-core machine)."""

    def __init__(self, workers: int | None):
        self.workers = workers or os.cpu_count() or 1
        # not fork: the caller may have threads (progress bars, a notebook's kernel, Dask),
        # and forking a threaded process can deadlock the child
        context = mp.get_context("forkserver" if "forkserver" in mp.get_all_start_methods()
                                 else "spawn")
        self._pool = cf.ProcessPoolExecutor(max_workers=self.workers, mp_context=context)

    def submit(self, fn, *args):
        return self._pool.submit(fn, *args)

    def wait_any(self, futures):
        done, _ = cf.wait(futures, return_when=cf.FIRST_COMPLETED)
        return list(done)

    def close(self):
        self._pool.shutdown(wait=True, cancel_futures=True)


class DaskExecutor:
    """Dask distributed: a local cluster by default, or an existing scheduler by address."""

    def __init__(self, workers: int | None, scheduler: str | None):
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
        self.workers = max(1, len(self._client.scheduler_info().get("workers", {})))

    def submit(self, fn, *args):
        return self._client.submit(fn, *args, pure=False)

    def wait_any(self, futures):
        from dask.distributed import wait

        done, _ = wait(futures, return_when="FIRST_COMPLETED")
        return list(done)

    def close(self):
        self._client.close()
        if self._cluster is not None:
            self._cluster.close()


def make_executor(kind: str = "serial", workers: int | None = None,
                  scheduler: str | None = None):
    """An executor by name: ``serial``, ``processes`` or ``dask``."""
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
        raise UsageError("workers need the processes or dask executor",
                         hint="add --executor processes")
    if scheduler is not None:
        check_scheduler_address(scheduler)
        if workers is not None:
            raise UsageError("workers cannot be set for an existing Dask cluster: its "
                             "scheduler has its own", hint="leave --workers out with --scheduler")
    if kind == "serial":
        return SerialExecutor()
    if kind == "processes":
        return ProcessExecutor(workers)
    return DaskExecutor(workers, scheduler)
