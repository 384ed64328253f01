"""``python -m chop.dataset.generator.native build [--force]``: compile the jet helper (Makefile ``native``)."""

from __future__ import annotations

import argparse
import sys

from chop.dataset.generator.native import build
from chop.errors import MachopError


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m chop.dataset.generator.native")
    parser.add_argument("action", choices=["build"])
    parser.add_argument("--force", action="store_true", help="rebuild even when up to date")
    args = parser.parse_args(argv)
    try:
        directory = build(force=args.force)
    except MachopError as error:
        print(f"native: error: {error}", file=sys.stderr)
        return 2
    print(f"jet helper ready in {directory}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
