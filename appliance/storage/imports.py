"""Writing an ImportPlan: all of it in one transaction, so an import that fails half-way
(the status page address taken a moment ago, a monitor deleted meanwhile, a full disk) leaves
nothing behind. Raises Conflict when the user's configuration changed since the plan was made.
"""

from __future__ import annotations

from sqlalchemy.exc import IntegrityError

from appliance.imports import ImportPlan
from appliance.models import Maintenance, Monitor, Webhook
from appliance.storage.entities import Conflict, change_monitor, new_monitor
from appliance.storage.outbox import change_webhook, new_webhook


def write_import(entities, plan: ImportPlan) -> tuple[list[Monitor], list[Monitor]]:
    """Apply the plan; returns (monitors created, monitors changed), as committed."""
    with entities.session() as s:  # leaving it without a commit rolls everything back
        try:
            user = entities.lock_owner(s, plan.user_id)  # as add_owned: no parallel create in between
            if user is None:
                raise Conflict("your account was deleted")
            created = [new_monitor(plan.user_id, fields) for fields in plan.new_monitors]
            s.add_all(created)
            changed = []
            for monitor_id, changes in plan.monitor_changes.items():
                monitor = _owned(s, Monitor, monitor_id, plan.user_id, "a monitor")
                change_monitor(monitor, changes)
                changed.append(monitor)
            for hook in plan.new_webhooks:
                s.add(new_webhook(plan.user_id, **hook))
            for hook_id, changes in plan.webhook_changes.items():
                change_webhook(_owned(s, Webhook, hook_id, plan.user_id, "a webhook"), changes)
            if plan.status_page is not None:
                for key, value in plan.status_page.items():
                    setattr(user, key, value)
            s.flush()  # the new monitors get their ids, for the windows below
            for monitor_id in plan.monitor_ids.values():
                _owned(s, Monitor, monitor_id, plan.user_id, "a monitor")
            ids = {**plan.monitor_ids, **{m.name: m.id for m in created}}
            for spec in plan.new_windows:
                s.add(Maintenance(user_id=plan.user_id, **spec.fields(ids)))
            for window_id, spec in plan.window_changes.items():
                window = _owned(s, Maintenance, window_id, plan.user_id, "a maintenance window")
                for key, value in spec.fields(ids).items():
                    setattr(window, key, value)
            s.commit()
        except IntegrityError:  # the one unique value an import sets: the status page slug
            raise Conflict("the status page address was taken a moment ago") from None
    return created, changed


def _owned(s, model, row_id: int, user_id: int, what: str):
    row = s.get(model, row_id)
    if row is None or row.user_id != user_id:
        raise Conflict(f"{what} it changes was deleted while it ran")
    return row
