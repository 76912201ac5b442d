"""Use cases shared by the UI and the ``ztmm`` command; they return plain values."""
