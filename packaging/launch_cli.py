"""Entry script of the bundle's ``ztmm`` (the command line), as the ``ztmm`` command of a pip install."""

import sys

from ztmm_desktop.cli import main

if __name__ == "__main__":
    sys.exit(main())
