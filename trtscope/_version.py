"""The package version, importable without importing the package's API (which loads the analysis)."""

__version__ = "0.2.0"
