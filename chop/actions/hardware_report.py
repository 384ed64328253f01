"""``ch hardware report MODEL [DATASET] [--load X] [--config T.toml]``: see ``chop.workflows.hardware``."""

from __future__ import annotations

import argparse

COMMAND = ("hardware", "report")
HELP = "emit, simulate and synthesise: float/quantised/prepared/RTL accuracy, mismatches, cost, latency, times"


def configure(parser: argparse.ArgumentParser) -> None:
    from chop.actions._hardware import add_hardware_arguments

    add_hardware_arguments(parser)


def run(args: argparse.Namespace) -> int:
    from chop.actions._hardware import run_hardware_command

    return run_hardware_command(args, "report")
