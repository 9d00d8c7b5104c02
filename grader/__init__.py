"""tinyml-grader: autograded TinyML exercises with a sandboxed judge."""

__version__ = "0.1.0"
