"""Export and import (a tab of Settings): your configuration (monitors, webhooks, status page,
maintenance windows; no ids or secrets) to a YAML or JSON file, and back from one. An import
always starts with a dry run that lists what would be created, updated or left unchanged; only a
confirmed "apply" changes anything, and it applies exactly the text the dry run read.

The file is read and written on the worker thread, next to the API call."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import yaml
from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.widgets import Button, DataTable, Input, Select, Static

from console.client import ApiClient, ApiError
from console.screens.base import NOT_AVAILABLE, ApiCalls, app_must_act, not_available
from console.screens.confirm import ask_first

FORMATS = [("YAML", "yaml"), ("JSON", "json")]
SECTIONS = (("monitors", "monitor", "monitors"), ("webhooks", "webhook", "webhooks"),
            ("maintenance", "maintenance window", "maintenance windows"))
# (label before applying, label after, style) for each kind of change in an import report
CHANGES = {"created": ("+ create", "+ created", "green"), "updated": ("~ update", "~ updated", "yellow"),
           "unchanged": ("= unchanged", "= unchanged", "dim")}


def format_for(path: str | Path) -> str:
    """json for a .json file; YAML otherwise (the default, as `statuscore export`)."""
    return "json" if Path(path).suffix.lower() == ".json" else "yaml"


def resolve(text: str) -> Path:
    return Path(text.strip()).expanduser().absolute()


def file_error(verb: str, path: Path, exc: OSError) -> ApiError:
    return ApiError(-1, f"Cannot {verb} {path}: {exc.strerror or exc}.")


@dataclass
class Exported:
    path: Path
    format: str
    counts: dict[str, int]


@dataclass
class Planned:
    """A dry run's report, with the very text it read (what "apply" sends)."""

    path: Path
    format: str
    text: str
    report: dict

    @property
    def changes(self) -> int:
        return len(self.report.get("created") or []) + len(self.report.get("updated") or [])


def export_to_file(client: ApiClient, path: Path, fmt: str) -> Exported:
    """GET /api/export and write the answer to `path` (YAML as the server wrote it)."""
    answer = client.export(fmt)
    if fmt == "json":
        document, text = answer, json.dumps(answer, indent=2, ensure_ascii=False) + "\n"
    else:
        document, text = yaml.safe_load(answer), answer
    try:
        path.write_text(text, encoding="utf-8")
    except OSError as exc:
        raise file_error("write", path, exc) from None
    document = document if isinstance(document, dict) else {}
    counts = {key: len(document.get(key) or []) for key, _one, _many in SECTIONS}
    counts["status_page"] = 1 if document.get("status_page") else 0
    return Exported(path, fmt, counts)


def dry_run_file(client: ApiClient, path: Path) -> Planned:
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        if isinstance(exc, UnicodeDecodeError):
            raise ApiError(-1, f"Cannot read {path}: it is not UTF-8 text.") from None
        raise file_error("read", path, exc) from None
    fmt = format_for(path)
    return Planned(path, fmt, text, client.import_text(text, fmt, dry_run=True))


def apply_plan(client: ApiClient, plan: Planned) -> Planned:
    return Planned(plan.path, plan.format, plan.text, client.import_text(plan.text, plan.format, dry_run=False))


def counted(counts: dict[str, int]) -> str:
    parts = [f"{counts.get(key, 0)} {one if counts.get(key, 0) == 1 else many}" for key, one, many in SECTIONS]
    if counts.get("status_page"):
        parts.append("the status page")
    return ", ".join(parts)


