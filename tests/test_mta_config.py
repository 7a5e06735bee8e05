"""tests/mta_config.py: the deploy guide's Postfix snippets, printed and checked against a file."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import mta_config as cf

ROOT = Path(__file__).resolve().parent.parent
# A field left unfilled; Postfix's own ${sender} and ${recipient} (pipe(8)) are not fields.
UNFILLED = re.compile(r"(?<!\$)\{")


def guide() -> str:
    done = subprocess.run([sys.executable, "-m", "tests.mta_config", "--print"], cwd=ROOT,
                          capture_output=True, text=True, timeout=60, check=True)
    return done.stdout


def test_print_shows_every_shipped_snippet_with_the_example_values():
    printed = guide()
    for snippet in cf.shipped():
        assert snippet.render(**cf.EXAMPLE) in printed
        assert f"# {snippet.where(**cf.EXAMPLE)}: {snippet.purpose}" in printed
    # The guide's incident address is on a subdomain of its own (docs/deploy.md, DNS).
    assert "incident@privacy.example.co.jp leakline-nodes:[10.0.0.11]:8025, [10.0.0.12]:8025\n" in printed
    assert not UNFILLED.search(printed) and "outbound-trap" not in printed  # filled; no test parts


def test_check_passes_a_guide_with_the_snippets_and_names_what_drifted(tmp_path):
    deploy = tmp_path / "deploy.md"
    deploy.write_text("# Deploy\n\n```\n" + guide() + "```\n", encoding="utf-8")
    assert cf.main(["--check", str(deploy)]) == 0
    # One option hand-edited in the guide: the check names the snippet.
    deploy.write_text(deploy.read_text().replace("permit_mynetworks,reject\n  -o smtpd_reject",
                                                 "permit_mynetworks\n  -o smtpd_reject"))
    assert cf.missing_from(deploy.read_text()) == ["outbound-master"]
    assert cf.main(["--check", str(deploy)]) == 1


def test_every_snippet_fills_from_the_test_values_and_names_are_unique():
    assert len({s.name for s in cf.SNIPPETS}) == len(cf.SNIPPETS)
    values = dict(cf.EXAMPLE, root="/r", uid="1", gid="1", inbound_listen="127.0.0.1:25")
    for snippet in cf.SNIPPETS:
        assert not UNFILLED.search(snippet.render(**values) + snippet.where(**values)), snippet.name
