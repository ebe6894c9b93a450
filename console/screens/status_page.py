"""The public status page (a tab of Settings): its company name and slug, and the address it is
served at. Its own API calls, like a screen's (ApiCalls); ctrl+s on the Settings screen, the Save
button or enter in a field saves it."""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.widgets import Button, Input, Label, Static

from console.client import ApiError
from console.screens.base import NOT_AVAILABLE, ApiCalls, not_available
from console.screens.form import clear_field_errors, field_error, show_field_errors


class StatusPagePanel(ApiCalls, Vertical):
    """The status page's settings, loaded when shown and saved on request."""

    DEFAULT_CSS = """
    StatusPagePanel {
        height: auto;
        max-width: 100;
        padding: 0 1;
    }
    """

    def compose(self) -> ComposeResult:
        yield Static("Your public status page shows the monitors you mark public (p on the dashboard).",
                     classes="hint")
        yield Static("", markup=False, id="status-page-error", classes="form-error")
        yield Label("Company name")
        yield Input(id="company_name", placeholder="Example Ltd")
        yield field_error("company_name")
        yield Label("Slug (the page's address: /status/<slug>)")
        yield Input(id="slug", placeholder="example")
        yield field_error("slug")
        yield Static("", markup=False, id="status-page-url")
        with Horizontal(classes="buttons"):
            yield Button("Save (ctrl+s)", id="save-status-page", variant="primary")

    def on_mount(self) -> None:
        self.refresh_data()

    def refresh_data(self) -> None:
        self.call_api("status_page", self.client.get_status_page, on_done=self.show_page,
                      on_error=self._load_failed)

    def show_page(self, page: dict) -> None:
        page = page or {}
        self.query_one("#company_name", Input).value = page.get("company_name") or ""
        self.query_one("#slug", Input).value = page.get("slug") or ""
        self._show_url(page.get("slug"), page.get("url"))

    def _load_failed(self, error: ApiError) -> bool:
        if error.status == 404:  # no such endpoint on this server: fall back to /me
            slug = (self.console_app.user or {}).get("statusPageSlug")
            if slug:
                self.query_one("#slug", Input).value = slug
                self._show_url(slug)
            else:
                self.query_one("#status-page-url", Static).update(
                    Text(f"Status page settings are {NOT_AVAILABLE}.", style="dim"))
            return True
        return False

    def _show_url(self, slug: str | None, path: str | None = None) -> None:
        text = Text()
        if slug:
            text.append("Public page: ", style="dim")
            text.append(f"{self.client.server_url}{path or '/status/' + slug}", style="bold")
        else:
            text.append("No status page set up yet (choose a slug).", style="dim")
        self.query_one("#status-page-url", Static).update(text)

    # ---- saving -------------------------------------------------------------------------------
    def on_button_pressed(self, event: Button.Pressed) -> None:
        if event.button.id == "save-status-page":
            self.save()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        if event.input.id in ("company_name", "slug"):
            self.save()

    def save(self) -> None:
        clear_field_errors(self)
        self.query_one("#status-page-error", Static).update("")
        self.call_api("status_page_saved", self.client.update_status_page,
                      self.query_one("#company_name", Input).value.strip(),
                      self.query_one("#slug", Input).value.strip() or None,
                      on_done=self._saved, on_error=self._save_failed)

    def _saved(self, page: dict) -> None:
        self.notify("Status page saved.")
        self.show_page(page or {})
        if self.console_app.user is not None and page:
            self.console_app.user["statusPageSlug"] = page.get("slug")  # the session user, as /me now says

    def _save_failed(self, error: ApiError) -> bool:
        if error.status in (400, 409) or error.details:
            show_field_errors(self, error.message, error.details, "status-page-error")
            return True
        if not_available(error):
            self.query_one("#status-page-error", Static).update(f"✖ The status page is {NOT_AVAILABLE}.")
            return True
        return False