class TransferPanel(ApiCalls, Vertical):
    """Export to a path the user types; import from one with a dry run first."""

    DEFAULT_CSS = """
    TransferPanel {
        height: 1fr;
        padding: 0 1;
    }
    TransferPanel .section-title {
        text-style: bold;
        color: $accent;
        margin-top: 1;
    }
    TransferPanel .transfer-row {
        height: auto;
    }
    TransferPanel .transfer-row Input {
        width: 1fr;
    }
    TransferPanel .transfer-row Select {
        width: 14;
    }
    TransferPanel .transfer-row Button {
        margin-left: 1;
    }
    TransferPanel #export-status, TransferPanel #import-status {
        height: auto;
        padding: 0 1;
    }
    TransferPanel #import-changes {
        height: 1fr;
    }
    """

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self.plan: Planned | None = None  # the last dry run, while it has something to apply
        self.last_export: Exported | None = None

    def compose(self) -> ComposeResult:
        yield Static("Export", classes="section-title")
        yield Static("Your monitors, webhooks, status page and maintenance windows, without ids or secrets: "
                     "to keep in git or to copy to another appliance.", classes="hint")
        with Horizontal(classes="transfer-row"):
            yield Input("statuscore.yaml", id="export-path", placeholder="the file to write, e.g. ~/statuscore.yaml")
            yield Select(FORMATS, value="yaml", allow_blank=False, id="export-format")
            yield Button("Export (ctrl+o)", id="export-run", variant="primary")
        yield Static("", markup=False, id="export-status")
        yield Static("Import", classes="section-title")
        yield Static("Monitors and maintenance windows are matched by name, webhooks by URL: an import creates "
                     "and updates, never deletes. A dry run shows the changes first.", classes="hint")
        with Horizontal(classes="transfer-row"):
            yield Input(id="import-path", placeholder="a .yaml or .json file, as an export writes it")
            yield Button("Dry run (ctrl+t)", id="import-dry-run", variant="primary")
            yield Button("Apply (ctrl+y)", id="import-apply", variant="warning", disabled=True)
        yield Static("", markup=False, id="import-status")
        yield DataTable(id="import-changes", zebra_stripes=True)

    def on_mount(self) -> None:
        self.query_one("#import-changes", DataTable).add_columns("Change", "Kind", "Name")

    def _status(self, selector: str, text: str, style: str = "") -> None:
        self.query_one(selector, Static).update(Text(text, style=style))

    def _set_plan(self, plan: Planned | None) -> None:
        self.plan = plan
        self.query_one("#import-apply", Button).disabled = plan is None
        self.screen.refresh_bindings()

    # ---- export -------------------------------------------------------------------------------
    def on_input_changed(self, event: Input.Changed) -> None:
        if event.input.id == "export-path" and Path(event.value.strip()).suffix.lower() in (".json", ".yaml", ".yml"):
            self.query_one("#export-format", Select).value = format_for(event.value.strip())
        elif event.input.id == "import-path" and self.plan is not None:
            self._set_plan(None)  # a dry run is for the file it read

    def on_input_submitted(self, event: Input.Submitted) -> None:
        if event.input.id == "export-path":
            event.stop()
            self.export()
        elif event.input.id == "import-path":
            event.stop()
            self.dry_run()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        actions = {"export-run": self.export, "import-dry-run": self.dry_run, "import-apply": self.apply}
        if event.button.id in actions:
            event.stop()
            actions[event.button.id]()

    def export(self) -> None:
        text = self.query_one("#export-path", Input).value
        if not text.strip():
            self.notify("Type the path of the file to write.", severity="warning")
            self.query_one("#export-path", Input).focus()
            return
        if self.busy("export"):
            return
        path = resolve(text)
        fmt = self.query_one("#export-format", Select).value

        def start() -> None:
            self._status("#export-status", f"Exporting to {path}…")
            self.call_api("export", export_to_file, self.client, path, fmt, on_done=self._exported,
                          on_error=self._export_failed)

        if path.exists():
            ask_first(self.app, f"{path} exists. Overwrite it?", "Overwrite", start)
        else:
            start()

    def _exported(self, result: Exported) -> None:
        self.last_export = result
        self._status("#export-status", f"✔ Wrote {counted(result.counts)} to {result.path} "
                                       f"({result.format.upper()}).", "green")
        self.notify(f"Configuration exported to {result.path}.")

    def _export_failed(self, error: ApiError) -> bool:
        if not_available(error):
            self._status("#export-status", f"✖ Export is {NOT_AVAILABLE}.", "bold red")
            return True
        self._status("#export-status", f"✖ Export failed: {error.message}", "bold red")
        return not app_must_act(error)

    # ---- import -------------------------------------------------------------------------------
    def dry_run(self) -> None:
        text = self.query_one("#import-path", Input).value
        if not text.strip():
            self.notify("Type the path of the file to import.", severity="warning")
            self.query_one("#import-path", Input).focus()
            return
        if self.busy("dry_run") or self.busy("applied"):
            return
        path = resolve(text)
        self._set_plan(None)
        self.query_one("#import-changes", DataTable).clear()
        self._status("#import-status", f"Checking {path} (dry run: nothing changes)…")
        self.call_api("dry_run", dry_run_file, self.client, path, on_done=self._planned,
                      on_error=self._import_failed)

    def _planned(self, plan: Planned) -> None:
        self._show_report(plan.report, applied=False)
        report = plan.report
        created, updated = len(report.get("created") or []), len(report.get("updated") or [])
        unchanged = len(report.get("unchanged") or [])
        if plan.changes:
            self._set_plan(plan)
            self._status("#import-status", f"Dry run of {plan.path}: {created} to create, {updated} to update, "
                                           f"{unchanged} unchanged. Nothing has changed yet — press ctrl+y "
                                           "(Apply) to make these changes.", "bold")
        else:
            self._set_plan(None)
            self._status("#import-status", f"Dry run of {plan.path}: nothing to change ({unchanged} unchanged).",
                         "green")

    def apply(self) -> None:
        plan = self.plan
        if plan is None:
            self.notify("Run a dry run first (ctrl+t): it shows what the import would change.", severity="warning")
            return
        if self.busy("applied"):
            return
        report = plan.report

        def start() -> None:
            if self.plan is plan:
                self._status("#import-status", f"Importing {plan.path}…")
                self.call_api("applied", apply_plan, self.client, plan, on_done=self._applied,
                              on_error=self._import_failed)

        ask_first(self.app, f"Import {plan.path}: create {len(report.get('created') or [])} and update "
                            f"{len(report.get('updated') or [])}, as the dry run showed? Nothing is deleted.",
                  "Apply", start)

    def _applied(self, plan: Planned) -> None:
        self._set_plan(None)
        self._show_report(plan.report, applied=True)
        report = plan.report
        self._status("#import-status", f"✔ Imported {plan.path}: {len(report.get('created') or [])} created, "
                                       f"{len(report.get('updated') or [])} updated, "
                                       f"{len(report.get('unchanged') or [])} unchanged.", "green")
        self.notify(f"Imported {plan.path}.")

    def _show_report(self, report: dict, applied: bool) -> None:
        table = self.query_one("#import-changes", DataTable)
        table.clear()
        for change, (before, after, style) in CHANGES.items():
            for item in report.get(change) or []:
                table.add_row(Text(after if applied else before, style=style),
                              Text(str(item.get("kind", "")).replace("_", " ")), Text(str(item.get("name", ""))))

    def _import_failed(self, error: ApiError) -> bool:
        self._set_plan(None)
        if not_available(error):
            self._status("#import-status", f"✖ Import is {NOT_AVAILABLE}.", "bold red")
            return True
        details = "\n".join(f"  {field}: {problem}" for field, problem in error.details.items())
        self._status("#import-status", f"✖ Import refused: {error.message}" + (f"\n{details}" if details else ""),
                     "bold red")
        return not app_must_act(error)
