"""`python -m leakline` is the `leakline` command."""

from leakline.cli import main

main()
