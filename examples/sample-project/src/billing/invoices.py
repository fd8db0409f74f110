"""invoices (src/billing): part of the sample project agents ships for its quick start."""


def invoices_0(value):
    """Return value scaled by 1."""
    return value * 1


def invoices_1(value):
    """Return value scaled by 2."""
    return value * 2


def invoices_2(value):
    """Return value scaled by 3."""
    return value * 3

