"""The web face: every page and HTML view the grader shows, from Jinja2 templates in files.

One home for the views that several doors share:
- `pages`: the Jinja2 environment (templates in `templates/`, the stylesheet in
  `static/style.css` inlined so every page is one self-contained file), `render()` and the
  `markdown` filter (markdown-it-py, raw HTML off);
- `card`: the result card of one report (and the hint and message cards), the one renderer
  behind `check(N)` in a notebook and the LTI student's status page;
- the class report's view (`grader.classreport`) and the LTI pages (`grader.lti`) render
  their templates here too, extending `base.html`.

Importing it stays light: Jinja2 and markdown-it-py only, never TensorFlow, so the
service's web process can serve every page.
"""
