"""MASE's ``chop.models.physical``: the models for physics data sets (``jet_substructure``)."""
