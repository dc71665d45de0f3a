"""`python -m server` is the `retrowalk` command."""

from .cli import main

main()
