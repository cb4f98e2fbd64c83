"""``python -m adsentry``: the command line."""

from adsentry.cli import main

main()
