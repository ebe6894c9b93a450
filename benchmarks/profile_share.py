"""Where a node's CPU goes: sums py-spy's folded stacks (`py-spy record -f raw`, as
`benchmarks/cluster.py --profile DIR` writes them) into shares of all on-CPU samples.

    .venv/bin/python benchmarks/profile_share.py /tmp/prof/node.collapsed

Prints the share of samples under each thread's entry point, under a few libraries (a sample
counts once per library found anywhere in its stack), and the StatusCore functions with the most
samples under them. py-spy counts some threads blocked in C as active (a queue's get, a condition's
wait, psycopg waiting for the server's answer): samples whose innermost frame only waits are
counted apart and left out of the shares.
"""

from __future__ import annotations

import re
import sys
from collections import Counter
from pathlib import Path

# Library buckets: a frame whose file path contains the marker.
LIBRARIES = {
    "SQL: any (SQLAlchemy, SQLModel, psycopg)": ("sqlalchemy/", "sqlmodel/", "psycopg/", "psycopg_"),
    "SQL: SQLAlchemy/SQLModel": ("sqlalchemy/", "sqlmodel/"),
    "SQL: psycopg (driver)": ("psycopg/", "psycopg_"),
    "logging": ("logging/",),
    "json": ("json/",),
    "HTTP server (waitress/flask)": ("waitress/", "flask/", "werkzeug/"),
    "sockets/ssl": ("socket.py", "ssl.py", "selectors.py"),
}
# Entry points: the first StatusCore frame (or thread target) of a stack, by its function name.
ENTRIES = ("Cluster._loop", "Cluster.step", "Appliance._housekeeping", "Scheduler._loop", "WorkerPool._work",
           "QueuedHistory._writer_loop", "Dispatcher._loop", "ThreadedTaskDispatcher.handler_thread",
           "_watch_loop.<locals>.watch")
FRAME = re.compile(r"^(?P<fn>.+) \((?P<file>[^():]+)(?::(?P<line>\d+))?\)$")
WAITS = ("Condition.wait", "Event.wait", "Connection.wait")  # library frames that block
ROOT = Path(__file__).resolve().parents[1]


def waits(leaf: str) -> bool:
    """The innermost frame blocks: a library wait, or a StatusCore line that gets from a queue."""
    m = FRAME.match(leaf)
    if m is None:
        return False
    if m["fn"] in WAITS:
        return True
    if m["line"] and (ROOT / m["file"]).is_file():
        lines = (ROOT / m["file"]).read_text().splitlines()
        line = lines[int(m["line"]) - 1] if int(m["line"]) <= len(lines) else ""
        return "_queue.get(" in line or ".wait(" in line
    return False


def frames(stack: str) -> list[tuple[str, str]]:
    out = []
    for part in stack.split(";"):
        m = FRAME.match(part)
        out.append((m["fn"], m["file"]) if m else (part, ""))
    return out


def main(path: str) -> None:
    total = waiting = 0
    entries: Counter[str] = Counter()
    libraries: Counter[str] = Counter()
    ours: Counter[str] = Counter()
    for line in Path(path).read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        if not count.isdigit():
            continue
        n = int(count)
        if waits(stack.rsplit(";", 1)[-1]):
            waiting += n
            continue
        total += n
        fs = frames(stack)
        entry = next((fn for fn, _file in fs if fn in ENTRIES), "other threads")
        entries[entry] += n
        for name, markers in LIBRARIES.items():
            if any(marker in file for _fn, file in fs for marker in markers):
                libraries[name] += n
        for fn in {f"{fn} ({file})" for fn, file in fs
                   if file.startswith(("appliance/", "server/", "statuscore/"))}:
            ours[fn] += n
    if not total:
        sys.exit(f"no samples in {path}")
    print(f"{total} on-CPU samples ({waiting} more only waiting, left out)")

    def table(title: str, counts: Counter[str], limit: int) -> None:
        print(f"\n| {title} | share of node CPU |\n|---|---:|")
        for name, n in counts.most_common(limit):
            print(f"| {name} | {n / total * 100:.1f} % |")

    table("thread (entry point)", entries, len(ENTRIES) + 1)
    table("library (anywhere in the stack)", libraries, len(LIBRARIES))
    table("StatusCore function (inclusive)", ours, 30)


if __name__ == "__main__":
    main(sys.argv[1])
