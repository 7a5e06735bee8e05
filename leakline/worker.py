"""The worker process of `leakline serve`: intake, responders, outbox sender and scheduler.

It runs apart from the listener, at a lower CPU priority, so that a burst of reports is
accepted (and fsynced) at the listener's full speed while cases are made just behind it.
"""

from __future__ import annotations

import asyncio
import logging
import multiprocessing
import os
import threading

from leakline.config import Config

log = logging.getLogger("leakline.worker")
POLL_SECONDS = 1.0
NICENESS = 19


class WorkerProcess:
    """The listener's handle on its worker: start, wake after each commit, stop, restart."""

    def __init__(self, config: Config):
        self.config = config
        self._ctx = multiprocessing.get_context("spawn")
        self.wake_event = self._ctx.Event()
        self.stop_event = self._ctx.Event()
        self.process: multiprocessing.Process | None = None

    def start(self) -> None:
        self.process = self._ctx.Process(
            target=worker_main, name="leakline-worker", daemon=True,
            args=(self.config, self.wake_event, self.stop_event, os.getpid()))
        self.process.start()

    def wake(self) -> None:
        self.wake_event.set()

    def ensure_running(self) -> None:
        if self.process is not None and not self.process.is_alive() and not self.stop_event.is_set():
            log.error("worker exited with %s; restarting it", self.process.exitcode)
            self.start()

    def stop(self, timeout: float = 30) -> None:
        self.stop_event.set()
        self.wake_event.set()
        if self.process is not None:
            self.process.join(timeout)
            if self.process.is_alive():
                self.process.kill()
                self.process.join()
            self.process.close()
            self.process = None


def worker_main(config: Config, wake, stop, parent_pid: int) -> None:
    from leakline.app import App

    logging.basicConfig(level=logging.INFO,
                        format="%(asctime)s %(name)s %(levelname)s %(message)s")
    _yield_cpu_to_listener()
    from leakline.cli import run_event_loop

    app = App(config)
    app.prepare()
    run_event_loop(_run(app, wake, stop, parent_pid))


def _yield_cpu_to_listener() -> None:
    """Run only on CPU time the listener leaves idle: acceptance is never slowed by intake."""
    try:
        os.sched_setscheduler(0, os.SCHED_IDLE, os.sched_param(0))
        return
    except (AttributeError, OSError):
        pass
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
    while not stop.is_set() and os.getppid() == parent_pid:
        wake.clear()  # before draining: a wake during the drain means drain again
        try:
            app.pipeline.drain()
        except Exception:
            log.exception("intake pass failed; will retry")
        wake.wait(POLL_SECONDS)
