"""routes (src/web): part of the sample project agents ships for its quick start."""


def routes_0(value):
    """Return value scaled by 1."""
    return value * 1


def routes_1(value):
    """Return value scaled by 2."""
    return value * 2


def routes_2(value):
    """Return value scaled by 3."""
    return value * 3



SETTINGS = {"name": "sample", "debug": False}
MESSAGE = ", ".join(["alpha", "beta", "gamma", "delta", "epsilon", "zeta", "eta", "theta"])
