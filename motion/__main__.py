"""``python -m motion`` == the ``motion`` command."""

import sys

from motion.cli import main

sys.exit(main())
