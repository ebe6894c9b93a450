"""Page versions: a counter per user, bumped by every write that changes what that user's public
status page shows (a monitor created, renamed, unpublished, paused or deleted; the page's title
or address; a maintenance window; the user deleted). The server caches assembled pages for load,
and an entry is good only while its owner's version is the one it was built at, so a change shows
on the very next request."""

from __future__ import annotations

import threading


class PageVersions:
    def __init__(self):
        self._lock = threading.Lock()
        self._versions: dict[int, int] = {}
        self._epoch = 0

    def get(self, user_id: int) -> int:
        return self._versions.get(user_id, 0) + (self._epoch << 32)

    def bump_all(self) -> None:
        """Another appliance changed what pages show (cluster mode): every page is stale."""
        with self._lock:
            self._epoch += 1

    def bump(self, user_id: int) -> None:
        with self._lock:
            self._versions[user_id] = self._versions.get(user_id, 0) + 1
