"""cislens: interpretable deep learning for regulatory genomics."""

__version__ = "0.1.0"
