"""`python -m statuscore`: the same as the `statuscore` executable."""

import sys

from statuscore.cli import main

sys.exit(main())
