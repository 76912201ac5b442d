"""Entry script of the bundle's ``ztmm-desktop`` (the window), as the ``ztmm-desktop`` command of a pip install."""

import sys

from ztmm_desktop.ui.app import main

if __name__ == "__main__":
    sys.exit(main())
