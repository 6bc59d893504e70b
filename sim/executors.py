"""Where chunks run: in this process, in a local process pool, or on a Dask cluster.

Every executor offers ``submit(fn, *args) -> future`` and ``wait_any(futures)``;
the engine decides what to submit and accepts results in block order, so the
executor can never change a result.
"""

from __future__ import annotations

import concurrent.futures as cf
import logging
import multiprocessing as mp
import os

from .errors import UsageError

EXECUTORS = ("serial", "processes", "dask")


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
                self._client = Client(scheduler, timeout="5s")
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
            raise UsageError(f"cannot reach the Dask scheduler {scheduler!r}: {exc}",
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
    if workers is not None and (not isinstance(workers, int) or workers < 1):
        raise UsageError(f"workers must be a whole number >= 1, got {workers!r}")
    if scheduler is not None and kind != "dask":
        raise UsageError("a scheduler address needs the dask executor",
                         hint="add --executor dask")
    if workers is not None and kind == "serial":
        raise UsageError("workers need the processes or dask executor",
                         hint="add --executor processes")
    if kind == "serial":
        return SerialExecutor()
    if kind == "processes":
        return ProcessExecutor(workers)
    return DaskExecutor(workers, scheduler)
