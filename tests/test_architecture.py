"""docs/architecture.md, "Layout": one direction of dependency, enforced on the source."""

from __future__ import annotations

import ast
import importlib
import re
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
    modules = _imported_modules(EXPLORER / "training" / "session.py")
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
    pages = ROOT / "pages"
    assert pages.is_dir(), "pages/ holds the page scripts that router.py declares"
    assert not (pages / "__init__.py").exists(), "a page folder holds page scripts only"
    for entry in pages.iterdir():
        if entry.name == "__pycache__":
            continue
        assert entry.is_file() and entry.suffix == ".py", f"pages/ holds page scripts only, found {entry.name}"


PAGE_LINES = 150  # a page lays out widgets and views; its logic lives in explorer/views and explorer/ui


def test_pages_are_thin():
    long = {p.name: n for p in (ROOT / "pages").glob("*.py") if (n := len(p.read_text().splitlines())) > PAGE_LINES}
    assert long == {}, f"over {PAGE_LINES} lines: move logic into explorer/views or explorer/ui"


def test_the_server_turns_off_streamlits_own_page_discovery():
    """A folder named pages/ beside the main script would switch on Streamlit's legacy page discovery, whose first
    run lists the file names in the sidebar before the app's navigation replaces them (and routes a deep link
    straight to a script, around the router). The server switches it off before any session exists; the browser
    test watches the sidebar while pages load."""
    code = "import app, streamlit.runtime.pages_manager as m; print(m.PagesManager.uses_pages_directory)"
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "False"


# Which parts of explorer/ each part may import (besides itself): the direction of dependency, from the
# data up to the UI. Each subpackage's __init__ docstring says the same in words.
ALLOWED = {
    "configs": set(),
    "device": set(),
    "data": set(),
    "maths": {"data"},
    "kernels": set(),
    "methods": {"kernels", "maths", "data", "configs", "device"},
    "training": {"methods", "kernels", "maths", "data", "configs", "device"},
    "views": {"training", "methods", "kernels", "maths", "data", "configs", "device"},
    "plotting": {"views"},  # annotations only: the runtime check is test_plotting_imports_neither_torch_nor_streamlit
    "notebook": {"methods", "data", "configs"},
    "bench": {"training", "views", "plotting", "methods", "kernels", "maths", "data", "configs", "device"},
    "ui": {"training", "views", "plotting", "notebook", "methods", "kernels", "maths", "data", "configs", "device"},
}


def _part(path: Path) -> str:
    rel = path.relative_to(EXPLORER)
    return rel.parts[0] if len(rel.parts) > 1 else rel.stem


def test_each_part_of_explorer_imports_only_what_lies_below_it():
    parts = {_part(p) for p in EXPLORER.rglob("*.py") if p.name != "__init__.py" or p.parent != EXPLORER}
    assert parts <= set(ALLOWED), f"a new part of explorer/ needs its place in ALLOWED: {parts - set(ALLOWED)}"
    offenders = []
    for path in sorted(EXPLORER.rglob("*.py")):
        if path.parent == EXPLORER and path.name == "__init__.py":
            continue
        part = _part(path)
        for module in _imported_modules(path):
            names = module.split(".")
            if names[0] != "explorer" or len(names) < 2 or names[1] == part:
                continue
            if names[1] not in ALLOWED[part]:
                offenders.append(f"{path.relative_to(ROOT)} imports {module}")
    assert offenders == [], "\n".join(offenders)


def test_every_subpackage_says_what_it_holds_and_may_import():
    for package in sorted(p for p in EXPLORER.iterdir() if p.is_dir() and (p / "__init__.py").exists()):
        doc = ast.get_docstring(ast.parse((package / "__init__.py").read_text())) or ""
        assert len(doc) > 80 and "May import" in doc, package.name


def test_explorer_has_few_top_level_modules():
    """The tree shows the architecture: the modules live in subpackages named for what they hold."""
    loose = sorted(p.name for p in EXPLORER.glob("*.py") if p.name != "__init__.py")
    assert loose == ["configs.py", "device.py"], loose


def test_adding_a_family_is_one_registry_line_away_from_everything():
    """Every family's registry entry reaches its page, its views with their presets, and its bench hooks."""
    from explorer.methods import FAMILIES

    for family in FAMILIES.values():
        assert (ROOT / family.page).is_file(), family.page
        assert isinstance(family.presets, dict) and family.presets, family.name
        hooks = family.bench_module
        assert callable(hooks.figures) and callable(hooks.plain_steps_per_s), family.name
        assert family.method.evaluations_per_sample(family.config())[0] >= 1
        notebook = importlib.import_module(family.notebook)
        assert callable(notebook.cells) and callable(notebook.constants), family.notebook
    sources = [p for p in EXPLORER.rglob("*.py") if p.parent.name in ("bench", "training")] + [ROOT / "router.py"]
    for path in sources:
        text = path.read_text()
        for name in FAMILIES:
            assert f'family == "{name}"' not in text and f"family == '{name}'" not in text, (path, name)


def test_the_warm_up_imports_every_module_of_the_explorer(caplog):
    """A module the warm-up names but cannot import (e.g. after a move) would be skipped silently, and a
    subpackage it does not name would be imported by a visitor's first page run instead."""
    import logging

    from explorer.training import warmup

    subpackages = {p.name for p in EXPLORER.iterdir() if (p / "__init__.py").exists()} - {"bench"}
    assert {name.split(".")[1] for name in warmup.PACKAGES} == subpackages
    with caplog.at_level(logging.INFO, logger=warmup.__name__):
        warmup.import_modules()
    assert [r.getMessage() for r in caplog.records if "does not import" in r.getMessage()] == []


def test_no_latex_command_runs_into_the_next_string_piece():
    """Adjacent string literals concatenate: r"...,\\qquad" r"f_k ..." renders as the unknown command \\qquadf
    (shown in red by KaTeX). A control word that ends a piece must be followed by a space or a symbol."""
    glued = re.compile(r'(\\[A-Za-z]+)"\s*\n\s*r"([A-Za-z])')
    found = [
        (path.name, text[: m.start()].count("\n") + 1, m.group(1) + m.group(2))
        for path in EXPLORER.rglob("*.py")
        for text in [path.read_text()]
        for m in glued.finditer(text)
    ]
    assert found == []
