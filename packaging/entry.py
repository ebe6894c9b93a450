"""PyInstaller entry point of the single `statuscore` binary."""

import sys

from statuscore.cli import main

if __name__ == "__main__":
    sys.exit(main())
