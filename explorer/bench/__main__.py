"""`python -m explorer.bench`: see `explorer.bench.cli`."""

import sys

from explorer.bench.cli import main

sys.exit(main())
