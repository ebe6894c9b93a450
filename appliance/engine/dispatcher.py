"""Dispatcher: turns outbox rows (StateChange) into deliveries to every channel (webhook, e-mail,
Apprise) and sends them.

- Fan-out claims each StateChange once and writes its deliveries in the same transaction.
- Each webhook gets its deliveries in order; its oldest pending one is claimed (compare-and-set
  with a lease), posted with a timeout on a small thread pool, and either finished or scheduled
  again with exponential backoff (15 s, 45 s, 135 s, 405 s: 5 attempts over ~10 minutes).
  A 4xx answer is permanent: retrying the same body will not help.
- A slow receiver holds one pool thread for at most the timeout and delays only its own
  webhook; checks never wait for notifications.
- On start, claims left by a previous (killed) process are released and sending resumes. In
  cluster mode (`shared`) other live nodes' claims are theirs: a killed node's claims run out
  instead; and a node sends only while it holds its cluster lease (`may_send`).
"""

from __future__ import annotations

import json
import logging
import ssl
import threading
import uuid
from datetime import datetime, timedelta
from typing import Callable, Sequence

from sqlalchemy.exc import SQLAlchemyError

from appliance.engine.scheduler import WorkerPool
from appliance.models import Delivery
from appliance.notifiers import Event, apprise_transport, render, signature, smtp
from appliance.notifiers.transport import Outcome, post
from appliance.storage import storage_error
from appliance.storage.outbox import Fanout, OutboxStore
from appliance.timeutil import utcnow

log = logging.getLogger("statuscore.webhooks")

BACKOFF_SECONDS = (15, 45, 135, 405)  # waits after attempts 1-4; attempt 5 is the last
MAX_ATTEMPTS = len(BACKOFF_SECONDS) + 1


def next_attempt_delay(attempts: int, backoff: Sequence[float] = BACKOFF_SECONDS) -> float | None:
    """Seconds to wait after `attempts` failed attempts, or None when there is no next one
    (len(backoff) + 1 attempts in all)."""
    return backoff[attempts - 1] if 1 <= attempts <= len(backoff) else None


