"""Users and API keys: logging in, a user's own password and keys, and (admins) managing users.
Also the appliance's own health and backups, which only admins see."""

from __future__ import annotations

from pathlib import Path

from appliance.backup import create_backup
from appliance.models import ApiKey, User
from appliance.services.errors import Conflict, Invalid, NotFound
from appliance.storage.api_keys import KEY_PREFIX, last_used  # noqa: F401 (the API's, too)
from appliance.storage.entities import Conflict as StoreConflict


class Users:
    def __init__(self, appliance):
        self._app = appliance

    # ---- anyone ------------------------------------------------------------------------------
    def check_login(self, email: str, password: str) -> User | None:
        """The user whose email and password these are, or None (the same time spent either way)."""
        return self._app.check_login(email, password)

    def get(self, user_id: int) -> User | None:
        return self._app.entities.get_user(user_id)

    def change_password(self, user: User, current_password: str, new_password: str) -> User:
        """Older tokens stop working (the token version moves on)."""
        if not self._app.passwords.verify(current_password, user.password_hash):
            raise Invalid("The current password is wrong.", {"current_password": "does not match"})
        return self._app.entities.update_user(user.id, password=new_password)

    # ---- admins ------------------------------------------------------------------------------
    def list(self) -> list[User]:
        return self._app.entities.list_users()

    def create(self, email: str, password: str, full_name: str, tier: str, is_admin: bool) -> User:
        try:
            return self._app.entities.create_user(email, password, full_name, tier, is_admin)
        except StoreConflict as exc:
            raise Conflict(f"A user with email {email.lower()} already exists.", {"email": "already taken"}) from exc

    def update(self, actor: User, user_id: int, changes: dict) -> User:
        nulls = {name: "must not be null" for name, value in changes.items() if value is None}
        if nulls:  # an explicit null is a wrong type, not "leave unchanged" (API.md: never coerced)
            raise Invalid(f"Invalid {next(iter(nulls))}: must not be null.", nulls)
        if user_id == actor.id and changes.get("is_admin") is False:
            raise Invalid("You cannot remove your own administrator rights; ask another admin.",
                          {"is_admin": "cannot demote yourself"})
        entities = self._app.entities
        if entities.get_user(user_id) is None:
            raise NotFound("user")
        try:
            user = entities.update_user(user_id, **changes)
        except StoreConflict as exc:
            raise Conflict("That email is already taken.", {"email": "already taken"}) from exc
        self._app.api_keys.forget_user(user_id)  # cached key lookups carry the user: a demotion counts at once
        return user

    def delete(self, actor: User, user_id: int) -> None:
        """The user and everything of theirs (monitors, history, keys, page)."""
        if user_id == actor.id:
            raise Invalid("You cannot delete your own account.")
        if self._app.entities.get_user(user_id) is None:
            raise NotFound("user")
        self._app.delete_user(user_id)

    def engine_status(self) -> dict:
        """How the check engine keeps up: schedule lag, backlog and the history writer's health."""
        return self._app.engine_status()

    def backup(self, path: Path) -> None:
        """A consistent backup of both stores (and the secret) written to `path`."""
        if self._app.settings.database_url:
            raise Conflict("The stores are on PostgreSQL (STATUSCORE_DATABASE_URL): back the database up with "
                           "pg_dump; statuscore backup covers the data dir's SQLite and DuckDB files only.")
        create_backup(self._app, path)

    @property
    def data_dir(self) -> Path:
        return self._app.settings.data_dir


class Keys:
    """API keys for scripts: named, read or write, shown once, stored hashed, revocable."""

    def __init__(self, appliance):
        self._app = appliance

    def authenticate(self, secret: str) -> tuple[ApiKey, User] | None:
        return self._app.api_keys.authenticate(secret)

    def list(self, user: User) -> list[ApiKey]:
        return self._app.api_keys.list(user.id)

    def create(self, user: User, name: str, scope: str) -> tuple[ApiKey, str]:
        """The key and its secret (in this answer only)."""
        return self._app.api_keys.create(user.id, name, scope)

    def revoke(self, user: User, key_id: int) -> None:
        if not self._app.api_keys.revoke(key_id, user.id):
            raise NotFound.said("API key not found.")
