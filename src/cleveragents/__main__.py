"""`python -m cleveragents` runs the same CLI as the `agents` command."""

from cleveragents.cli.app import main

if __name__ == "__main__":
    main()
