"""runner: a declarative HTTP request-collection runner."""

__version__ = "0.1.0"
