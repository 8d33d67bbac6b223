"""The library never imports Prefect, and GX only where validation runs; nor does it import flows/
anywhere (flows/ imports the library: the command line starts a flow by its entry point's name)."""

import ast
import subprocess
import sys
from pathlib import Path

import ngobrief

MODULES = ["ngobrief.cli", "ngobrief.pull", "ngobrief.ingest", "ngobrief.ingest.load", "ngobrief.warehouse",
           "ngobrief.validate", "ngobrief.metrics", "ngobrief.brief", "ngobrief.pipeline", "ngobrief.inspect",
           "ngobrief.status", "ngobrief.freshness", "ngobrief.plan", "ngobrief.css_noise"]
LIBRARY = Path(ngobrief.__file__).parent


def test_library_imports_neither_prefect_nor_gx():
    code = ("import sys\n" + "".join(f"import {m}\n" for m in MODULES)
            + "print(sorted({m.split('.')[0] for m in sys.modules} & {'prefect', 'great_expectations', 'flows'}))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


def flows_imports(source: str) -> list[int]:
    """Lines of a module that import flows/: an import statement at any depth (a function body too),
    or importlib / __import__ given a name under flows."""
    lines = []
    for node in ast.walk(ast.parse(source)):
        names = []
        if isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0:
            names = [node.module or ""]
        elif isinstance(node, ast.Call) and node.args and isinstance(node.args[0], ast.Constant) \
                and isinstance(node.args[0].value, str) and getattr(node.func, "attr", getattr(node.func, "id", "")) \
                in ("import_module", "__import__"):
            names = [node.args[0].value]
        if any(n == "flows" or n.startswith("flows.") for n in names):
            lines.append(node.lineno)
    return lines


def test_no_module_of_the_library_imports_flows_anywhere():
    found = {str(p.relative_to(LIBRARY)): lines for p in sorted(LIBRARY.rglob("*.py"))
             if (lines := flows_imports(p.read_text(encoding="utf-8")))}
    assert found == {}


def test_the_check_finds_an_import_of_flows_inside_a_function():
    assert flows_imports("def run():\n    from flows.annual_refresh import annual_refresh\n") == [2]
    assert flows_imports("import importlib\nimportlib.import_module('flows.tasks')\n") == [2]
    assert flows_imports("from . import flows_helper\nimport flowsheet\n") == []
