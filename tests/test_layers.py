"""No import cycles in skroute, function-level imports included.

The layers themselves are import-linter contracts in ``pyproject.toml``
(``lint-imports``); these tests read the same import graph (grimp's, which
counts imports inside functions as imports) and print a cycle when one exists.
"""

from collections import deque

import pytest

grimp = pytest.importorskip("grimp")


@pytest.fixture(scope="module")
def graph():
    # Read the sources afresh: no cache written into the tree.
    return grimp.build_graph("skroute", cache_dir=None)


def _components(adjacency):
    """Strongly connected components of more than one node (Tarjan, iterative)."""
    index, low, on_stack, stack, found = {}, {}, set(), [], []
    for root in sorted(adjacency):
        if root in index:
            continue
        work = [(root, iter(sorted(adjacency[root])))]
        index[root] = low[root] = len(index)
        stack.append(root)
        on_stack.add(root)
        while work:
            node, successors = work[-1]
            for successor in successors:
                if successor not in index:
                    index[successor] = low[successor] = len(index)
                    stack.append(successor)
                    on_stack.add(successor)
                    work.append((successor, iter(sorted(adjacency[successor]))))
                    break
                if successor in on_stack:
                    low[node] = min(low[node], index[successor])
            else:
                work.pop()
                if work:
                    parent = work[-1][0]
                    low[parent] = min(low[parent], low[node])
                if low[node] == index[node]:
                    component = set()
                    while True:
                        member = stack.pop()
                        on_stack.discard(member)
                        component.add(member)
                        if member == node:
                            break
                    if len(component) > 1:
                        found.append(component)
    return found


def _cycle(adjacency, component):
    """One shortest cycle through the first node of ``component``, as a path."""
    start = min(component)
    previous = {start: None}
    queue = deque([start])
    while queue:
        node = queue.popleft()
        for successor in sorted(adjacency[node] & component):
            if successor == start:
                path = [node]
                while previous[path[-1]] is not None:
                    path.append(previous[path[-1]])
                return [start, *reversed(path[:-1]), start]
            if successor not in previous:
                previous[successor] = node
                queue.append(successor)
    raise AssertionError(f"no cycle through {start}")


def _module_graph(graph):
    return {m: set(graph.find_modules_directly_imported_by(m)) for m in graph.modules}


def _package(module):
    """The layer a module belongs to: ``skroute.<name>``, or the root itself."""
    return ".".join(module.split(".")[:2])


def _package_graph(graph):
    """Imports between skroute's top-level packages, and one module import each."""
    adjacency, witness = {}, {}
    for importer, imported_modules in _module_graph(graph).items():
        source = _package(importer)
        adjacency.setdefault(source, set())
        for imported in imported_modules:
            target = _package(imported)
            # The root package loads the public estimators on first access; it
            # is no layer, and nothing below imports it.
            if target != source and "skroute" not in (source, target):
                adjacency[source].add(target)
                witness.setdefault((source, target), (importer, imported))
    adjacency.pop("skroute", None)
    return adjacency, witness


def _line_numbers(graph, importer, imported):
    details = graph.get_import_details(importer=importer, imported=imported)
    return sorted({detail["line_number"] for detail in details})


def _describe(graph, adjacency, components, witness=None):
    """Each cycle, then every import among its members, with line numbers."""

    def line(importer, imported):
        module_import = (importer, imported)
        if witness is not None:
            module_import = witness[importer, imported]
        numbers = ", ".join(map(str, _line_numbers(graph, *module_import)))
        shown = " -> ".join(module_import)
        return f"  {shown} (l.{numbers})"

    lines = []
    for component in components:
        path = _cycle(adjacency, component)
        lines.append(f"cycle: {' -> '.join(path)}")
        lines.extend(line(a, b) for a, b in zip(path, path[1:]))
        lines.append(f"all imports among its {len(component)} members:")
        lines.extend(
            line(a, b)
            for a in sorted(component)
            for b in sorted(adjacency[a] & component)
        )
    return "\n".join(lines)


def test_no_import_cycle_between_packages(graph):
    adjacency, witness = _package_graph(graph)
    components = _components(adjacency)
    assert not components, _describe(graph, adjacency, components, witness)


def test_no_import_cycle_between_modules(graph):
    adjacency = _module_graph(graph)
    components = _components(adjacency)
    assert not components, _describe(graph, adjacency, components)


def test_a_cycle_is_found_and_printed():
    adjacency = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}
    components = _components(adjacency)
    assert components == [{"a", "b", "c"}]
    assert _cycle(adjacency, components[0]) == ["a", "b", "c", "a"]
    assert _components({"a": {"b"}, "b": set()}) == []
