"""``python -m artrestore.cli``: the ``artrestore`` command."""
import sys

from artrestore.cli.main import main

sys.exit(main())
