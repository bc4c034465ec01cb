"""The benchmark's command line: a short run prints one JSON line with the figures the README tables quote."""

from __future__ import annotations

import json

import numpy as np
import pytest

from explorer.bench.cli import main


def _run(capsys, *argv: str) -> dict:
    assert main([*argv, "--baseline-seconds", "0", "--json"]) == 0
    return json.loads(capsys.readouterr().out.strip().splitlines()[-1])


def test_exact_metrics_use_their_own_sample_and_energy_distance_the_small_one(capsys, tmp_path) -> None:
    out = tmp_path / "samples.npy"
    result = _run(
        capsys,
        *("--family", "flow_matching", "--seconds", "60", "--set", "steps=200"),  # the steps end it, on any CPU
        *("--n-samples", "300", "--quality-samples", "3000", "--samples-out", str(out)),
    )
    assert result["steps"] == 200 and result["status"] == "finished"
    assert result["quality_samples"] == 3000
    assert np.load(out).shape == (300, 2)  # --samples-out keeps --n-samples
    # 200 steps leave an untrained-looking model: far from the mixture, and the gap says so
    assert result["logp_gap"] > 0.1 and 0 <= result["mode_tv"] <= 1
    assert result["energy_distance"] > result["noise_floor"]


def test_an_unknown_field_is_refused_with_its_name(capsys) -> None:
    with pytest.raises(SystemExit, match="no field widht"):
        main(["--family", "vae", "--set", "widht=3", "--baseline-seconds", "0"])
