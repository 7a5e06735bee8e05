"""The README's quick start and officer tour, run as a new user would: a real `leakline serve`,
the README's own Python snippet, then each tour command, through the real CLI."""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

from conftest import free_port, wait_for
from test_flow_harness import read_maildir

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text(encoding="utf-8")


def snippet() -> str:
    """The Python of the quick start's `python - <<'EOF' ... EOF`."""
    return re.search(r"python - <<'EOF'\n(.*?)\nEOF\n", README, re.S).group(1)


def tour() -> tuple[dict, list[list[str]]]:
    """The tour's environment and its leakline commands, as argument lists."""
    block = README[README.index("    export LEAKLINE_USER="):].split("\n\n")[0]
    env, commands = {}, []
    for line in block.splitlines():
        words = shlex.split(line, comments=True)
        if words[0] == "export":
            key, _, value = words[1].partition("=")
            env[key] = value
        else:
            assert words[0] == "leakline", line
            commands.append(words[1:])
    return env, commands


def test_the_first_two_commands_are_set_up_and_tests():
    blocks = re.findall(r"^    (\S.*)$", README, re.M)
    assert blocks[:2] == ["pip install . && leakline serve", "pip install '.[test]' && python -m pytest"]


def test_the_quick_start_and_the_officer_tour_work_on_a_fresh_install(tmp_path):
    port = free_port()
    (tmp_path / "leakline.toml").write_text(f'[service]\nlisten = "127.0.0.1:{port}"\n')
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    env.pop("LEAKLINE_CONFIG", None)
    serve = subprocess.Popen([sys.executable, "-m", "leakline", "serve"], cwd=tmp_path, env=env,
                             stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, bufsize=0)
    try:
        assert b"listening" in serve.stdout.readline()
        sent = subprocess.run([sys.executable, "-c", snippet().replace("8025", str(port))],
                              cwd=tmp_path, capture_output=True, text=True, timeout=60)
        assert sent.returncode == 0, sent.stderr
        mail = wait_for(lambda: len(found := read_maildir(tmp_path / "leakline-data" / "mail-out")) >= 2
                        and found, timeout=30)
    finally:
        serve.terminate()
        out, _ = serve.communicate(timeout=60)
    assert "privacy@example.com" in out.decode() and "mail-out" in out.decode()
    guidance = next(m for m in mail if m.envelope_to == ("taro@example.com",))
    assert guidance.msg["X-Leakline-Case"], "an internal reporter gets the guidance, not a receipt"
    case_id = guidance.msg["X-Leakline-Case"]

    tour_env, commands = tour()
    assert [c[:2] for c in commands] == [["cases", "list"], ["cases", "show"], ["cases", "ack"],
                                         ["cases", "assess"], ["phase", "close"], ["report", "INC-2026-0001"]]
    outputs = []
    for args in commands:
        args = [case_id if a == "INC-2026-0001" else a for a in args]
        result = subprocess.run([sys.executable, "-m", "leakline", *args], cwd=tmp_path,
                                env={**env, **tour_env}, capture_output=True, text=True, timeout=60)
        assert result.returncode == 0, (args, result.stderr)
        outputs.append(result.stdout)
    listed, shown, acked, assessed, closed, drafted = outputs
    assert re.search(rf"{case_id}\s+open\s+NO\s+yes\s+", listed)  # 1,200 persons: T4
    assert "規則第7条第4号（1,000人を超える漏えい等）" in shown
    assert acked == f"{case_id} acknowledged by privacy@example.com\n"
    assert "triggers T4; PPC report required" in assessed
    assert closed == f"{case_id}: containment closed\n"
    assert "個人データの漏えい等事案に関する報告（速報）" in drafted
