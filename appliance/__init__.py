"""StatusCore appliance core: settings, stores, checkers and the check engine.

This package never imports flask, waitress or textual; the `statuscore` package wires it to the
server and the console. tests/test_architecture.py keeps that true.
"""

__version__ = "0.1.0"
