"""The dependency rules of DESIGN.md, checked by importing the packages in a fresh interpreter
and looking at what ended up in sys.modules.

- `appliance` (except appliance.cli, the composition root) never loads flask, waitress,
  werkzeug, textual or any flask_* extension.
- `console` reaches data only through the REST API: it never loads the appliance's storage or
  engine, nor the server.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

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


def top_level(module: str) -> str:
    return module.split(".")[0]


def test_it_keeps_web_and_terminal_frameworks_out_of_the_appliance_core():
    imported, modules = import_everything("appliance", "appliance.cli")
    assert "appliance.engine.scheduler" in imported and "appliance.storage.history" in imported
    assert "appliance.cli" not in modules
    forbidden = sorted(m for m in modules if top_level(m) in {"flask", "waitress", "werkzeug", "textual"}
                       or top_level(m).startswith("flask_"))
    assert forbidden == [], f"appliance imports {forbidden[:10]}"


def test_it_keeps_the_console_a_client_of_the_api():
    imported, modules = import_everything("console")
    assert "console" in imported
    forbidden = sorted(m for m in modules if m == "server" or m.startswith("server.")
                       or m.startswith("appliance.storage") or m.startswith("appliance.engine"))
    assert forbidden == [], f"console imports {forbidden[:10]}"
