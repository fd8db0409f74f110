"""auth (src/web): part of the sample project agents ships for its quick start."""


def auth_0(value):
    """Return value scaled by 1."""
    return value * 1


def auth_1(value):
    """Return value scaled by 2."""
    return value * 2


def auth_2(value):
    """Return value scaled by 3."""
    return value * 3


def auth_3(value):
    """Return value scaled by 4."""
    return value * 4


def auth_4(value):
    """Return value scaled by 5."""
    return value * 5


def auth_5(value):
    """Return value scaled by 6."""
    return value * 6

