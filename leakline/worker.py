"""The worker process of `leakline serve`: intake, responders, outbox sender and scheduler.

It runs apart from the listener, at a lower CPU priority, so that a burst of reports is
accepted (and fsynced) at the listener's full speed while cases are made just behind it.
"""

from __future__ import annotations

import asyncio
import logging
import multiprocessing
import os
import select
import signal
import threading

from leakline.config import Config

log = logging.getLogger("leakline.worker")
POLL_SECONDS = 1.0
NICENESS = 10  # CFS weight 110 against the listener's 1024


class WorkerProcess:
    """The listener's handle on its worker: start, wake after each commit, stop, restart.

    Wake-ups go through a pipe, one byte each, never blocking the listener: a multiprocessing
    Event would hang set() forever once a worker died while waiting on it (Ctrl-C reaches the
    whole process group).
    """

    def __init__(self, config: Config):
        self.config = config
        self._ctx = multiprocessing.get_context("spawn")
        self.stop_event = self._ctx.Event()  # only polled by the worker, never waited on
        self.process: multiprocessing.Process | None = None
        self._wake_writer = None

    def start(self) -> None:
        reader, writer = self._ctx.Pipe(duplex=False)
        os.set_blocking(writer.fileno(), False)
        self.process = self._ctx.Process(
            target=worker_main, name="leakline-worker", daemon=True,
            args=(self.config, reader, self.stop_event, os.getpid()))
        self.process.start()
        reader.close()
        if self._wake_writer is not None:
            self._wake_writer.close()
        self._wake_writer = writer

    def wake(self) -> None:
        try:
            os.write(self._wake_writer.fileno(), b"w")
        except (BlockingIOError, BrokenPipeError, OSError, AttributeError):
            pass  # a full pipe already means "wake"; a dead worker is restarted by ensure_running

    def ensure_running(self) -> None:
        if self.process is not None and not self.process.is_alive() and not self.stop_event.is_set():
            log.error("worker exited with %s; restarting it", self.process.exitcode)
            self.start()

    def stop(self, timeout: float = 30) -> None:
        self.stop_event.set()
        if self._wake_writer is not None:
            self._wake_writer.close()  # the worker sees end-of-file: wake up and stop
            self._wake_writer = None
        if self.process is not None:
            self.process.join(timeout)
            if self.process.is_alive():
                self.process.kill()
                self.process.join()
            self.process.close()
            self.process = None


def worker_main(config: Config, wake, stop, parent_pid: int) -> None:
    from leakline.app import App

    # The listener decides when to stop; Ctrl-C and SIGTERM reach the whole process group.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    logging.basicConfig(level=logging.INFO,
                        format="%(asctime)s %(name)s %(levelname)s %(message)s")
    _yield_cpu_to_listener()
    from leakline.cli import run_event_loop

    app = App(config)
    app.prepare()
    run_event_loop(_run(app, wake, stop, parent_pid))


def _yield_cpu_to_listener() -> None:
    """A lower priority than the listener's: where both want one core, acceptance comes first.

    Not SCHED_IDLE (issue 13): that ran intake only on CPU time nobody else wanted, so any other
    process (a monitor polling `cases list`, another service) stopped cases from being made.
    """
    try:
        os.nice(NICENESS)
    except OSError:
        pass


async def _run(app, wake, stop, parent_pid: int) -> None:
    loop = asyncio.get_running_loop()
    done = asyncio.Event()
    tasks = [loop.create_task(coro) for coro in app.background_tasks(done)]
    drainer = threading.Thread(target=_drain_loop, args=(app, wake, stop, parent_pid),
                               name="leakline-intake", daemon=True)
    drainer.start()
    await loop.run_in_executor(None, drainer.join)
    done.set()
    await asyncio.gather(*tasks, return_exceptions=True)


def _drain_loop(app, wake, stop, parent_pid: int) -> None:
    fd = wake.fileno()
    while not stop.is_set() and os.getppid() == parent_pid:
        try:
            app.pipeline.drain()
        except Exception:
            log.exception("intake pass failed; will retry")
        readable, _, _ = select.select([fd], [], [], POLL_SECONDS)
        if readable and not os.read(fd, 65536):
            return  # the listener closed its end: stop
