"""The ``ch`` command line.

Every file in ``chop/actions/`` declares ``COMMAND`` (e.g. ``("train",)`` or ``("data", "info")``),
``HELP``, ``configure(parser)`` and ``run(args) -> int``. Action modules import only the standard
library at module level, so building the parser stays fast; heavy imports happen inside ``run``.
"""

from __future__ import annotations

import argparse
import importlib
import os
import pkgutil
import sys
from types import ModuleType

from chop import __version__
from chop.errors import MachopError
from chop.tools.logger import set_logging_verbosity

GROUP_HELP = {
    "data": "datasets: info, download, generate-jsc, validate",
    "model": "models: info",
    "graph": "MaseGraph reports and profiles",
    "hardware": "RTL from a quantised model: emit, simulate, synth, report",
    "export": "the model in formats peer tools read, checked by them: onnx",
    "sweep": "hyper-parameter sweeps: run, report",
}


def _action_modules() -> list[ModuleType]:
    import chop.actions

    names = [m.name for m in pkgutil.iter_modules(chop.actions.__path__) if not m.name.startswith("_")]
    modules = [importlib.import_module(f"chop.actions.{name}") for name in names]
    mase_first = ("train", "test", "transform", "search")
    return sorted(modules, key=lambda m: (len(m.COMMAND) > 1, mase_first.index(m.COMMAND[0])
                                          if m.COMMAND[0] in mase_first else 0, m.COMMAND))


def _common_options() -> argparse.ArgumentParser:
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--config", metavar="PATH.toml", help="TOML file with the same keys as the flags")
    common.add_argument("--debug", action="store_true", help="show Python tracebacks for errors")
    return common


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="ch", description="machop: tiny networks for FPGA/ASIC accelerators")
    parser.add_argument("--version", action="version", version=f"machop {__version__}")
    top = parser.add_subparsers(dest="command", metavar="COMMAND")
    common = _common_options()
    groups: dict[str, argparse._SubParsersAction] = {}
    for module in _action_modules():
        command: tuple[str, ...] = module.COMMAND
        if len(command) == 1:
            sub = top.add_parser(command[0], help=module.HELP, description=module.HELP, parents=[common])
        else:
            group, verb = command
            if group not in groups:
                group_parser = top.add_parser(group, help=GROUP_HELP.get(group, ""))
                groups[group] = group_parser.add_subparsers(dest="verb", metavar="VERB", required=True)
            sub = groups[group].add_parser(verb, help=module.HELP, description=module.HELP, parents=[common])
        module.configure(sub)
        sub.set_defaults(action=module)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if getattr(args, "action", None) is None:
        parser.print_help()
        return 2
    set_logging_verbosity("info")  # warnings as one plain line on stderr; actions may lower or raise the level
    try:
        return int(args.action.run(args) or 0)
    except MachopError as error:
        if args.debug:
            raise
        print(f"ch: error: {error}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("ch: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        # `ch data info ... | head`: the reader left; not an error of ours or the user's.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0


if __name__ == "__main__":
    sys.exit(main())
