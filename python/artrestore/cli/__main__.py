"""``python -m artrestore.cli``: the ``artrestore`` command."""
import sys

from artrestore.cli.app import main

sys.exit(main())
