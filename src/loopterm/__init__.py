"""loopterm: race LLM coding loops in a terminal."""

__version__ = "0.1.0"
