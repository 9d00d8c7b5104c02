"""The `grade` command line: entry points that parse, call the grading API and render."""

from grader.cli.app import app, main

__all__ = ["app", "main"]
