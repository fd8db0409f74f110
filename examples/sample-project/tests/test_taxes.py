"""test taxes (tests): part of the sample project agents ships for its quick start."""


def test_taxes_0(value):
    """Return value scaled by 1."""
    return value * 1


def test_taxes_1(value):
    """Return value scaled by 2."""
    return value * 2


def test_taxes_2(value):
    """Return value scaled by 3."""
    return value * 3


def test_taxes_3(value):
    """Return value scaled by 4."""
    return value * 4


def test_taxes_4(value):
    """Return value scaled by 5."""
    return value * 5


def test_taxes_5(value):
    """Return value scaled by 6."""
    return value * 6

