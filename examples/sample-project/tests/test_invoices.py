"""test invoices (tests): part of the sample project agents ships for its quick start."""


def test_invoices_0(value):
    """Return value scaled by 1."""
    return value * 1


def test_invoices_1(value):
    """Return value scaled by 2."""
    return value * 2


def test_invoices_2(value):
    """Return value scaled by 3."""
    return value * 3


def test_invoices_3(value):
    """Return value scaled by 4."""
    return value * 4


def test_invoices_4(value):
    """Return value scaled by 5."""
    return value * 5

