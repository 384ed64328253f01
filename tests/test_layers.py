"""The documented one-way flow holds: no module imports a layer above its own (docs/architecture.md).

Every ``import chop...`` counts, at module level or inside a function (a lazy import is still a
dependency). Modules that exist only to keep a MASE import path working re-export downward and
need no exception. The few upward imports that MASE's own API forces are listed with their reason.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "chop"

# Lowest first. A module belongs to the longest prefix listed; it may import its own layer and below.
LAYERS: list[tuple[str, ...]] = [
    ("chop", "chop.errors"),
    ("chop.tools",),
    ("chop.quantizers",),
    # model definitions need no data (a data module reshapes rows to a model's input); MASE's
    # checkpoint loader (lab-api §8) loads weights into models, so it sits with them
    ("chop.models", "chop.tools.checkpoint_load"),
    ("chop.dataset",),
    ("chop.quantized", "chop.engine"),
    ("chop.config",),   # MASE's arguments, checked against what the engine offers
    ("chop.ir",),
    ("chop.hardware",),  # fixed-point twins of ops, the integer reference, RTL text, tool runners
    ("chop.passes.graph.pass_args", "chop.passes.graph.pass_result", "chop.passes.graph.utils"),
    ("chop.passes.graph.analysis",),
    ("chop.passes.graph.transforms", "chop.passes.graph.interface"),
    ("chop.passes.graph", "chop.passes"),
    ("chop.workflows",),  # library calls of whole flows: a training run, ch transform, the quantisation report
    ("chop.search", "chop.sweep"),
    ("chop.actions", "chop.cli"),
]
RANK = {prefix: rank for rank, prefixes in enumerate(LAYERS) for prefix in prefixes}

# (importing module, imported module): why the API (MASE's, or issue 14's MaseGraph.from_qonnx) needs the upward edge
UPWARD_FOR_MASE = {
    ("chop.models.registry", "chop.passes.graph"):
        "MASE's get_model(..., quant_config=) returns the quantised graph; imported only when it is given",
    ("chop.models.registry", "chop.ir.graph.mase_graph"):
        "the same quant_config path traces the model into a MaseGraph",
    ("chop.ir.graph.mase_graph", "chop.passes.graph.interface.load_qonnx"):
        "MaseGraph.from_qonnx (issue 14's import, in MaseGraph's own style) returns a graph the metadata and quantise "
        "passes built; imported only when it is called",
}


def layer_of(module: str) -> int:
    parts = module.split(".")
    for size in range(len(parts), 0, -1):
        prefix = ".".join(parts[:size])
        if prefix in RANK:
            return RANK[prefix]
    raise AssertionError(f"{module} is in no layer of LAYERS; add its package there and to docs/architecture.md")


def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imports(path: Path) -> set[str]:
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0 and node.module.startswith("chop"):
            found.add(node.module)
        elif isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names if alias.name.startswith("chop")}
    return found


def upward_imports() -> list[str]:
    bad = []
    for path in sorted(PACKAGE.rglob("*.py")):
        source = module_name(path)
        for target in sorted(imports(path)):
            allowed = any(source == s and (target == t or target.startswith(t + ".")) for s, t in UPWARD_FOR_MASE)
            if layer_of(target) > layer_of(source) and not allowed:
                bad.append(f"{source} imports {target}")
    return bad


def test_no_module_imports_a_layer_above_its_own() -> None:
    assert upward_imports() == []


def test_every_package_has_a_layer() -> None:
    for path in PACKAGE.rglob("*.py"):
        layer_of(module_name(path))


def test_the_check_sees_an_upward_import(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The test itself can fail: a dataset module importing the engine is reported."""
    fake = tmp_path / "chop"
    (fake / "dataset").mkdir(parents=True)
    (fake / "dataset" / "bad.py").write_text("def f():\n    from chop.engine import trainer\n")
    monkeypatch.setattr(__import__(__name__), "PACKAGE", fake)
    assert upward_imports() == ["chop.dataset.bad imports chop.engine"]
