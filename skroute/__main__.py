"""``python -m skroute``: the command line interface."""

import sys

from skroute.cli import main

sys.exit(main())
