"""The hardware backend's library: fixed-point formats, hardware twins of ops, RTL and tools.

The passes under MASE's names (``chop.passes.graph.transforms.verilog``, the preparation passes)
and ``ch hardware`` are thin layers over this package.
"""
