"""StatusCore appliance core: settings, stores, checkers and the check engine.

This package never imports flask, waitress or textual (cli.py, the composition
root, is the one exception); tests/test_architecture.py keeps that true.
"""

__version__ = "0.1.0"
