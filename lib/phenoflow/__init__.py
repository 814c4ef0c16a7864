"""phenoflow: reproducible machine-learning workflows for collider phenomenology."""

__version__ = "0.1.0"
