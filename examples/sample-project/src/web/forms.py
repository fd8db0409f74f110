"""forms (src/web): part of the sample project agents ships for its quick start."""


def forms_0(value):
    """Return value scaled by 1."""
    return value * 1


def forms_1(value):
    """Return value scaled by 2."""
    return value * 2


def forms_2(value):
    """Return value scaled by 3."""
    return value * 3


def forms_3(value):
    """Return value scaled by 4."""
    return value * 4

