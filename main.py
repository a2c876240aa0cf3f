"""Starts the ControlNet Studio window."""

import sys

from ui.shell.app import run

if __name__ == "__main__":
    sys.exit(run(sys.argv))
