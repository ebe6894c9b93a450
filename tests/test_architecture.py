"""The dependency rules of DESIGN.md.

- `appliance` never loads flask, waitress, werkzeug, textual or any flask_* extension: not when
  every module is imported, and not in an import inside a function either.
- `console` reaches data only through the REST API: it never loads the appliance's storage or
  engine, nor the server.
- `statuscore` (the command line) is the composition root: the only package that imports all three
  layers (appliance, server, console), and no layer imports it.
"""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
LAYERS = ("appliance", "server", "console")
FRAMEWORKS = {"flask", "waitress", "werkzeug", "textual"}

_IMPORT_ALL = r"""
import importlib, json, pkgutil, sys
package = importlib.import_module(sys.argv[1])
skip = set(sys.argv[2:])
names = [package.__name__]
for info in pkgutil.walk_packages(package.__path__, package.__name__ + "."):
    if info.name not in skip and not any(info.name.startswith(s + ".") for s in skip):
        names.append(info.name)
for name in names:
    importlib.import_module(name)
print(json.dumps({"imported": names, "modules": sorted(sys.modules)}))
"""


def import_everything(package: str, *skip: str) -> tuple[list[str], list[str]]:
    """Import every module of a package in a fresh interpreter: (modules imported, sys.modules)."""
    proc = subprocess.run([sys.executable, "-c", _IMPORT_ALL, package, *skip], cwd=ROOT,
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    report = json.loads(proc.stdout.strip().splitlines()[-1])
    return report["imported"], report["modules"]


def imported_names(package: str) -> dict[str, set[str]]:
    """Every top-level name each module of a package imports, wherever the import statement is
    (imports inside functions never show in sys.modules until the function runs)."""
    found: dict[str, set[str]] = {}
    for path in sorted((ROOT / package).rglob("*.py")):
        names = found.setdefault(str(path.relative_to(ROOT)), set())
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
            if isinstance(node, ast.Import):
                names.update(alias.name.split(".")[0] for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                names.add(node.module.split(".")[0])
    return found


def top_level(module: str) -> str:
    return module.split(".")[0]


def is_framework(name: str) -> bool:
    return top_level(name) in FRAMEWORKS or top_level(name).startswith("flask_")


def test_it_keeps_web_and_terminal_frameworks_out_of_the_appliance_core():
    imported, modules = import_everything("appliance")
    assert "appliance.engine.scheduler" in imported and "appliance.storage.history" in imported
    forbidden = sorted(m for m in modules if is_framework(m))
    assert forbidden == [], f"appliance imports {forbidden[:10]}"
    written = {path: sorted(n for n in names if is_framework(n)) for path, names in imported_names("appliance").items()}
    assert {path: names for path, names in written.items() if names} == {}


def test_it_keeps_the_console_a_client_of_the_api():
    imported, modules = import_everything("console")
    assert "console" in imported
    forbidden = sorted(m for m in modules if m == "server" or m.startswith("server.")
                       or m.startswith("appliance.storage") or m.startswith("appliance.engine"))
    assert forbidden == [], f"console imports {forbidden[:10]}"


def test_it_wires_the_layers_together_only_in_the_statuscore_package():
    uses = {package: set().union(*imported_names(package).values()) for package in (*LAYERS, "statuscore")}
    assert set(LAYERS) <= uses["statuscore"]
    assert {package for package in LAYERS if set(LAYERS) <= uses[package] | {package}} == set()
    assert {package for package in LAYERS if "statuscore" in uses[package]} == set()
    assert uses["appliance"] & {"server", "console"} == set()
