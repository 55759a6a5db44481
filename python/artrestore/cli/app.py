"""The ``artrestore`` parser, built from the command registry, and ``main`` with its exit statuses."""
from __future__ import annotations

import argparse
import importlib
import logging
import sys

from artrestore import __version__
from artrestore._optional import missing_dependency
from artrestore.errors import MissingDependency

__all__ = ["COMMANDS", "EXAMPLES", "build_parser", "main"]

# Modules of artrestore.cli, one per subcommand, in the order ``--help`` lists them.
COMMANDS = ("restore", "analyze", "evaluate", "demo", "serve", "web", "train", "routing")

EXAMPLES = """examples:
  artrestore restore -i damaged.jpg -o restored/              # auto strategy, writes restored/damaged_restored.png
  artrestore restore -i scans/ -o out/ --recursive --workers 2 --strategy classical
  artrestore restore -i photo.png -o out/ --json               # print the info dict as JSON
  artrestore restore -i scans/ -o out/ --prefer speed --time-budget 2   # auto weighs time more
  artrestore analyze damaged.jpg                               # the 14 damage features and the route
  artrestore evaluate --data work/dataset --out report/         # PSNR/SSIM/time table + figures
  artrestore demo                                               # restore the bundled samples + report
  artrestore serve --model-dir models/ --port 8500             # local TF-Serving stand-in (gRPC)
  artrestore train data --src ../shared/data/clean --out work/dataset
"""


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="artrestore", description="Hybrid restoration of damaged artworks and photos.",
                                     formatter_class=argparse.RawDescriptionHelpFormatter, epilog=EXAMPLES)
    parser.add_argument("--version", action="version", version=f"artrestore {__version__}")
    parser.add_argument("-v", "--verbose", action="store_true")
    sub = parser.add_subparsers(dest="command", required=True)
    for name in COMMANDS:
        importlib.import_module(f"artrestore.cli.{name}").register(sub)
    return parser


def main(argv=None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO if args.verbose else logging.WARNING, format="%(levelname)s %(message)s")
    try:
        return args.handler(args)
    except MissingDependency as error:
        print(f"artrestore: error: {error}", file=sys.stderr)
        return 2
    except ModuleNotFoundError as error:
        missing = missing_dependency(error)
        if missing is None:
            raise
        print(f"artrestore: error: {missing}", file=sys.stderr)
        return 2
    except (OSError, ValueError) as error:
        print(f"artrestore: error: {error}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
