"""Webhooks and their deliveries (SQLite): the durable side of notifications.

Every step that could run twice is a compare-and-set, so a crash or a restart at any point
neither loses an event nor sends it twice:
- a StateChange is fanned out once (processed_at set in the same transaction that creates its
  deliveries);
- a delivery is claimed before sending (claimed_until, a lease) and finished in one update.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Callable, Sequence

from sqlalchemy import case, func, update
from sqlmodel import select

from appliance.models import Delivery, DeliveryAttempt, Monitor, StateChange, User, Webhook
from appliance.timeutil import as_utc, utcnow

FAILING_AFTER = 3  # final failures in a row before a webhook is flagged as failing


@dataclass(frozen=True)
class Fanout:
    """What the dispatcher needs to turn one StateChange into deliveries."""

    change: StateChange
    monitor: Monitor
    user: User
    webhooks: list[Webhook]


def _oldest_pending():
    """webhook_id -> the id of its oldest pending delivery (deliveries go out in order)."""
    return (select(Delivery.webhook_id, func.min(Delivery.id).label("first"))
            .where(Delivery.state == "pending").group_by(Delivery.webhook_id).subquery())


class OutboxStore:
    def __init__(self, entities):
        self.entities = entities  # shares the EntityStore's engine and session factory

    def session(self):
        return self.entities.session()

    # ---- webhooks ----------------------------------------------------------------------------
    def create_webhook(self, user_id: int, url: str, format: str, events: list[str], enabled: bool,
                       settings: dict | None = None) -> Webhook:
        return self.entities.add_owned(new_webhook(user_id, url, format, events, enabled, settings), "webhooks")

    def webhooks(self, user_id: int) -> list[Webhook]:
        with self.session() as s:
            return list(s.exec(select(Webhook).where(Webhook.user_id == user_id).order_by(Webhook.id)))

    def webhook(self, webhook_id: int, user_id: int | None = None) -> Webhook | None:
        with self.session() as s:
            hook = s.get(Webhook, webhook_id)
            if hook is None or (user_id is not None and hook.user_id != user_id):
                return None
            return hook

    def update_webhook(self, webhook_id: int, user_id: int, changes: dict) -> Webhook | None:
        with self.session() as s:
            hook = s.get(Webhook, webhook_id)
            if hook is None or hook.user_id != user_id:
                return None
            change_webhook(hook, changes)
            s.add(hook)
            s.commit()
            s.refresh(hook)
            return hook

    def delete_webhook(self, webhook_id: int, user_id: int) -> bool:
        with self.session() as s:
            hook = s.get(Webhook, webhook_id)
            if hook is None or hook.user_id != user_id:
                return False
            s.delete(hook)
            s.commit()
            return True

    # ---- fan-out -----------------------------------------------------------------------------
    def unprocessed_changes(self, limit: int = 100) -> list[int]:
        with self.session() as s:
            return list(s.exec(select(StateChange.id).where(StateChange.processed_at.is_(None))
                               .order_by(StateChange.id).limit(limit)))

    def fan_out(self, change_id: int, make: Callable[[Fanout], list[Delivery]]) -> int:
        """Claim one StateChange and create its deliveries atomically; returns how many."""
        with self.session() as s:
            claimed = s.exec(update(StateChange).where(StateChange.id == change_id,
                                                       StateChange.processed_at.is_(None))
                             .values(processed_at=utcnow())).rowcount
            if not claimed:
                s.rollback()
                return 0
            change = s.get(StateChange, change_id)
            monitor = s.get(Monitor, change.monitor_id)
            user = s.get(User, monitor.user_id) if monitor else None
            deliveries: list[Delivery] = []
            if monitor is not None and user is not None:
                hooks = list(s.exec(select(Webhook).where(Webhook.user_id == user.id, Webhook.enabled.is_(True))
                                    .order_by(Webhook.id)))
                hooks = [h for h in hooks if change.event in (h.events or [])]
                if hooks:
                    deliveries = make(Fanout(change, monitor, user, hooks))
            for delivery in deliveries:
                s.add(delivery)
            s.commit()
            return len(deliveries)

    # ---- delivering --------------------------------------------------------------------------
    def release_claims(self) -> None:
        """At start-up: this process is the only sender, so no claim of a previous run is live."""
        with self.session() as s:
            s.exec(update(Delivery).where(Delivery.state == "pending", Delivery.claimed_until.is_not(None))
                   .values(claimed_until=None))
            s.commit()

    def due(self, now: datetime, limit: int = 50) -> list[int]:
        """The oldest pending delivery of each webhook, if it is due and not claimed: one webhook
        gets its events in order, and a failing receiver delays only itself."""
        oldest = _oldest_pending()
        with self.session() as s:
            rows = s.exec(
                select(Delivery.id).join(oldest, Delivery.id == oldest.c.first)
                .where(Delivery.next_attempt_at <= now,
                       (Delivery.claimed_until.is_(None)) | (Delivery.claimed_until < now))
                .order_by(Delivery.next_attempt_at).limit(limit))
            return list(rows)

    def next_attempt_at(self) -> datetime | None:
        """When the next delivery may go: the earliest retry time (or end of a claim) among the
        oldest pending delivery of each webhook (the ones due() can return). The dispatcher
        sleeps until then instead of polling."""
        oldest = _oldest_pending()
        may_go = case((Delivery.claimed_until > Delivery.next_attempt_at, Delivery.claimed_until),
                      else_=Delivery.next_attempt_at)
        with self.session() as s:
            at = s.exec(select(func.min(may_go)).join(oldest, Delivery.id == oldest.c.first)).one()
        return as_utc(at) if at is not None else None

    def claim(self, delivery_id: int, now: datetime, lease_seconds: float) -> tuple[Delivery, Webhook] | None:
        # In cluster mode the claim runs by the database's clock: the nodes sharing it compare one
        # clock, whatever their own say. (Naive UTC, as the column holds.)
        if getattr(self.entities, "fence", None) is not None:
            now = func.timezone("UTC", func.now())
        with self.session() as s:
            claimed = s.exec(
                update(Delivery).where(Delivery.id == delivery_id, Delivery.state == "pending",
                                       (Delivery.claimed_until.is_(None)) | (Delivery.claimed_until < now))
                .values(claimed_until=now + timedelta(seconds=lease_seconds), attempts=Delivery.attempts + 1)
            ).rowcount
            if not claimed:
                s.rollback()
                return None
            s.commit()
            delivery = s.get(Delivery, delivery_id)
            return delivery, s.get(Webhook, delivery.webhook_id)

    def finish_attempt(self, delivery_id: int, at: datetime, status_code: int | None, error: str | None,
                       duration_ms: int, next_attempt_at: datetime | None, final_state: str | None) -> None:
        """Record one attempt; either schedule the next one or finish the delivery."""
        with self.session() as s:
            delivery = s.get(Delivery, delivery_id)
            if delivery is None:
                return
            s.add(DeliveryAttempt(delivery_id=delivery_id, at=at, status_code=status_code, error=error,
                                  duration_ms=duration_ms))
            delivery.last_status_code, delivery.last_error = status_code, error
            delivery.claimed_until = None
            if final_state is not None:
                delivery.state, delivery.finished_at = final_state, at
            elif next_attempt_at is not None:
                delivery.next_attempt_at = next_attempt_at
            s.add(delivery)
            hook = s.get(Webhook, delivery.webhook_id)
            if hook is not None and final_state is not None:
                if final_state == "delivered":
                    hook.permanent_failures, hook.failing = 0, False
                else:
                    hook.permanent_failures += 1
                    hook.failing = hook.permanent_failures >= FAILING_AFTER
                s.add(hook)
            s.commit()

    def record_test(self, delivery: Delivery, attempt: DeliveryAttempt) -> Delivery:
        with self.session() as s:
            s.add(delivery)
            s.flush()
            attempt.delivery_id = delivery.id
            s.add(attempt)
            s.commit()
            s.refresh(delivery)
            return delivery

    def deliveries(self, webhook_id: int, limit: int = 50) -> list[tuple[Delivery, list[DeliveryAttempt]]]:
        with self.session() as s:
            rows = list(s.exec(select(Delivery).where(Delivery.webhook_id == webhook_id)
                               .order_by(Delivery.id.desc()).limit(limit)))
            ids = [d.id for d in rows]
            attempts: dict[int, list[DeliveryAttempt]] = {i: [] for i in ids}
            if ids:
                for attempt in s.exec(select(DeliveryAttempt).where(DeliveryAttempt.delivery_id.in_(ids))
                                      .order_by(DeliveryAttempt.id)):
                    attempts[attempt.delivery_id].append(attempt)
            return [(d, attempts[d.id]) for d in rows]

    def deliveries_of_changes(self, change_ids: Sequence[int]) -> list[tuple[Delivery, Webhook]]:
        """The deliveries made for these outbox rows, with their webhooks, oldest first."""
        if not change_ids:
            return []
        with self.session() as s:
            rows = s.exec(select(Delivery, Webhook).join(Webhook, Webhook.id == Delivery.webhook_id)
                          .where(Delivery.state_change_id.in_(list(change_ids))).order_by(Delivery.id))
            return [(delivery, hook) for delivery, hook in rows]

    def pending_count(self) -> int:
        with self.session() as s:
            return s.exec(select(func.count()).select_from(Delivery).where(Delivery.state == "pending")).one()


SECRET_PREFIX = "whsec_"


def new_secret() -> str:
    return SECRET_PREFIX + secrets.token_hex(24)


def new_webhook(user_id: int, url: str, format: str, events: list[str], enabled: bool,
                settings: dict | None = None) -> Webhook:
    """A webhook row to add, with its signing secret."""
    return Webhook(user_id=user_id, url=url, format=format, events=events, enabled=enabled, secret=new_secret(),
                   settings=settings)


def change_webhook(hook: Webhook, changes: dict) -> None:
    """Apply changes to a webhook row of a session (enabled again or moved: no longer failing)."""
    for key, value in changes.items():
        setattr(hook, key, value)
    if changes.get("enabled") is True or "url" in changes or "settings" in changes:
        hook.failing, hook.permanent_failures = False, 0
