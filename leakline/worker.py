"""The worker processes of `leakline serve`: one makes cases, one delivers mail and keeps time.

- intake: drains the spool, one unit of work a batch (intake, responders);
- delivery: the outbox sender and the scheduler (escalations, reminders).

Two processes, not two threads of one: each report costs milliseconds of Python in intake and
again in delivery, and one process runs Python on one core at a time. Both run apart from the
listener, at a lower CPU priority, so that a burst of reports is accepted (and fsynced) at the
listener's full speed while cases are made and answered just behind it.
"""

from __future__ import annotations

import asyncio
import logging
import multiprocessing
import os
import select
import signal

from leakline import errorlog
from leakline.config import Config

log = logging.getLogger("leakline.worker")
POLL_SECONDS = 1.0
NICENESS = 10  # CFS weight 110 against the listener's 1024


class WorkerProcess:
    """The listener's handle on its workers: start, wake after each commit, stop, restart.

    Wake-ups go through pipes, one byte each, never blocking the writer: a multiprocessing
    Event would hang set() forever once a worker died while waiting on it (Ctrl-C reaches the
    whole process group). The listener wakes intake; intake wakes delivery when it queued mail
    (the listener keeps that pipe open, so either worker can be restarted alone).
    """

    def __init__(self, config: Config):
        self.config = config
        self._ctx = multiprocessing.get_context("spawn")
        self.stop_event = self._ctx.Event()  # only polled by the workers, never waited on
        self.process: multiprocessing.Process | None = None  # intake
        self.delivery: multiprocessing.Process | None = None
        self._wake_writer = None
        self._mail_reader, self._mail_writer = self._ctx.Pipe(duplex=False)
        os.set_blocking(self._mail_writer.fileno(), False)

    def start(self) -> None:
        self._start_intake()
        self._start_delivery()

    def _start_intake(self) -> None:
        reader, writer = self._ctx.Pipe(duplex=False)
        os.set_blocking(writer.fileno(), False)
        self.process = self._ctx.Process(
            target=intake_main, name="leakline-intake", daemon=True,
            args=(self.config, reader, self._mail_writer, self.stop_event, os.getpid()))
        self.process.start()
        reader.close()
        if self._wake_writer is not None:
            self._wake_writer.close()
        self._wake_writer = writer

    def _start_delivery(self) -> None:
        self.delivery = self._ctx.Process(
            target=delivery_main, name="leakline-delivery", daemon=True,
            args=(self.config, self._mail_reader, self.stop_event, os.getpid()))
        self.delivery.start()

    def wake(self) -> None:
        try:
            os.write(self._wake_writer.fileno(), b"w")
        except (BlockingIOError, BrokenPipeError, OSError, AttributeError):
            pass  # a full pipe already means "wake"; a dead worker is restarted by ensure_running

    def ensure_running(self) -> None:
        if self.stop_event.is_set():
            return
        if self.process is not None and not self.process.is_alive():
            log.error("intake worker exited with %s; restarting it", self.process.exitcode)
            self._start_intake()
        if self.delivery is not None and not self.delivery.is_alive():
            log.error("delivery worker exited with %s; restarting it", self.delivery.exitcode)
            self._start_delivery()

    def stop(self, timeout: float = 30) -> None:
        self.stop_event.set()
        if self._wake_writer is not None:
            self._wake_writer.close()  # intake sees end-of-file: wake up and stop
            self._wake_writer = None
        for name in ("process", "delivery"):
            process = getattr(self, name)
            if process is not None:
                process.join(timeout)
                if process.is_alive():
                    process.kill()
                    process.join()
                process.close()
                setattr(self, name, None)
        for end in (self._mail_reader, self._mail_writer):
            end.close()


def _child_setup(role: str) -> None:
    try:  # `ps` and `top` then say which worker is which (Linux; 15 characters at most)
        with open("/proc/self/comm", "w") as fh:
            fh.write(f"leakline-{role}"[:15])
    except OSError:
        pass
    # The listener decides when to stop; Ctrl-C and SIGTERM reach the whole process group.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    logging.basicConfig(level=logging.INFO,
                        format="%(asctime)s %(name)s %(levelname)s %(message)s")
    _yield_cpu_to_listener()


def _yield_cpu_to_listener() -> None:
    """A lower priority than the listener's: where both want one core, acceptance comes first.

    Not SCHED_IDLE (issue 13): that ran intake only on CPU time nobody else wanted, so any other
    process (a monitor polling `cases list`, another service) stopped cases from being made.
    """
    try:
        os.nice(NICENESS)
    except OSError:
        pass


def intake_main(config: Config, wake, mail_wake, stop, parent_pid: int) -> None:
    from leakline.app import App

    _child_setup("intake")
    errorlog.install(config.service.data_dir, "intake")
    app = App(config)
    app.prepare()
    mail_fd = mail_wake.fileno()

    def mail_queued() -> None:
        try:
            os.write(mail_fd, b"m")
        except OSError:
            pass  # a full pipe already means "wake"; delivery also looks every 30 s
    app.on_mail_queued = mail_queued
    fd = wake.fileno()
    # On a shared database: also woken by mail another node accepted (LISTEN/NOTIFY).
    waker = app.spool_waker()
    while not stop.is_set() and os.getppid() == parent_pid:
        try:
            app.pipeline.drain()
        except Exception:
            log.exception("intake pass failed; will retry")
        shared = waker.fileno() if waker is not None else None
        readable, _, _ = select.select([fd] + ([shared] if shared is not None else []), [], [],
                                       POLL_SECONDS)
        if shared is not None and shared in readable:
            waker.consume()
        if fd in readable and not os.read(fd, 65536):
            return  # the listener closed its end: stop


def delivery_main(config: Config, mail_wake, stop, parent_pid: int) -> None:
    from leakline.app import App
    from leakline.eventloop import run_event_loop

    _child_setup("sender")
    errorlog.install(config.service.data_dir, "sender")
    app = App(config)
    app.prepare()
    run_event_loop(_deliver(app, mail_wake, stop, parent_pid))


async def _deliver(app, mail_wake, stop, parent_pid: int) -> None:
    loop = asyncio.get_running_loop()
    done = asyncio.Event()
    tasks = [loop.create_task(coro) for coro in app.background_tasks(done)]
    fd = mail_wake.fileno()
    os.set_blocking(fd, False)

    def woken() -> None:
        try:
            os.read(fd, 65536)
        except BlockingIOError:
            return
        app.sender.wake()
    loop.add_reader(fd, woken)
    try:
        while not stop.is_set() and os.getppid() == parent_pid:
            await asyncio.sleep(POLL_SECONDS / 2)
    finally:
        loop.remove_reader(fd)
        done.set()
        await asyncio.gather(*tasks, return_exceptions=True)
