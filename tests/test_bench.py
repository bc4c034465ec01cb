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
        *("--n-samples", "300", "--quality-samples", "3000", "--samples-out", str(out), "--nll-samples", "500"),
    )
    assert result["steps"] == 200 and result["status"] == "finished"
    assert result["quality_samples"] == 3000
    assert np.load(out).shape == (300, 2)  # --samples-out keeps --n-samples
    # 200 steps leave an untrained-looking model: far from the mixture, and the gap says so
    assert result["logp_gap"] > 0.1 and 0 <= result["mode_tv"] <= 1
    assert result["logp_w1"] >= result["logp_gap"] and result["off_mode_mass"] > 0.05  # W₁ ≥ |E difference|
    assert result["energy_distance"] > result["noise_floor"]


def test_an_unknown_field_is_refused_with_its_name(capsys) -> None:
    with pytest.raises(SystemExit, match="no field widht"):
        main(["--family", "vae", "--set", "widht=3", "--baseline-seconds", "0"])


def test_the_performance_page_has_every_family_the_machine_and_the_page_table(capsys) -> None:
    """`--all --markdown` (docs/performance.md): one row per trained family in the lecture notes' order, each seed's
    steps and speed-up, the CPU and the commit; the page table's ratio is the page's median over the engine's mean."""
    from explorer.bench import report
    from explorer.methods import FAMILIES

    argv = ["--all", "--markdown", "--seeds", "0,1", "--set", "steps=40", "--baseline-seconds", "0.05"]
    argv += ["--variant-seconds", "0"]  # the GAN variants' table: the next test
    assert main([*argv, "--n-samples", "300", "--quality-samples", "500", "--nll-samples", "200"]) == 0
    text = capsys.readouterr().out
    assert report.cpu_model() in text and report.commit().rstrip("+") in text
    rows = [line for line in text.splitlines() if line.startswith("| ") and " | 40 | " in line]
    assert [row.split(" | ")[0][2:] for row in rows] == [FAMILIES[f].title for f in report.families()]
    assert all(row.count("×") == 1 and row.count(" / ") >= 2 for row in rows)  # two seeds, two thread counts
    assert "Not measured in this run (run with --page)" in text
    assert "Lipschitz constraints" not in text

    results = {"gan": [{"seconds": 2.0, "density": "eight_gaussians", "steps": 10, "steps_per_s": 5.0}] * 2}
    page = report.markdown(results, {"gan": [3.0, 2.6, 9.0]}, ("abc123", {"gan": [4.0, 4.4, 5.0]}))
    row = next(line for line in page.splitlines() if line.startswith("| GAN | 2.00 |"))
    assert row == "| GAN | 2.00 | 3.00 / 2.60 / 9.00 | 1.50 | 4.00 / 4.40 / 5.00 | 2.20 |"


def test_the_performance_page_has_a_row_per_gan_lipschitz_variant() -> None:
    """Each variant of the notes' Lipschitz table trained for --variant-seconds, with its throughput against the
    plain loop and its quality per seed."""
    import argparse

    from explorer.bench import report

    args = argparse.Namespace(
        seeds=[0], variant_seconds=0.3, device="cpu", threads=1, n_samples=300, quality_samples=500, nll_samples=200,
        baseline_seconds=0.05, live_seconds=0.0, set=[], samples_out="", field_out="", field_grid=41, n_chains=10,
    )  # fmt: skip
    variants = report.run_gan_variants(args)
    assert list(variants) == list(report.GAN_VARIANTS)
    rows = report.variants_markdown(variants)[8:]
    assert [row.split(" | ")[0][2:] for row in rows] == list(report.GAN_VARIANTS)
    assert all(row.count("×") == 1 and run[0]["steps"] > 0 for row, run in zip(rows, variants.values(), strict=True))


@pytest.mark.parametrize("family", ["flow_matching", "diffusion"])
def test_the_ode_families_report_their_likelihood(capsys, tmp_path, family: str) -> None:
    """NLL of fresh points (20,000 by default; 4,000 here), the entropy and their difference KL >= 0 (up to the
    NLL's standard error), the density's mass on the grid (a trained model's within 1%: tests/test_cnf.py), the page
    grid's time, and log p_theta on the grid in `--field-out`."""
    out = tmp_path / "field.npz"
    argv = ("--family", family, "--set", "steps=300", "--field-out", str(out), "--field-grid", "21")
    result = _run(capsys, *argv, "--nll-samples", "4000")
    assert result["entropy"] == pytest.approx(2.507, abs=0.01)
    assert result["nll_minus_entropy"] == pytest.approx(result["nll"] - result["entropy"], abs=1e-3)
    assert result["nll_minus_entropy"] > -3 * result["nll_stderr"]
    # after 300 steps some mass still lies beyond [-5, 5]^2 (flow matching: 3%); none is made up inside it
    assert 0.9 < result["grid_mass"] < 1.01 and result["density_grid_s"] > 0
    saved = np.load(out)
    assert saved["density_points"].shape == (101 * 101, 2) and np.isfinite(saved["density_log_prob"]).all()


def test_the_vae_reports_its_likelihood_by_quadrature_and_by_importance_sampling(capsys) -> None:
    """-ELBO >= NLL (the bound), and importance sampling at K = 100 within 0.1 nats of the quadrature."""
    result = _run(capsys, "--family", "vae", "--set", "steps=800", "--nll-samples", "1000")
    assert -result["elbo"] >= result["nll"] - 3 * result["nll_stderr"]
    assert abs(result["nll_is"] - result["nll"]) < 0.1 and result["nll_points"] == 1000
