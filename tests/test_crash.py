"""Kill -9 the server mid-stream: every message that got a 250 is in exactly one case entry."""

import hashlib
import os
import signal
import smtplib
import subprocess
import sys
import threading
import time

from conftest import free_port, wait_for
from leakline.app import App
from leakline.config import load
from mailbuilders import plain_mail


def start(config_path):
    proc = subprocess.Popen([sys.executable, "-m", "leakline", "--config", str(config_path), "serve"],
                            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    line = proc.stdout.readline()
    assert b"listening" in line, line
    return proc


def sender(port, start_index, count, accepted, lock):
    for i in range(start_index, start_index + count):
        raw = plain_mail(f"報告 {i}", f"本文 {i}", message_id=f"<crash-{i}@example.com>")
        try:
            with smtplib.SMTP("127.0.0.1", port, timeout=10) as client:
                client.sendmail("taro@example.com", ["incident@example.com"], raw)
        except (OSError, smtplib.SMTPException):
            return  # the server died under us: this message got no 250
        with lock:
            accepted.add(f"<crash-{i}@example.com>")


def kill_mid_stream(tmp_path, target, per_thread: int, at_least: int, accepted) -> object:
    """Four threads send through `target` until `at_least` got a 250, then SIGKILL the server;
    returns the config path for the restart."""
    port = free_port()
    path = tmp_path / "c.toml"
    path.write_text(f'[service]\ndata_dir = "{tmp_path / "data"}"\nlisten = "127.0.0.1:{port}"\n')
    proc = start(path)
    lock = threading.Lock()
    threads = [threading.Thread(target=target, args=(port, t * per_thread, per_thread, accepted, lock))
               for t in range(4)]
    for thread in threads:
        thread.start()
    wait_for(lambda: len(accepted) >= at_least, timeout=120)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    proc.stdout.close()
    for thread in threads:
        thread.join()
    return path


def test_sigkill_mid_stream_loses_and_duplicates_nothing(tmp_path):
    accepted = set()
    path = kill_mid_stream(tmp_path, sender, 100, 120, accepted)
    assert 120 <= len(accepted) < 400

    proc = start(path)
    try:
        app = App(load(path))
        wait_for(lambda: not app.spool.segments(), timeout=60)
        seen = {}
        for case in app.store.cases("all"):
            for message in case["messages"]:
                if message["direction"] == "in":
                    seen[message["message_id"]] = seen.get(message["message_id"], 0) + 1
        assert accepted <= set(seen), f"lost: {sorted(accepted - set(seen))[:5]}"
        assert all(n == 1 for n in seen.values()), "a message was stored twice"
        assert len(app.store.summaries("all")) == len(seen)
    finally:
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=30) == 0
        proc.stdout.close()


def test_sigterm_stops_cleanly(tmp_path):
    path = tmp_path / "c.toml"
    path.write_text(f'[service]\ndata_dir = "{tmp_path / "data"}"\nlisten = "127.0.0.1:{free_port()}"\n')
    proc = start(path)
    proc.send_signal(signal.SIGINT)
    assert proc.wait(timeout=30) == 0
    assert b"stopped" in proc.stdout.read()
    proc.stdout.close()


def test_ctrl_c_to_the_whole_process_group_stops_cleanly(tmp_path):
    """A terminal's Ctrl-C (and `timeout`'s SIGTERM) reach the worker process too."""
    for signum in (signal.SIGINT, signal.SIGTERM):
        path = tmp_path / f"c{signum}.toml"
        path.write_text(f'[service]\ndata_dir = "{tmp_path / "data"}"\nlisten = "127.0.0.1:{free_port()}"\n')
        proc = subprocess.Popen([sys.executable, "-m", "leakline", "--config", str(path), "serve"],
                                stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                                start_new_session=True)
        assert b"listening" in proc.stdout.readline()
        time.sleep(0.5)  # the worker is up and waiting for work
        os.killpg(proc.pid, signum)
        assert proc.wait(timeout=20) == 0
        assert b"stopped" in proc.stdout.read()
        proc.stdout.close()


def big_sender(port, start_index, count, accepted, lock):
    """Messages past the spill threshold: their DATA goes through spool/tmp before the commit."""
    for i in range(start_index, start_index + count):
        raw = plain_mail(f"大きな報告 {i}", f"本文 {i} " + "添付" * 120_000,
                         message_id=f"<big-crash-{i}@example.com>")
        try:
            with smtplib.SMTP("127.0.0.1", port, timeout=20) as client:
                client.sendmail("taro@example.com", ["incident@example.com"], raw)
        except (OSError, smtplib.SMTPException):
            return
        with lock:
            accepted[f"<big-crash-{i}@example.com>"] = hashlib.sha256(raw).hexdigest()


def test_sigkill_while_large_messages_are_spilled_and_committed(tmp_path):
    """The new commit point: a body half in spool/tmp, or copied into a segment not yet renamed,
    is no 250 and leaves nothing behind; every 250 is stored once, byte for byte."""
    accepted = {}
    path = kill_mid_stream(tmp_path, big_sender, 40, 12, accepted)
    assert 12 <= len(accepted) < 160

    proc = start(path)
    try:
        app = App(load(path))
        assert list(app.spool.tmp.iterdir()) == []  # the dead listener's temp files are gone
        wait_for(lambda: not app.spool.segments(), timeout=120)
        stored = {}
        for case in app.store.cases("all"):
            for message in case["messages"]:
                if message["direction"] == "in":
                    assert message["message_id"] not in stored, "stored twice"
                    stored[message["message_id"]] = message["sha256"]
        for message_id, digest in accepted.items():
            assert stored.get(message_id) == digest, f"lost or damaged: {message_id}"
    finally:
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=30) == 0
        proc.stdout.close()
