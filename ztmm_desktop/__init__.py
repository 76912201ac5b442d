"""ZTMM Workbench: offline CISA Zero Trust Maturity Model assessments."""

__version__ = "0.1.0"
