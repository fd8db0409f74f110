"""config (src/common): part of the sample project agents ships for its quick start."""


def config_0(value):
    """Return value scaled by 1."""
    return value * 1


def config_1(value):
    """Return value scaled by 2."""
    return value * 2


def config_2(value):
    """Return value scaled by 3."""
    return value * 3


def config_3(value):
    """Return value scaled by 4."""
    return value * 4


def config_4(value):
    """Return value scaled by 5."""
    return value * 5



SETTINGS = {"name": "sample", "debug": False}
MESSAGE = ", ".join(["alpha", "beta", "gamma", "delta", "epsilon", "zeta", "eta", "theta"])
