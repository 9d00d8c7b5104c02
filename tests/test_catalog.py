"""Exercise metadata is validated: a typo fails at load, naming the file and the key."""

from __future__ import annotations

from pathlib import Path

import pytest

from grader import catalog
from grader.validate import consistency

GOOD = (Path(catalog.exercises_dir()) / "ex1_loss" / "exercise.toml").read_text()


def load(tmp_path: Path, text: str) -> catalog.Exercise:
    p = tmp_path / "exercise.toml"
    p.write_text(text)
    return catalog._load_toml(p, catalog.Exercise)


def test_the_shipped_catalog_loads_and_is_consistent():
    exercises = catalog.exercises()
    assert [e.id for e in exercises] == sorted(e.id for e in exercises)
    for ex in exercises:
        assert ex.max_score == 10
        assert len(ex.hints) >= 3
        assert consistency(ex) == []


def test_an_unknown_key_names_file_and_key(tmp_path):
    with pytest.raises(catalog.CatalogError, match=r"exercise\.toml: key 'tittle'"):
        load(tmp_path, 'tittle = "typo"\n' + GOOD)


def test_a_bad_value_names_its_key(tmp_path):
    with pytest.raises(catalog.CatalogError, match=r"key 'parts\.0\.points'"):
        load(tmp_path, GOOD.replace("points = 2.5", "points = -1", 1))


def test_invalid_toml_says_so(tmp_path):
    with pytest.raises(catalog.CatalogError, match="not valid TOML"):
        load(tmp_path, "title = ")


def test_unknown_exercise_lists_the_known_ones():
    with pytest.raises(catalog.CatalogError, match=r"unknown exercise '9'.*1 \(ex1_loss\)"):
        catalog.exercise(9)
