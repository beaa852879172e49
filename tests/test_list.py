"""`harness list models` is the reference for model args: every adapter lists exactly the args it takes."""

from __future__ import annotations

import pytest

from harness.cli import main
from harness.errors import ConfigError
from harness.registry import MODELS, get_model_class


@pytest.mark.parametrize("name", sorted(MODELS))
def test_every_listed_model_arg_is_taken_and_no_other(name):
    cls = get_model_class(name)
    assert cls.model_args, f"{name} lists no model args"
    for arg in cls.model_args:
        try:
            cls.check_args(**{arg: "??"})
        except ConfigError as e:  # a bad value may be refused, a listed arg never as unknown
            assert "unknown" not in str(e), (arg, str(e))
    with pytest.raises(ConfigError, match="unknown"):
        cls.check_args(not_an_arg="1")


def test_list_models_shows_each_adapter_with_its_args(capsys):
    assert main(["list", "models"]) == 0
    out = capsys.readouterr().out
    for name in MODELS:
        assert f"\n{name} " in f"\n{out}"
        for arg in get_model_class(name).model_args:
            assert f"    {arg} " in out
