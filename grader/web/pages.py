"""The Jinja2 environment of every page and view (see `grader.web`).

Templates live in `grader/web/templates/` and are package data, so a wheel install
renders the same pages as a clone. Autoescaping is on for every template: a report quotes
the student's code and output, and an id or a message can hold any text.
"""

from __future__ import annotations

from functools import cache
from importlib import resources

from jinja2 import Environment, PackageLoader, select_autoescape
from markupsafe import Markup


def _points(x: float | int | None) -> str:
    return "–" if x is None else f"{float(x):g}"


@cache
def _markdown_renderer():
    from markdown_it import MarkdownIt

    # "js-default": CommonMark with raw HTML off and unsafe links (javascript:) refused.
    return MarkdownIt("js-default").enable("table")


def markdown(text: str) -> Markup:
    """Markdown (an exercise's README) as HTML; raw HTML in the text is shown, never run."""
    return Markup(_markdown_renderer().render(text or ""))


@cache
def stylesheet() -> str:
    return resources.files("grader.web").joinpath("static", "style.css").read_text(encoding="utf-8")


@cache
def environment() -> Environment:
    env = Environment(loader=PackageLoader("grader.web", "templates"), autoescape=select_autoescape(default=True),
                      trim_blocks=True, lstrip_blocks=True, keep_trailing_newline=True)
    env.filters["points"] = _points
    env.filters["markdown"] = markdown
    env.globals["stylesheet"] = lambda: Markup(stylesheet())
    return env


def render(template: str, **context: object) -> str:
    """The template `template` (a path under templates/) rendered with `context`."""
    return environment().get_template(template).render(**context)
