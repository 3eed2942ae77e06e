"""The reporting layer (src/repro/reporting/) reads results and never trains: its modules import
nothing of the training side, no torch, and their imports form no cycle."""
import ast
import subprocess
import sys
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "src" / "repro" / "reporting"
# the only repro modules outside the package that the layer may read
ALLOWED_OUTSIDE = {"repro.metrics.superglue", "repro.config"}


def _repro_imports(path: Path) -> set[str]:
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("repro"):
            names = [f"{node.module}.{a.name}" for a in node.names]
            found |= {n if n.removeprefix("repro.reporting.") in _MODULES else node.module for n in names}
        elif isinstance(node, ast.Import):
            found |= {a.name for a in node.names if a.name.startswith("repro")}
    return found


_MODULES = {p.stem for p in PACKAGE.glob("*.py") if p.stem != "__init__"}


def test_the_layer_is_one_package_with_the_reporting_modules():
    assert {"report", "claims", "figures", "readme", "compute", "notebooks", "notebook_view", "published",
            "curves"} <= _MODULES
    old = PACKAGE.parent
    assert not any((old / f"{m}.py").exists() for m in _MODULES), "a reporting module is left outside the package"
    assert not (old / "pretrain" / "plot.py").exists()


def test_reporting_imports_nothing_of_the_training_side_and_has_no_cycle():
    graph = {}
    for path in PACKAGE.glob("*.py"):
        imports = _repro_imports(path)
        outside = {m for m in imports if not m.startswith("repro.reporting")} - ALLOWED_OUTSIDE
        assert not outside, f"{path.name} imports {sorted(outside)}"
        graph[path.stem] = {m.removeprefix("repro.reporting.") for m in imports if m.startswith("repro.reporting.")}
    # figures -> curves, never back (the old figures <-> pretrain/plot circle)
    assert "curves" in graph["figures"] and not graph["curves"]

    def reach(start, seen=()):
        for nxt in graph.get(start, ()):
            assert nxt not in seen + (start,), f"import cycle through {start} -> {nxt}"
            reach(nxt, seen + (start,))

    for module in graph:
        reach(module)


def test_importing_the_whole_layer_loads_no_torch():
    names = ", ".join(f"repro.reporting.{m}" for m in sorted(_MODULES))
    code = f"import sys, {names}; print('torch' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "False"
