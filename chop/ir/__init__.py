"""Intermediate representation: MaseGraph over torch.fx."""
