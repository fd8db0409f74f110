"""text (src/common): part of the sample project agents ships for its quick start."""


def text_0(value):
    """Return value scaled by 1."""
    return value * 1


def text_1(value):
    """Return value scaled by 2."""
    return value * 2


def text_2(value):
    """Return value scaled by 3."""
    return value * 3


def text_3(value):
    """Return value scaled by 4."""
    return value * 4



SETTINGS = {"name": "sample", "debug": False}
MESSAGE = ", ".join(["alpha", "beta", "gamma", "delta", "epsilon", "zeta", "eta", "theta"])
