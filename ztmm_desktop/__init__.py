"""ZTMM Workbench: offline CISA Zero Trust Maturity Model assessments."""

import os

__version__ = "0.1.0"

# python-docx (the Word report) brings lxml, and openpyxl switches to lxml whenever it is installed:
# it would then parse workbooks with lxml's parser instead of defusedxml (SECURITY.md item 6) and
# write different bytes. Keep openpyxl on ElementTree with defusedxml, as before; set before any
# module imports openpyxl (a user's own OPENPYXL_LXML is left alone).
os.environ.setdefault("OPENPYXL_LXML", "False")
