"""The package's imports run one way (issue 9): no import inside a function (except optional
dependencies), no import circle, and every import points down the layer order below."""

import ast
import pathlib

import pytest

PACKAGE = pathlib.Path(__file__).resolve().parents[1] / "stochad"
OPTIONAL = {"matplotlib", "tqdm"}

LAYERS = [
    # bottom: plain arrays and tables, no triples
    {"_version", "_jit", "compiled", "compiled.hook", "compiled.ops"},
    {"kernels.events"},
    {"kernels.coupling"},
    {"lanes", "kernels", "kpath_kernels", "rules", "structure", "result", "parallel",
     "compiled.streams"},
    {"compiled.interpreter"},
    {"context", "distributions.base", "scalar_laws", "steps"},
    {"dual"},
    {"distributions.discrete", "distributions.continuous"},
    {"distributions.counts", "distributions.multivariate", "distributions.transforms",
     "distributions.implicit"},
    {"distributions.composite"},
    {"distributions"},
    {"compiled.trace"},
    {"compiled.program"},
    {"compiled.engine"},
    {"backends.base"},
    {"backends.pruned", "backends.exact", "backends.smoothed", "backends.inert"},
    {"backends.kpaths", "backends.scored", "backends.relaxed"},
    {"backends"},
    {"triple"},
    {"propagation"},
    {"elementwise"},
    {"shape"},
    {"reductions"},
    {"indexing", "branching", "driver", "resampling"},
    {"samplers", "estimators", "auto", "cdf_laws"},
    {"tapes"},
    {"tracking", "replaying"},
    {"families", "combined", "relaxed", "replay"},
    {"generator", "api"},
    {"optimize", "jax"},
    {"__init__", "bench"},
]
LAYER = {name: i for i, names in enumerate(LAYERS) for name in names}


def _modules():
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = path.relative_to(PACKAGE).with_suffix("").parts
        if parts[-1] == "__init__" and len(parts) > 1:
            parts = parts[:-1]
        yield ".".join(parts), path


def _resolve(module: str, path: pathlib.Path, node: ast.ImportFrom) -> list[str]:
    """The stochad modules an ``from ... import ...`` statement of ``module`` imports."""
    if module == "__init__":
        package = []
    else:
        package = module.split(".") if path.name == "__init__.py" else module.split(".")[:-1]
    if node.level:
        base = package[: len(package) - node.level + 1]
    elif node.module and node.module.split(".")[0] == "stochad":
        base = []
    else:
        return []
    target = ".".join(base + (node.module.split(".") if node.module else []))
    target = target.removeprefix("stochad.").removeprefix("stochad")
    known = dict(_modules())
    names = []
    for alias in node.names:
        sub = f"{target}.{alias.name}" if target else alias.name
        names.append(sub if sub in known else target or "__init__")
    return names


def _graph():
    graph, inner = {}, []
    for module, path in _modules():
        tree = ast.parse(path.read_text(encoding="utf-8"))
        edges = set()
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom):
                edges.update(_resolve(module, path, node))
        for func in ast.walk(tree):
            if isinstance(func, ast.FunctionDef | ast.AsyncFunctionDef):
                for node in ast.walk(func):
                    if isinstance(node, ast.Import | ast.ImportFrom):
                        top = (node.module or "") if isinstance(node, ast.ImportFrom) \
                            else node.names[0].name
                        if top.split(".")[0] not in OPTIONAL:
                            inner.append(f"{module}.{func.name}: import {top or '.'}")
        graph[module or "__init__"] = edges - {module}
    return graph, inner


def test_no_import_inside_a_function():
    _, inner = _graph()
    assert inner == []


def test_the_import_graph_has_no_circle():
    graph, _ = _graph()
    done, active = set(), []

    def visit(node):
        if node in active:
            pytest.fail("import circle: " + " -> ".join(active[active.index(node):] + [node]))
        if node in done:
            return
        active.append(node)
        for nxt in sorted(graph.get(node, ())):
            visit(nxt)
        active.pop()
        done.add(node)

    for node in sorted(graph):
        visit(node)


def test_every_module_has_a_layer_and_imports_only_below_it():
    graph, _ = _graph()
    assert sorted(set(graph) - set(LAYER)) == []
    upward = [f"{a} (layer {LAYER[a]}) imports {b} (layer {LAYER[b]})"
              for a, targets in graph.items() for b in targets
              if b in LAYER and LAYER[b] >= LAYER[a] and not a.startswith(b + ".")
              and not (a == "backends" and b.startswith("backends."))]
    assert upward == []
