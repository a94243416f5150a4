"""The mutation runner's own rules: which mutants it makes, and that they really run."""

import sys
import textwrap

import pytest

from tools.mutate import mutants
from tools.mutate.plugin import Result, score

SAMPLE = textwrap.dedent(
    '''
    """A module docstring is never mutated."""
    import functools

    LIMIT = 3


    def decorate(function):
        @functools.wraps(function)
        def wrapper(*args, **kwargs):
            return function(*args, **kwargs)

        return wrapper


    @decorate
    def over_limit(value):
        """Docstrings are never mutated either."""
        return value > LIMIT


    def payload(case_id):
        return dict(case=case_id, kind="answer")


    class Box:
        size = 2

        def fits(self, value):
            return value <= self.size
    '''
)


@pytest.fixture
def sample_module(tmp_path, monkeypatch):
    path = tmp_path / "mutate_sample.py"
    path.write_text(SAMPLE, encoding="utf-8")
    monkeypatch.syspath_prepend(str(tmp_path))
    module = __import__("mutate_sample")
    yield module
    sys.modules.pop("mutate_sample", None)


def _find(found, owner, kind, description_part=""):
    return next(
        m
        for m in found
        if m.owner == owner and m.kind == kind and description_part in m.description
    )


def test_mutants_cover_decorated_functions_methods_and_module_constants():
    found = mutants.generate(SAMPLE)
    owners = {m.owner for m in found}
    assert {"over_limit", "payload", "Box.fits", "<module>:LIMIT"} <= owners
    assert "Box" not in owners  # class-body field definitions run at import: not mutated
    descriptions = " ".join(m.description for m in found)
    assert "Docstrings" not in descriptions and "module docstring" not in descriptions


def test_a_decorated_function_runs_its_mutant(sample_module):
    mutant = _find(mutants.generate(SAMPLE), "over_limit", "compare")
    assert sample_module.over_limit(3) is False
    mutants.apply(sample_module, SAMPLE, mutant)
    assert sample_module.over_limit(3) is True  # > became >=, through the wrapper


def test_a_dropped_keyword_and_a_changed_constant_run(sample_module):
    found = mutants.generate(SAMPLE)
    mutants.apply(sample_module, SAMPLE, _find(found, "payload", "drop_kwarg", "case="))
    assert sample_module.payload(7) == {"kind": "answer"}
    mutants.apply(sample_module, SAMPLE, _find(found, "<module>:LIMIT", "constant"))
    assert sample_module.LIMIT == 4


def test_a_method_runs_its_mutant(sample_module):
    mutant = _find(mutants.generate(SAMPLE), "Box.fits", "compare")
    box = sample_module.Box()
    assert box.fits(2) is True
    mutants.apply(sample_module, SAMPLE, mutant)
    assert box.fits(2) is False  # <= became <


def test_every_generated_mutant_compiles_and_changes_the_tree():
    import ast

    original = ast.dump(ast.parse(SAMPLE))
    for mutant in mutants.generate(SAMPLE):
        tree = mutants.mutated_tree(SAMPLE, mutant)
        compile(tree, "<sample>", "exec")
        assert ast.dump(tree) != original, mutant


def test_score_ignores_invalid_mutants_and_counts_timeouts_as_killed():
    m = mutants.Mutant(0, "compare", 0, 1, 1, "f", "x")
    results = [
        Result(m, "killed"),
        Result(m, "timeout"),
        Result(m, "survived"),
        Result(m, "no_coverage"),
        Result(m, "invalid"),
    ]
    assert score(results) == (2, 4, 0.5)
