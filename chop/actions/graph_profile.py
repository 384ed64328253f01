"""``ch graph profile MODEL [DATASET] [--load PATH] [--num-samples N] [--plot PNG] [--json]``."""

from __future__ import annotations

import argparse
import json

COMMAND = ("graph", "profile")
HELP = "profile every weight and activation of a model on a dataset; box plots on a log2 scale (PNG)"


def configure(parser: argparse.ArgumentParser) -> None:
    from chop.tools.checkpoint_load import LOAD_TYPES

    parser.add_argument("model", metavar="MODEL", help="registered model name or FILE.py:ClassName")
    parser.add_argument("dataset", metavar="DATASET", nargs="?", default="jsc-pythia",
                        help="dataset whose training rows are fed (default: the bundled jsc-pythia)")
    parser.add_argument("--data-path", metavar="PATH", help="jsc only: the data file, or a directory holding it")
    parser.add_argument("--load", dest="load_name", metavar="PATH", help="checkpoint to load (pt, pl or mz)")
    parser.add_argument("--load-type", choices=LOAD_TYPES, help="checkpoint type (default: from the file)")
    parser.add_argument("--num-samples", type=int, default=4096, help="activation samples to profile (default 4096)")
    parser.add_argument("--batch-size", type=int, default=1024, help="samples per batch (default 1024)")
    parser.add_argument("--plot", metavar="PNG", default="profile.png", help="box plot file (default profile.png)")
    parser.add_argument("--json", action="store_true", help="print JSON only")


def run(args: argparse.Namespace) -> int:
    from chop.dataset import MaseDataModule
    from chop.errors import ConfigError
    from chop.models import model_source
    from chop.passes.graph.analysis.profile_summary import profile_graph
    from chop.passes.graph.interface.model_source import build_mase_graph
    from chop.tools.get_input import InputGenerator
    from chop.tools.runtime import configure_threads

    if args.num_samples < 1 or args.batch_size < 1:
        raise ConfigError(f"--num-samples and --batch-size must be positive, got {args.num_samples} and {args.batch_size}")
    configure_threads()
    graph = build_mase_graph(args.model, args.load_name, args.load_type)
    model_name, _ = model_source(args.model)
    data = MaseDataModule(name=args.dataset, batch_size=args.batch_size, model_name=model_name, data_path=args.data_path)
    data.prepare_data()
    data.setup()
    info = profile_graph(graph, InputGenerator(data_module=data, which_dataloader="train"), args.num_samples, args.plot)
    if args.json:
        print(json.dumps({k: v for k, v in info.items() if k != "table"}, indent=2))
    else:
        print(info["table"])
        print(f"box plots: {info['plot_path']}")
    return 0
