"""Evaluation harness for video LLMs: tasks -> sharded inference -> scoring -> result tables."""

__version__ = "0.1.0"
