"""No import cycles among the project's modules (issue 13), read from the source with ast.

Two graphs over leakline/, intake/, responders/, store/, templates/ and server.py:
- what runs when a module is imported (module level, class bodies, if/try blocks; not function
  bodies, `if __name__ == "__main__":` or `if TYPE_CHECKING:`): no cycle at all;
- every import, deferred ones in function bodies too: no cycle but the few listed in DEFERRED,
  each with its reason, so that no new one comes in unseen. The CLI is a leaf: nothing but the
  CLI's own modules imports it, and its modules never import leakline.cli, its entry point.
"""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("leakline", "intake", "responders", "store", "templates")
MAPPED = PACKAGES[1:]  # installed as leakline.intake, … (symlinks in leakline/)

# Cycles made only by imports deferred into function bodies, known and left as they are.
DEFERRED = {
    # store internals (the store half of issue 13 owns them): rebuild and repair helpers, and
    # the unit of work that hands itself to its Units.
    frozenset({"leakline.store.cases", "leakline.store.health"}),
    frozenset({"leakline.store.records", "leakline.store.unit", "leakline.store.units"}),
    # the package's facade re-exports decisions, whose migrate/reassess wrappers call back into it
    frozenset({"leakline.process", "leakline.process.decisions"}),
    # kindmodel's training entry point (python -m) normalises text as extraction does
    frozenset({"leakline.process.extract", "leakline.process.kindmodel"}),
    # the one-organisation config builds its organisation table on demand
    frozenset({"leakline.config", "leakline.config_orgs"}),
    # a PostgreSQL Database checks its schema at first use; the migrations run on a Database
    frozenset({"leakline.store.pg.db", "leakline.store.pg.schema"}),
}


def modules() -> dict[str, Path]:
    """Every module by its installed name: the top-level folders and server.py are mapped under
    leakline. (the symlinks in leakline/ that map them are not walked twice)."""
    found = {"leakline.server": ROOT / "server.py"}
    for package in PACKAGES:
        for path in (ROOT / package).rglob("*.py"):
            rel = path.relative_to(ROOT)
            if package == "leakline" and (rel.parts[1] in MAPPED or rel.parts[1] == "server.py"):
                continue
            parts = rel.with_suffix("").parts
            name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
            found[name if package == "leakline" else f"leakline.{name}"] = path
    return found


def _type_checking(node: ast.AST) -> bool:
    return isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test)


def _script_main(node: ast.AST) -> bool:
    """`if __name__ == "__main__":` runs only when the module is run as a program."""
    return isinstance(node, ast.If) and "__name__" in ast.unparse(node.test)


def _imports(tree: ast.AST, deferred: bool):
    """The Import/ImportFrom nodes of `tree`; those in function bodies only when `deferred`."""
    stack = list(ast.iter_child_nodes(tree))
    while stack:
        node = stack.pop()
        if _type_checking(node):
            continue
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)) or \
                _script_main(node):
            if not deferred:
                continue
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            yield node
        stack.extend(ast.iter_child_nodes(node))


def graph(deferred: bool) -> dict[str, set[str]]:
    known = modules()

    def resolve(name: str) -> str | None:
        while name and name not in known:
            name = name.rpartition(".")[0]
        return name or None

    edges: dict[str, set[str]] = {}
    for name, path in known.items():
        package = name if path.name == "__init__.py" else name.rpartition(".")[0]
        targets: set[str | None] = set()
        for node in _imports(ast.parse(path.read_text(encoding="utf-8")), deferred):
            if isinstance(node, ast.Import):
                targets |= {resolve(alias.name) for alias in node.names}
                continue
            base = node.module or ""
            if node.level:
                parts = package.split(".")[:len(package.split(".")) - node.level + 1]
                base = ".".join(parts + ([node.module] if node.module else []))
            targets |= {resolve(f"{base}.{alias.name}") if f"{base}.{alias.name}" in known
                        else resolve(base) for alias in node.names}
        edges[name] = {t for t in targets if t and t != name}
    return edges


def cycles(edges: dict[str, set[str]]) -> list[frozenset[str]]:
    """The strongly connected components of more than one module (Tarjan, iteratively)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[frozenset[str]] = []
    for root in sorted(edges):
        if root in index:
            continue
        work = [(root, iter(sorted(edges[root])))]
        index[root] = low[root] = len(index)
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = len(index)
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(edges.get(child, ())))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                component = set()
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.add(member)
                    if member == node:
                        break
                if len(component) > 1:
                    found.append(frozenset(component))
    return found


def test_the_walk_finds_a_cycle():
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [frozenset("abc")]
    assert cycles({"a": {"b"}, "b": set()}) == []


def test_the_graph_sees_the_imports_it_checks():
    """A graph that resolved no import would find no cycle: it must see known edges."""
    edges = graph(deferred=False)
    assert "leakline.store.units" in edges["leakline.store.cases"]
    assert "leakline.intake.processor" in edges["leakline.intake.pipeline"] or \
        any(name.startswith("leakline.intake.") for name in edges["leakline.worker"] |
            edges["leakline.app"])
    assert "leakline.server" in edges and len(edges) > 100


def test_no_module_level_import_cycles():
    assert cycles(graph(deferred=False)) == []


def test_no_import_cycles_but_the_known_deferred_ones():
    unknown = [sorted(c) for c in cycles(graph(deferred=True)) if c not in DEFERRED]
    assert unknown == []


def test_the_cli_is_a_leaf():
    edges = graph(deferred=True)
    cli = {name for name in edges if name == "leakline.cli" or name.startswith("leakline.cli_")}
    entry = {"leakline.__main__"}  # python -m leakline
    assert {name for name in edges if name not in cli | entry and edges[name] & cli} == set()
    assert {name for name in cli if "leakline.cli" in edges[name]} == set()
    assert "leakline.cli" not in edges["leakline.worker"]
