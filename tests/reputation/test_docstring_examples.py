"""The worked examples in the engine's and the simulator's docstrings run and hold."""

from __future__ import annotations

import doctest
import importlib

import pytest

MODULES = [
    "bonafide.reputation.graph",
    "bonafide.reputation.rev2",
    "bonafide.reputation.fraudar",
    "bonafide.reputation.behaviour",
    "bonafide.reputation.ids",
    "bonafide.reputation.score",
    "bonafide.sim.market",
]


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples_hold(name: str) -> None:
    module = importlib.import_module(name)
    failed, attempted = doctest.testmod(module, optionflags=doctest.ELLIPSIS)
    assert attempted > 0 and failed == 0
