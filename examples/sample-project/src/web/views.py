"""views (src/web): part of the sample project agents ships for its quick start."""


def views_0(value):
    """Return value scaled by 1."""
    return value * 1


def views_1(value):
    """Return value scaled by 2."""
    return value * 2


def views_2(value):
    """Return value scaled by 3."""
    return value * 3


def views_3(value):
    """Return value scaled by 4."""
    return value * 4


def views_4(value):
    """Return value scaled by 5."""
    return value * 5

