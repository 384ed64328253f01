"""``ch data download jsc [--source cernbox|openml] [--sha256 HEX] [--data-path DIR]``."""

from __future__ import annotations

import argparse
import json

COMMAND = ("data", "download")
HELP = "download the real JSC dataset (CERNBox HDF5 by default, or OpenML 42468 ARFF)"


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("dataset", metavar="DATASET", help="jsc (the only downloadable dataset)")
    parser.add_argument("--source", choices=("cernbox", "openml"), default="cernbox",
                        help="cernbox: the HDF5 file MASE uses (test rows match); openml: dataset 42468")
    parser.add_argument("--sha256", metavar="HEX", help="expected sha256 of the CERNBox file")
    parser.add_argument("--data-path", metavar="DIR", help="directory to download into (default: the cache directory)")
    parser.add_argument("--json", action="store_true", help="print JSON only (no progress bar)")


def run(args: argparse.Namespace) -> int:
    import sys
    from dataclasses import asdict

    from chop.dataset.download import download_jsc
    from chop.errors import DataError

    if args.dataset != "jsc":
        raise DataError(f"only dataset 'jsc' can be downloaded, got '{args.dataset}' ('jsc-pythia' is bundled)")
    result = download_jsc(args.source, args.data_path, args.sha256, progress=not args.json and sys.stderr.isatty())
    if args.json:
        print(json.dumps(asdict(result), indent=2))
    else:
        verb = "already present" if result.reused else f"downloaded {result.bytes} bytes"
        print(f"{result.path}: {verb}, sha256 {result.sha256}")
    return 0
