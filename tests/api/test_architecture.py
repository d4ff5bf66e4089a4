"""The house rules of docs/architecture.md hold: the import contracts in pyproject.toml are
kept, and no module imports itself by a way round (no import cycle anywhere)."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable, Iterable
from pathlib import Path

import grimp

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("bridge", "adapters", "schemas", "simulators")


def strongly_connected(
    nodes: Iterable[str], edges: Callable[[str], Iterable[str]]
) -> list[list[str]]:
    """Tarjan's strongly connected components (iterative), each sorted, only those that are a
    cycle: more than one node, or one node importing itself."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    on_stack: set[str] = set()
    stack: list[str] = []
    found: list[list[str]] = []
    for root in sorted(nodes):
        if root in index:
            continue
        work = [(root, iter(sorted(edges(root))))]
        index[root] = low[root] = len(index)
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is None:
                work.pop()
                if work:
                    low[work[-1][0]] = min(low[work[-1][0]], low[node])
                if low[node] == index[node]:
                    component = []
                    while True:
                        member = stack.pop()
                        on_stack.discard(member)
                        component.append(member)
                        if member == node:
                            break
                    if len(component) > 1 or node in edges(node):
                        found.append(sorted(component))
            elif child not in index:
                index[child] = low[child] = len(index)
                stack.append(child)
                on_stack.add(child)
                work.append((child, iter(sorted(edges(child)))))
            elif child in on_stack:
                low[node] = min(low[node], index[child])
    return found


def import_cycles(graph: grimp.ImportGraph) -> list[list[str]]:
    return strongly_connected(graph.modules, graph.find_modules_directly_imported_by)


def describe(graph: grimp.ImportGraph, cycle: list[str]) -> str:
    """The modules of one cycle, and one way round it (module by module) to fix it by."""
    members = set(cycle)
    start = cycle[0]
    way = ""
    for first in sorted(graph.find_modules_directly_imported_by(start) & members):
        back = graph.find_shortest_chain(importer=first, imported=start)
        if back is not None:
            way = " -> ".join((start, *back))
            break
    return f"{len(cycle)} modules ({', '.join(cycle)}), e.g. {way}"


def test_strongly_connected_finds_cycles_and_only_cycles() -> None:
    """A ring of three and a self-import are cycles; a chain and a diamond are not."""
    edges = {
        "a": {"b"},
        "b": {"c"},
        "c": {"a", "d"},
        "d": {"e", "f"},
        "e": {"g"},
        "f": {"g"},
        "g": set(),
        "s": {"s"},
    }
    assert strongly_connected(edges, lambda n: edges[n]) == [["a", "b", "c"], ["s"]]
    del edges["c"]
    edges["c"] = {"d"}
    assert strongly_connected(edges, lambda n: edges[n]) == [["s"]]


def test_no_import_cycle() -> None:
    """No module of ours imports itself by a way round, function-level imports included
    (imports only a type checker reads are not imports at run time)."""
    graph = grimp.build_graph(*PACKAGES, exclude_type_checking_imports=True, cache_dir=None)
    cycles = import_cycles(graph)
    assert not cycles, "import cycles:\n" + "\n".join(describe(graph, c) for c in cycles)


def test_import_contracts_are_kept() -> None:
    """The contracts of `[tool.importlinter]` (layers, plugins, simulators apart) hold."""
    lint = Path(sys.executable).parent / "lint-imports"
    result = subprocess.run(
        [str(lint), "--no-cache"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stdout[-6000:] + result.stderr[-2000:]
    assert "0 broken" in result.stdout
