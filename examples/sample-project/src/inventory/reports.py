"""reports (src/inventory): part of the sample project agents ships for its quick start."""


def reports_0(value):
    """Return value scaled by 1."""
    return value * 1


def reports_1(value):
    """Return value scaled by 2."""
    return value * 2


def reports_2(value):
    """Return value scaled by 3."""
    return value * 3


def reports_3(value):
    """Return value scaled by 4."""
    return value * 4


def reports_4(value):
    """Return value scaled by 5."""
    return value * 5


def reports_5(value):
    """Return value scaled by 6."""
    return value * 6

