"""``ch hardware emit MODEL [DATASET] [--load X] [--config T.toml]``: see ``chop.workflows.hardware``."""

from __future__ import annotations

import argparse

COMMAND = ("hardware", "emit")
HELP = "emit the quantised model's RTL and Verilator testbench (MASE's emit passes) into PROJECT/hardware/"


def configure(parser: argparse.ArgumentParser) -> None:
    from chop.actions._hardware import add_hardware_arguments

    add_hardware_arguments(parser)


def run(args: argparse.Namespace) -> int:
    from chop.actions._hardware import run_hardware_command

    return run_hardware_command(args, "emit")
