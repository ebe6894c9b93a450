"""The server talks to the use-case services, never to the stores (issue 17): read from the
source of every server module, so a shortcut fails here before review.

- no server module imports appliance.storage (or the Appliance class itself);
- the appliance object given to create_app is used only for what composition needs: its
  `services`, its `settings` and its `secret` — no view reaches into the stores, the engine or
  the caches through it.
"""

from __future__ import annotations

import ast
from pathlib import Path

SERVER = Path(__file__).resolve().parents[1] / "server"
ALLOWED_ATTRIBUTES = {"services", "settings", "secret"}


def modules() -> list[Path]:
    return sorted(SERVER.glob("*.py"))


def imported_names(tree: ast.AST) -> list[str]:
    names = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names += [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.append(node.module)
    return names


def is_the_appliance(node: ast.AST) -> bool:
    """`appliance` (create_app's parameter) or `current_app.extensions["statuscore"]`."""
    if isinstance(node, ast.Name):
        return node.id == "appliance"
    return (isinstance(node, ast.Subscript) and isinstance(node.slice, ast.Constant)
            and node.slice.value == "statuscore")


def test_it_finds_the_server_modules():
    assert {p.name for p in modules()} >= {"monitors.py", "public.py", "transfer.py", "auth.py"}


def test_no_server_module_imports_the_stores():
    offenders = {path.name: name for path in modules()
                 for name in imported_names(ast.parse(path.read_text()))
                 if name.startswith("appliance.storage") or name == "appliance.service"}
    assert offenders == {}, f"server modules reach the stores directly: {offenders}"


def test_the_server_uses_only_the_appliances_services_settings_and_secret():
    reaches = []
    for path in modules():
        for node in ast.walk(ast.parse(path.read_text())):
            if (isinstance(node, ast.Attribute) and is_the_appliance(node.value)
                    and node.attr not in ALLOWED_ATTRIBUTES):
                reaches.append(f"{path.name}:{node.lineno} .{node.attr}")
    assert reaches == [], f"server code reaches into the Appliance: {reaches}"


def test_no_view_looks_the_appliance_up_itself():
    helpers = [f"{path.name}:{node.lineno}" for path in modules() for node in ast.walk(ast.parse(path.read_text()))
               if isinstance(node, ast.FunctionDef) and node.name == "appliance"]
    assert helpers == [], f"an appliance() accessor is back: {helpers} (views call services())"
