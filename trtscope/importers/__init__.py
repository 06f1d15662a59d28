"""Turning other tools' captures into trtscope bundles (Nsight Systems SQLite exports)."""
