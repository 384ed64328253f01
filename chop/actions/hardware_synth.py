"""``ch hardware synth MODEL [DATASET] [--load X] [--config T.toml]``: see ``chop.workflows.hardware``."""

from __future__ import annotations

import argparse

COMMAND = ("hardware", "synth")
HELP = "emit, then Yosys synth_xilinx with and without -nodsp: LUT/FF/CARRY4/DSP and logic levels per layer"


def configure(parser: argparse.ArgumentParser) -> None:
    from chop.actions._hardware import add_hardware_arguments

    add_hardware_arguments(parser)


def run(args: argparse.Namespace) -> int:
    from chop.actions._hardware import run_hardware_command

    return run_hardware_command(args, "synth")
