"""The house rules of DESIGN.md, checked on the code: who may import what, no import loops, no god classes."""

from __future__ import annotations

import ast
from collections import defaultdict
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
PACKAGES = ("core", "rag", "inference", "app")

# (package or module prefix, what it must never import): DESIGN.md's table, and core's promise to import none of them.
FORBIDDEN = [
    ("core", ("rag", "inference", "app", "chromadb", "gradio", "llama_cpp")),
    ("rag", ("inference", "app", "gradio", "llama_cpp")),
    ("inference", ("rag", "app", "chromadb", "gradio")),
    ("app.ui", ("chromadb", "llama_cpp")),
    ("app.panels", ("chromadb", "llama_cpp")),
]
MAX_PUBLIC_METHODS = 12
MAX_CLASS_LINES = 300


def modules() -> dict[str, Path]:
    found = {}
    for package in PACKAGES:
        for path in sorted((REPO / package).rglob("*.py")):
            name = ".".join(path.relative_to(REPO).with_suffix("").parts)
            found[name.removesuffix(".__init__")] = path
    return found


def imports_of(path: Path, module: str) -> set[str]:
    """Every module ``path`` imports, at the top or inside functions (relative imports resolved)."""
    out: set[str] = set()
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            out.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parts = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join(filter(None, [*parts, base]))
            out.add(base)
            out.update(f"{base}.{alias.name}" for alias in node.names)
    return out


def _within(name: str, prefix: str) -> bool:
    return name == prefix or name.startswith(prefix + ".")


def test_no_package_imports_what_design_md_forbids():
    broken = []
    for module, path in modules().items():
        banned = [b for prefix, names in FORBIDDEN if module.startswith(prefix) for b in names]  # app.ui: app.ui_render too
        broken += [f"{module} imports {name}" for name in sorted(imports_of(path, module))
                   if any(_within(name, b) for b in banned)]
    assert broken == []


def test_inference_takes_only_the_shared_interface_and_error_tree_from_the_core():
    found = modules()
    shared = {name for module, path in found.items() if module.startswith("inference")
              for name in imports_of(path, module) if name.split(".")[0] in ("core", "rag")}
    assert {".".join(n.split(".")[:2]) for n in shared} <= {"core.chat", "core.errors"}


def project_graph() -> dict[str, set[str]]:
    found = modules()
    graph: dict[str, set[str]] = defaultdict(set)
    for module, path in found.items():
        for name in imports_of(path, module):
            target = next((m for m in (name, name.rpartition(".")[0]) if m in found and m != module), None)
            if target is not None:
                graph[module].add(target)
    return graph


def test_there_is_no_import_loop():
    graph, state, loops = project_graph(), {}, []

    def visit(module: str, stack: list[str]) -> None:
        state[module] = "open"
        for target in sorted(graph.get(module, ())):
            if state.get(target) == "open":
                loops.append(stack[stack.index(target):] + [target])
            elif target not in state:
                visit(target, [*stack, target])
        state[module] = "done"

    for module in sorted(graph):
        if module not in state:
            visit(module, [module])
    assert loops == []


@pytest.mark.parametrize("module, path", sorted(modules().items()))
def test_no_class_is_a_god_object(module, path):
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ClassDef):
            public = [f.name for f in node.body if isinstance(f, (ast.FunctionDef, ast.AsyncFunctionDef))
                      and not f.name.startswith("_")]
            lines = node.end_lineno - node.lineno + 1
            assert len(public) <= MAX_PUBLIC_METHODS, f"{module}.{node.name} has {len(public)} public methods"
            assert lines <= MAX_CLASS_LINES, f"{module}.{node.name} is {lines} lines long"
