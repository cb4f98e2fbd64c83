"""adsentry: data tooling that finds trafficking networks in online ads."""

__version__ = "0.1.0"
