"""Application flows: what one ``ch`` command does, as a library call a notebook can make too.

A workflow strings the lower layers together — models, engine, MaseGraph, passes — and writes the
command's files; actions parse arguments, call one workflow and print. Nothing below imports this.
"""
