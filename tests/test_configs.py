"""explorer.configs: clamping loose values, live vs reset fields, the learning-rate schedule.

Bounds and defaults are read from the fields' own metadata, so retuning a range in a config
does not break these tests; what they pin down is the clamping behaviour.
"""

from __future__ import annotations

import dataclasses
import math

import pytest

from explorer.configs import (
    TrainingConfig,
    changed_fields,
    clamp,
    clamp_value,
    from_mapping,
    learning_rate,
    needs_reset,
)
from explorer.methods import FlowMatchingConfig

FIELDS = {f.name: f for f in dataclasses.fields(FlowMatchingConfig)}


def lo(name: str):
    return FIELDS[name].metadata["lo"]


def hi(name: str):
    return FIELDS[name].metadata["hi"]


def default(name: str):
    return FIELDS[name].default


def _check(name: str, value, expected) -> None:
    result = clamp_value(FIELDS[name], value)
    assert result == expected, (name, value)
    assert type(result) is type(default(name)), (name, value)


def test_out_of_range_numbers_are_clamped():
    for name in ("lr", "batch_size", "steps", "seed", "hidden", "depth", "label_dropout", "guidance_scale"):
        _check(name, 1e12, type(default(name))(hi(name)))
        _check(name, -1e12, type(default(name))(lo(name)))
        _check(name, default(name), default(name))
    _check("lr", 0.0, lo("lr"))


def test_numeric_strings_are_parsed():
    _check("lr", "0.01", 0.01)
    _check("batch_size", "300.4", 300)
    _check("batch_size", 99.6, 100)
    _check("hidden", "128", 128)


@pytest.mark.parametrize("value", [float("nan"), float("inf"), float("-inf"), "nan", "garbage", "", None, [1, 2], {}])
@pytest.mark.parametrize("name", ["lr", "batch_size", "hidden", "label_dropout", "guidance_scale"])
def test_non_finite_and_garbage_fall_back_to_the_default(name, value):
    _check(name, value, default(name))


@pytest.mark.parametrize(
    ("name", "value", "expected"),
    [
        ("path", "cosine", "cosine"),
        ("path", "wiggly", "linear"),
        ("coupling", "ot", "ot"),
        ("coupling", "OT ", "independent"),
        ("integrator", "heun", "heun"),
        ("integrator", "rk45", "midpoint"),
        ("integrator", None, "midpoint"),
        ("device", "tpu", "auto"),
        ("schedule", 3, "cosine"),
    ],
)
def test_unknown_choices_fall_back_to_the_default(name, value, expected):
    assert default(name) in FIELDS[name].metadata["choices"]
    _check(name, value, expected)


@pytest.mark.parametrize(
    ("value", "expected"), [(True, True), (False, False), ("true", True), ("1", True), ("no", False)]
)
def test_booleans_from_strings(value, expected):
    _check("guidance", value, expected)


def test_clamp_repairs_every_field_of_a_config():
    bad = FlowMatchingConfig(lr=float("nan"), batch_size=0, steps=-1, path="nope", guidance_scale=1e9)
    good = clamp(bad)
    assert good.lr == default("lr")
    assert good.batch_size == lo("batch_size")
    assert good.steps == lo("steps")
    assert good.path == default("path")
    assert good.guidance_scale == hi("guidance_scale")
    assert clamp(FlowMatchingConfig()) == FlowMatchingConfig()
    assert clamp(good) == good


def test_from_mapping_builds_a_valid_config_from_loose_values():
    config = from_mapping(
        FlowMatchingConfig,
        {
            "lr": "1e9",
            "batch_size": "nan",
            "hidden": "32",
            "coupling": "magic",
            "integrator": "heun",
            "not_a_field": "ignored",
            "__class__": "ignored",
        },
    )
    assert isinstance(config, FlowMatchingConfig)
    assert config.lr == hi("lr")
    assert config.batch_size == default("batch_size")
    assert config.hidden == 32
    assert config.coupling == default("coupling")
    assert config.integrator == "heun"
    assert not hasattr(config, "not_a_field")
    assert from_mapping(FlowMatchingConfig, {}) == FlowMatchingConfig()


def test_needs_reset_live_and_structural_fields():
    base = FlowMatchingConfig()
    assert needs_reset(base, base) == []
    assert needs_reset(base, dataclasses.replace(base, lr=3e-3)) == []
    assert needs_reset(base, dataclasses.replace(base, steps=500)) == []
    assert needs_reset(base, dataclasses.replace(base, integrator="euler")) == []
    assert needs_reset(base, dataclasses.replace(base, sampler_steps=10, guidance_scale=3.0)) == []
    assert needs_reset(base, dataclasses.replace(base, hidden=32)) == ["hidden"]
    assert needs_reset(base, dataclasses.replace(base, seed=7)) == ["seed"]
    assert sorted(needs_reset(base, dataclasses.replace(base, lr=0.1, hidden=32, seed=7))) == ["hidden", "seed"]
    assert needs_reset(base, TrainingConfig()) == ["family"]
    assert sorted(changed_fields(base, dataclasses.replace(base, lr=0.1, hidden=32))) == ["hidden", "lr"]


def test_live_fields_are_the_ones_design_md_names():
    live = {name for name, field in FIELDS.items() if field.metadata.get("live")}
    assert {"lr", "steps", "integrator", "sampler_steps"} <= live
    assert not {"hidden", "depth", "seed", "density", "batch_size"} & live


def test_every_field_has_a_label_and_a_valid_default():
    for field in dataclasses.fields(FlowMatchingConfig):
        assert field.metadata.get("label"), field.name
        assert clamp_value(field, field.default) == field.default


def test_cosine_schedule_endpoints():
    config = TrainingConfig(lr=2e-3, steps=1000, schedule="cosine")
    assert learning_rate(config, 0) == pytest.approx(2e-3)
    assert learning_rate(config, 500) == pytest.approx(1e-3)
    assert learning_rate(config, 250) == pytest.approx(2e-3 * 0.5 * (1 + math.cos(math.pi / 4)))
    assert learning_rate(config, 1000) == pytest.approx(0.0, abs=1e-15)
    assert learning_rate(config, 5000) == pytest.approx(0.0, abs=1e-15)
    rates = [learning_rate(config, s) for s in range(0, 1001, 50)]
    assert rates == sorted(rates, reverse=True)


def test_constant_schedule():
    config = TrainingConfig(lr=2e-3, steps=1000, schedule="constant")
    assert {learning_rate(config, s) for s in (0, 500, 1000, 2000)} == {2e-3}
