"""The Qt face of the workbench. The only package that imports PySide6."""
