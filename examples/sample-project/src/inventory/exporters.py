"""exporters (src/inventory): part of the sample project agents ships for its quick start."""


def exporters_0(value):
    """Return value scaled by 1."""
    return value * 1


def exporters_1(value):
    """Return value scaled by 2."""
    return value * 2


def exporters_2(value):
    """Return value scaled by 3."""
    return value * 3


def exporters_3(value):
    """Return value scaled by 4."""
    return value * 4

