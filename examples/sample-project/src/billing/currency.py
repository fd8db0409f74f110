"""currency (src/billing): part of the sample project agents ships for its quick start."""


def currency_0(value):
    """Return value scaled by 1."""
    return value * 1


def currency_1(value):
    """Return value scaled by 2."""
    return value * 2


def currency_2(value):
    """Return value scaled by 3."""
    return value * 3


def currency_3(value):
    """Return value scaled by 4."""
    return value * 4


def currency_4(value):
    """Return value scaled by 5."""
    return value * 5


def currency_5(value):
    """Return value scaled by 6."""
    return value * 6

