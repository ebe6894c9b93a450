"""What each plan may hold: per-user limits on monitors, webhooks, API keys and maintenance
windows (pure; the stores enforce them when they insert, see EntityStore.add_owned).

- A user's plan is their subscription tier (`free` or `pro`); an administrator is held to the pro
  limits whatever their tier: trusted, but a leaked write key must not fill the appliance.
- A limit of 0 means no limit (an operator who runs 10,000 monitors for one account).
- Lowering a limit or a tier removes nothing: the user only cannot add more until under it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Mapping

from appliance.models import User

# kind -> how a person calls it
KINDS = {"monitors": "monitors", "webhooks": "webhooks", "api_keys": "API keys",
         "maintenance_windows": "maintenance windows"}
PLANS = ("free", "pro")
DEFAULTS = {
    "free": {"monitors": 50, "webhooks": 10, "api_keys": 10, "maintenance_windows": 20},
    "pro": {"monitors": 1000, "webhooks": 50, "api_keys": 50, "maintenance_windows": 200},
}
MAX_LIMIT = 1_000_000


def setting_name(plan: str, kind: str) -> str:
    """The Settings field of one limit, e.g. free_max_monitors (STATUSCORE_FREE_MAX_MONITORS)."""
    return f"{plan}_max_{kind}"


class LimitReached(Exception):
    """A user already has as many of something as their plan allows."""

    def __init__(self, kind: str, limit: int, plan: str, have: int | None = None, adding: int = 1):
        self.kind, self.limit, self.plan = kind, limit, plan
        what = KINDS[kind]
        variable = "STATUSCORE_" + setting_name(plan, kind).upper()
        raise_it = (f"ask an administrator to move you to the pro plan or to raise {variable}" if plan == "free"
                    else f"ask an administrator to raise {variable}")
        if have is None or have >= limit:
            self.message = f"You have reached the {plan} plan's limit of {limit} {what}; delete one first, or {raise_it}."
        else:
            self.message = (f"This would take you past the {plan} plan's limit of {limit} {what} (you have {have}, "
                            f"this adds {adding}); remove some first, or {raise_it}.")
        self.details = {kind: f"at most {limit} on the {plan} plan"}
        super().__init__(self.message)


@dataclass(frozen=True)
class PlanLimits:
    limits: Mapping[str, Mapping[str, int]]  # plan -> kind -> limit (0: none)

    @classmethod
    def from_settings(cls, settings) -> "PlanLimits":
        return cls({plan: {kind: getattr(settings, setting_name(plan, kind)) for kind in KINDS} for plan in PLANS})

    @staticmethod
    def plan(user: User) -> str:
        return "pro" if user.is_admin or user.subscription_tier == "pro" else "free"

    def limit(self, user: User, kind: str) -> int | None:
        """How many of `kind` the user may have, or None for no limit."""
        return self.limits[self.plan(user)][kind] or None

    def check(self, user: User, kind: str, have: int, adding: int = 1) -> None:
        """Raise LimitReached unless the user, who has `have`, may add `adding` more."""
        limit = self.limit(user, kind)
        if limit is not None and adding > 0 and have + adding > limit:
            raise LimitReached(kind, limit, self.plan(user), have, adding)
