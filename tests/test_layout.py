"""The layout: the harness modules' imports (lazy ones inside functions included) form no cycle, and
model-family knowledge lives in repro.families alone."""
import ast
from pathlib import Path

SRC = Path(__file__).resolve().parents[1] / "src" / "repro"


def unit(module: str) -> str:
    """repro.methods.prefix -> methods (a package is one unit), repro.runner -> runner."""
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else "repro"


def import_graph() -> dict[str, set[str]]:
    graph: dict[str, set[str]] = {}
    for path in SRC.rglob("*.py"):
        rel = path.relative_to(SRC).with_suffix("")
        here = rel.parts[0]
        for node in ast.walk(ast.parse(path.read_text())):
            names = []
            if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("repro."):
                names = [node.module]
            elif isinstance(node, ast.ImportFrom) and node.module == "repro":
                names = [f"repro.{a.name}" for a in node.names]
            elif isinstance(node, ast.Import):
                names = [a.name for a in node.names if a.name.startswith("repro.")]
            graph.setdefault(here, set()).update(unit(n) for n in names if unit(n) != here)
    return graph


def cycles_through(graph, start):
    stack = [(start, (start,))]
    while stack:
        node, path = stack.pop()
        for nxt in graph.get(node, ()):
            if nxt == start:
                yield path + (start,)
            elif nxt not in path:
                stack.append((nxt, path + (nxt,)))


def test_config_ensemble_runner_form_no_import_circle():
    graph = import_graph()
    for module in ("config", "ensemble", "runner", "train", "methods", "models", "families"):
        found = next(cycles_through(graph, module), None)
        assert found is None, "import circle: " + " -> ".join(found)


def test_only_families_names_module_paths_of_a_model_family():
    """GPT-2's and Llama's module names (transformer.h, model.layers, ln_f, model.norm) appear in
    repro.families only, so a new family is one entry there."""
    needles = (".transformer.h", ".transformer.ln_f", ".model.layers", ".model.norm")
    offenders = []
    for path in (SRC / "methods").glob("*.py"):
        text = path.read_text()
        offenders += [f"{path.name}: {n}" for n in needles if n in text]
    assert not offenders, offenders
