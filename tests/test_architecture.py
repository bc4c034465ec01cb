"""DESIGN.md "Architecture": one direction of dependency, enforced on the source."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
EXPLORER = ROOT / "explorer"


def _is_type_checking(node: ast.AST) -> bool:
    test = node.test if isinstance(node, ast.If) else None
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _dynamic_import_name(call: ast.Call) -> str:
    """The constant module name of importlib.import_module("x") / __import__("x"), else ''."""
    name = getattr(call.func, "attr", getattr(call.func, "id", ""))
    if name in ("import_module", "__import__") and call.args and isinstance(call.args[0], ast.Constant):
        return str(call.args[0].value)
    return ""


def _imported_modules(path: Path, runtime_only: bool = False) -> set[str]:
    """Every module a file imports, anywhere in it (top level, functions, try blocks).

    With `runtime_only`, imports under `if TYPE_CHECKING:` (annotations only) are left out.
    """
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    skipped: set[int] = set()
    if runtime_only:
        for node in ast.walk(tree):
            if _is_type_checking(node):
                skipped.update(id(child) for stmt in node.body for child in ast.walk(stmt))
    found: set[str] = set()
    for node in ast.walk(tree):
        if id(node) in skipped:
            continue
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.add(node.module)
            found.update(f"{node.module}.{alias.name}" for alias in node.names)
        elif isinstance(node, ast.Call) and _dynamic_import_name(node):
            found.add(_dynamic_import_name(node))
    return found


def _roots(modules: set[str]) -> set[str]:
    return {name.split(".")[0] for name in modules}


def _core_files() -> list[Path]:
    return sorted(p for p in EXPLORER.rglob("*.py") if "ui" not in p.relative_to(EXPLORER).parts[:1])


def test_the_scanner_sees_imports(tmp_path):
    modules = _imported_modules(EXPLORER / "session.py")
    assert "torch" in _roots(modules)
    assert "explorer.configs" in modules
    sample = tmp_path / "sample.py"
    sample.write_text(
        "from typing import TYPE_CHECKING\n"
        "if TYPE_CHECKING:\n    import torch\n"
        "def f():\n    import streamlit as st\n"
        "try:\n    from explorer import ui\nexcept ImportError:\n    pass\n"
        "importlib.import_module('altair')\n"
    )
    assert {"torch", "streamlit", "explorer.ui", "altair"} <= _imported_modules(sample)
    assert "torch" not in _imported_modules(sample, runtime_only=True)
    assert "streamlit" in _imported_modules(sample, runtime_only=True)


def test_core_does_not_import_streamlit():
    files = _core_files()
    assert len(files) > 10
    offenders = [str(p.relative_to(ROOT)) for p in files if "streamlit" in _roots(_imported_modules(p))]
    assert offenders == [], f"only explorer/ui/ may import streamlit: {offenders}"


def test_core_does_not_import_the_ui_layer():
    offenders = [
        str(p.relative_to(ROOT))
        for p in _core_files()
        if any(m == "explorer.ui" or m.startswith("explorer.ui.") for m in _imported_modules(p))
    ]
    assert offenders == [], f"explorer/ core must not depend on explorer/ui: {offenders}"


def test_plotting_imports_neither_torch_nor_streamlit():
    files = sorted((EXPLORER / "plotting").rglob("*.py"))
    assert files
    for path in files:
        assert not {"torch", "streamlit"} & _roots(_imported_modules(path)), path.name
        # nor, through the back door, explorer modules outside plotting (they pull in torch);
        # `if TYPE_CHECKING:` imports for annotations are fine
        modules = _imported_modules(path, runtime_only=True)
        inside = [m for m in modules if m.startswith("explorer.") and not m.startswith("explorer.plotting")]
        assert inside == [], (path.name, inside)


def test_importing_plotting_loads_neither_torch_nor_streamlit():
    modules = [
        "explorer.plotting." + p.stem for p in sorted((EXPLORER / "plotting").glob("*.py")) if p.stem != "__init__"
    ]
    code = (
        "import importlib, sys\n"
        f"for name in {modules!r}:\n"
        "    importlib.import_module(name)\n"
        "print(sorted({'torch', 'streamlit'} & set(sys.modules)))\n"
    )
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"


def test_pages_hold_page_scripts_only():
    pages = ROOT / "app_pages"
    assert pages.is_dir(), "app_pages/ holds the page scripts that router.py declares"
    assert not (pages / "__init__.py").exists(), "a page folder holds page scripts only"
    for entry in pages.iterdir():
        if entry.name == "__pycache__":
            continue
        assert entry.is_file() and entry.suffix == ".py", f"app_pages/ holds page scripts only, found {entry.name}"


def test_no_pages_folder_for_streamlit_to_discover():
    """A folder named pages/ beside the main script switches on Streamlit's legacy page discovery, which can show its
    automatic list of file names instead of the app's navigation (issue 12): the scripts live in app_pages/."""
    assert not (ROOT / "pages").exists()
