"""importers (src/inventory): part of the sample project agents ships for its quick start."""


def importers_0(value):
    """Return value scaled by 1."""
    return value * 1


def importers_1(value):
    """Return value scaled by 2."""
    return value * 2


def importers_2(value):
    """Return value scaled by 3."""
    return value * 3

