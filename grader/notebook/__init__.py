"""Notebooks: `check()`/`hint()` in Jupyter and Colab, and `.ipynb` files as submissions.

extract (cells -> chunks), assemble (chunks -> student file), ipynb (reading a notebook), live (a kernel's functions ->
student file), submission (.ipynb submissions), helper (the kernel's warm grading worker),
check (check/hint and their results; the card is grader.web.card), build (the exercise notebooks).
"""
