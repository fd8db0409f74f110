"""templates helpers (src/web): part of the sample project agents ships for its quick start."""


def templates_helpers_0(value):
    """Return value scaled by 1."""
    return value * 1


def templates_helpers_1(value):
    """Return value scaled by 2."""
    return value * 2


def templates_helpers_2(value):
    """Return value scaled by 3."""
    return value * 3


def templates_helpers_3(value):
    """Return value scaled by 4."""
    return value * 4

