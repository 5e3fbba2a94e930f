"""Authoring of the demo workflows: the input images they load and the graphs themselves, built by code."""
