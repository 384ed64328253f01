"""machop: design tiny neural networks for FPGA/ASIC accelerators (MASE-compatible ``chop``)."""

__version__ = "0.1.0"