class Dispatcher:
    def __init__(self, outbox: OutboxStore, make_event: Callable[[Fanout], Event], *,
                 timeout: float = 10.0, workers: int = 8, ca_file: str | None = None,
                 clock: Callable[[], datetime] = utcnow, poll_seconds: float = 10.0,
                 backoff: Sequence[float] = BACKOFF_SECONDS, shared: bool = False,
                 may_send: Callable[[], bool] = lambda: True):
        self.outbox = outbox
        self.shared = shared
        self.may_send = may_send
        self.backoff = tuple(backoff)
        self.make_event = make_event
        self.timeout = timeout
        self.clock = clock
        self.poll_seconds = poll_seconds
        self._workers = workers
        self._tls = ssl.create_default_context()
        if ca_file:
            self._tls.load_verify_locations(cafile=ca_file)
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._pool: WorkerPool | None = None
        self._in_flight: set[int] = set()
        self._unbuildable: set[int] = set()  # outbox rows whose messages could not be built
        self._lock = threading.Lock()

    # ---- lifecycle ---------------------------------------------------------------------------
    def start(self) -> None:
        if not self.shared:
            self.outbox.release_claims()
        self._pool = WorkerPool(self._workers, name="webhook")
        self._thread = threading.Thread(target=self._loop, name="dispatcher", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 2.0) -> None:
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout)
        if self._pool is not None:
            self._pool.stop()

    def wake(self) -> None:
        """Something was written to the outbox: look now rather than at the next poll."""
        self._wake.set()

    # ---- one pass (also called directly by tests) --------------------------------------------
    def run_once(self) -> None:
        if not self.may_send():  # a cluster node cut off from the others: not a single send
            return
        for change_id in self.outbox.unprocessed_changes():
            if change_id in self._unbuildable:
                continue
            try:
                self.outbox.fan_out(change_id, self._deliveries_for)
            except SQLAlchemyError:
                raise  # the database (busy, full): everything is tried again next round
            except Exception:
                # One row we cannot turn into messages must not hold up every later one: it stays
                # in the outbox (tried again after a restart) and is logged once.
                self._unbuildable.add(change_id)
                log.exception("webhook event %d could not be built; skipping it until a restart", change_id)
        for delivery_id in self.outbox.due(self.clock()):
            with self._lock:
                if delivery_id in self._in_flight:
                    continue
            claimed = self.outbox.claim(delivery_id, self.clock(), lease_seconds=self.timeout + 30)
            if claimed is None:
                continue
            with self._lock:
                self._in_flight.add(delivery_id)
            if self._pool is not None:
                self._pool.submit(self._send, *claimed)
            else:
                self._send(*claimed)

    def _loop(self) -> None:
        failing = None  # the store's last refusal, logged once (not every poll while the disk is full)
        while not self._stop.is_set():
            try:
                self.run_once()
                if failing is not None:
                    log.info("webhook dispatch works again")
                failing = None
            except SQLAlchemyError as exc:  # the database is busy or full: try again next round
                if failing is None:
                    log.error("webhook dispatch cannot use the entity store (%s); retrying every %.0f s: "
                              "if the disk is full, free space there", storage_error(exc), self.poll_seconds)
                failing = storage_error(exc)
            except Exception:
                log.exception("webhook dispatch failed; retrying in %.0f s", self.poll_seconds)
            self._wake.wait(self._until_next_attempt())
            self._wake.clear()

    def _until_next_attempt(self) -> float:
        """Seconds to sleep: until the next retry is due, at most poll_seconds. Every write to
        the outbox wakes the loop at once (wake()), so the poll is only a safety net and an
        idle appliance does not query the store every second."""
        try:
            at = self.outbox.next_attempt_at()
        except SQLAlchemyError:
            return self.poll_seconds
        if at is None:
            return self.poll_seconds
        return min(self.poll_seconds, max(0.05, (at - self.clock()).total_seconds()))

    # ---- building and sending ----------------------------------------------------------------
    def _deliveries_for(self, fanout: Fanout) -> list[Delivery]:
        event = self.make_event(fanout)
        return [Delivery(webhook_id=hook.id, state_change_id=fanout.change.id, uuid=str(uuid.uuid4()),
                         event=event.name, monitor_id=fanout.monitor.id, monitor_name=fanout.monitor.name,
                         body=render(hook.format, event), next_attempt_at=self.clock())
                for hook in fanout.webhooks]

    def _send(self, delivery: Delivery, webhook) -> None:
        try:
            if not self.may_send():  # the lease ran out while it waited: its claim runs out, another sends it
                return
            if webhook is None or not webhook.enabled:
                self.outbox.finish_attempt(delivery.id, self.clock(), None, "the webhook is disabled",
                                           0, None, "failed")
                return
            outcome = self.deliver(webhook, delivery.uuid, delivery.event, delivery.body)
            now = self.clock()
            if outcome.ok:
                final, next_at = "delivered", None
            elif outcome.permanent:
                final, next_at = "failed", None
            else:
                delay = next_attempt_delay(delivery.attempts, self.backoff)
                final = None if delay is not None else "failed"
                next_at = now + timedelta(seconds=delay) if delay is not None else None
            try:
                self.outbox.finish_attempt(delivery.id, now, outcome.status_code, outcome.error,
                                           outcome.duration_ms, next_at, final)
            except SQLAlchemyError as exc:
                # Sent, but not recorded: the claim runs out and it goes again, with the same
                # X-StatusCore-Delivery id (receivers may deduplicate on it).
                log.error("webhook %d: the outcome of sending %s could not be saved (%s); it is sent again "
                          "when its claim runs out", webhook.id, delivery.event, storage_error(exc))
                return
            if final == "failed":
                log.warning("webhook %d (%s) gave up on %s after %d attempt(s): %s; check the channel's settings",
                            webhook.id, webhook.format, delivery.event, delivery.attempts, outcome.error)
        finally:
            with self._lock:
                self._in_flight.discard(delivery.id)
            self._wake.set()  # the webhook's next delivery may go now

    def deliver(self, webhook, delivery_uuid: str, event_name: str, body: str) -> Outcome:
        """One attempt, by the channel's kind: SMTP for email, Apprise for apprise, else a POST."""
        if webhook.format == "email":
            return smtp.send(webhook.settings or {}, json.loads(body), delivery_uuid, self.timeout, self._tls)
        if webhook.format == "apprise":
            return apprise_transport.send(webhook.url, json.loads(body), self.timeout)
        data = body.encode("utf-8")
        headers = {"X-StatusCore-Event": event_name, "X-StatusCore-Delivery": delivery_uuid}
        if webhook.format == "generic":
            headers["X-StatusCore-Signature"] = signature(webhook.secret, data)
        return post(webhook.url, data, headers, self.timeout, self._tls)
