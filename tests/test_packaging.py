"""One installed namespace (issue 13): `pip install .` adds only the `leakline` package.

The repository keeps server.py, intake/, store/, responders/ and templates/ at the top (the
project's card); symlinks in leakline/ map them to leakline.server, leakline.intake, … and the
wheel holds real files under leakline/.
"""

from __future__ import annotations

import ast
import subprocess
import sys
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TOP_LEVEL = {"intake", "store", "responders", "templates", "server"}


def test_the_wheel_holds_only_the_leakline_package_with_its_templates(tmp_path):
    built = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--quiet",
                            "--wheel-dir", str(tmp_path), str(ROOT)],
                           capture_output=True, text=True, timeout=300)
    assert built.returncode == 0, built.stderr[-2000:]
    (wheel,) = tmp_path.glob("leakline-*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    tops = {name.split("/", 1)[0] for name in names}
    assert {top for top in tops if not top.endswith(".dist-info")} == {"leakline"}
    for module in ("leakline/server.py", "leakline/intake/parse.py", "leakline/store/units.py",
                   "leakline/responders/react.py", "leakline/delivery/compose.py",
                   "leakline/templates/__init__.py", "leakline/templates/ja/guidance.txt.j2",
                   "leakline/process/kindmodel.json.gz", "leakline/sample.toml",
                   "leakline/store/pg/migrations/0001_initial.sql"):
        assert module in names, module


def _imports(path: Path):
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            yield node.module


def test_no_module_imports_a_top_level_folder_by_its_bare_name():
    """Only leakline.intake etc.: a bare `import intake` would work from a checkout and fail
    once installed (and would load a second copy of the module beside leakline.intake)."""
    sources = [p for folder in ("leakline", "tests", "bench", *sorted(TOP_LEVEL - {"server"}))
               for p in (ROOT / folder).rglob("*.py")
               if not p.relative_to(ROOT).parts[1:2] or
               p.relative_to(ROOT).parts[:2] not in {("leakline", name) for name in TOP_LEVEL}]
    sources.append(ROOT / "server.py")
    bare = [f"{path.relative_to(ROOT)}: {name}" for path in sources for name in _imports(path)
            if name.split(".")[0] in TOP_LEVEL]
    assert not bare
