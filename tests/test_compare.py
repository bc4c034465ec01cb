"""The Compare page's core (explorer.training.compare) and its reading (explorer.views.compare): equal budgets, one
family at a time through TrainingSession, network evaluations per sample as documented, stop and idle stop,
a broken family reported instead of raised, and a reading that follows the numbers."""

from __future__ import annotations

import dataclasses
import math
import time

import numpy as np
import pytest
import torch

from explorer.data.userdata import example_csv, parse_points_csv
from explorer.methods import FAMILIES, DiffusionConfig, FlowMatchingConfig, GANConfig
from explorer.training.compare import DONE, STOPPED, Comparison, FamilyResult, parse_families
from explorer.training.sampling_cost import evaluations_per_sample
from explorer.training.session import TrainingSession
from explorer.views import compare as views

BUDGET = 0.4


@pytest.fixture(scope="module")
def tiny() -> list[FamilyResult]:
    """Three families, 0.4 s each, on eight_gaussians (about 3 s with warm-up and scoring)."""
    return Comparison(["flow_matching", "gan", "flow"], "eight_gaussians", BUDGET, seed=0, device="cpu").run()


def test_a_tiny_comparison_gives_finite_metrics_for_every_family(tiny: list[FamilyResult]) -> None:
    assert [r.family for r in tiny] == ["flow_matching", "gan", "flow"]
    for r in tiny:
        assert r.ok and r.ended == "budget", (r.family, r.ended, r.message)
        assert r.steps > 0
        likelihood = {"nll"} if r.family in ("flow_matching", "flow") else set()  # the GAN has none
        assert set(r.metrics) == {"logp_gap", "logp_w1", "off_mode_mass", "mode_tv"} | likelihood
        assert r.exact_log_prob == bool(likelihood)
        if likelihood:  # E_p[-log p_theta] = H(p) + KL >= H(p), up to the 1,000 points' noise (~0.04 nats)
            assert r.metrics["nll"] > r.perfect["nll"] - 0.15
        assert all(math.isfinite(v) for v in r.metrics.values())
        assert r.samples.shape == (2000, 2) and np.isfinite(r.samples).all()
        assert r.n_params > 0 and r.sample_ms > 0


def test_every_family_gets_the_same_budget(tiny: list[FamilyResult]) -> None:
    for r in tiny:
        assert r.seconds >= BUDGET - 0.05, (r.family, r.seconds)  # trained until the budget was spent
        print(f"{r.family}: {r.seconds:.2f} s of training for a {BUDGET} s budget")  # a figure, not an assertion


def test_the_schedule_is_fitted_to_the_budget(tiny: list[FamilyResult]) -> None:
    """The cosine decay ends with the budget: the schedule spans about the steps taken, not the default."""
    for r in tiny:
        default = FAMILIES[r.family].config().steps
        assert r.steps <= r.schedule_steps < default, (r.family, r.steps, r.schedule_steps)
    plain = Comparison(["flow"], budget_s=0.3, device="cpu", fit_schedule=False).run()[0]
    assert plain.schedule_steps == FAMILIES["flow"].config().steps and plain.steps < plain.schedule_steps


def test_network_evaluations_per_sample_as_documented(tiny: list[FamilyResult]) -> None:
    assert {r.family: r.nfe for r in tiny} == {"flow_matching": 100, "gan": 1, "flow": 1}
    assert evaluations_per_sample("flow_matching", FlowMatchingConfig())[0] == 100  # 100 SDE steps, one each
    ode = {"sampler": "ode", "integrator": "euler", "sampler_steps": 10}
    assert evaluations_per_sample("flow_matching", FlowMatchingConfig(**ode))[0] == 10
    ode = {"sampler": "ode", "integrator": "heun", "sampler_steps": 8}
    assert evaluations_per_sample("flow_matching", FlowMatchingConfig(**ode))[0] == 16
    assert evaluations_per_sample("diffusion", DiffusionConfig())[0] == 200  # 200 reverse-SDE steps, one each
    assert evaluations_per_sample("diffusion", DiffusionConfig(sampler="ode", sampler_steps=50))[0] == 100  # Heun
    assert evaluations_per_sample("diffusion", DiffusionConfig(sampler="ddpm", sampler_steps=30))[0] == 30
    assert evaluations_per_sample("gan", GANConfig()) == (1, "generator, once")
    assert "16 couplings" in evaluations_per_sample("flow", FAMILIES["flow"].config())[1]


# the callable each family's sampler evaluates once per network evaluation
NETWORK_CALL = {
    "flow_matching": "velocity",
    "diffusion": "eps",
    "gan": "generate",
    "vae": "decode",
    "flow": "push_forward",
}


@pytest.mark.parametrize("family", list(FAMILIES))
def test_the_sampler_makes_as_many_network_calls_as_reported(family: str) -> None:
    if family not in NETWORK_CALL:
        pytest.fail(f"new family '{family}': add the callable its sampler evaluates to NETWORK_CALL")
    config_cls = FAMILIES[family].config
    config = config_cls(device="cpu")
    if hasattr(config, "sampler_steps"):
        config = dataclasses.replace(config, sampler_steps=7)
    method = TrainingSession(family, config).method
    inner, calls = getattr(method, NETWORK_CALL[family]), []

    def counted(*args, **kwargs):
        calls.append(1)
        return inner(*args, **kwargs)

    setattr(method, NETWORK_CALL[family], counted)
    method.sample(16, torch.Generator().manual_seed(0))
    assert len(calls) == evaluations_per_sample(family, config)[0]


def test_stop_ends_the_current_family_and_skips_the_rest() -> None:
    comparison = Comparison(["gan", "flow"], budget_s=30.0, device="cpu")
    comparison.start()
    deadline = time.monotonic() + 20
    while comparison.progress().current_step < 5 and time.monotonic() < deadline:
        time.sleep(0.05)
    comparison.stop()
    comparison.join(10)
    progress = comparison.progress()
    assert progress.status == STOPPED and not comparison.running
    assert [r.family for r in progress.results] == ["gan"]
    stopped = progress.results[0]
    assert stopped.ended == "stopped" and stopped.steps >= 5 and stopped.seconds < 15 and stopped.ok


def test_a_comparison_nobody_watches_stops_by_itself() -> None:
    comparison = Comparison(["gan"], budget_s=30.0, device="cpu", idle_timeout_s=0.5)
    comparison.start()
    comparison.join(15)
    progress = comparison.progress()
    assert progress.status == STOPPED and "stopped refreshing" in progress.note
    assert progress.results[0].seconds < 10


class _Broken:
    def __init__(self, *args, **kwargs) -> None:
        raise RuntimeError("this family is broken")


def test_a_failing_family_is_reported_and_the_others_still_run(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(
        FAMILIES, "broken", dataclasses.replace(FAMILIES["gan"], name="broken", title="Broken", method=_Broken)
    )
    results = Comparison(["broken", "flow"], budget_s=0.2, device="cpu").run()
    assert [r.ended for r in results] == ["error", "budget"]
    assert "this family is broken" in results[0].message and not results[0].ok and results[1].ok
    assert any("broken" in line and "no usable result" in line for line in views.reading(results, 0.2))
    assert Comparison(["flow"], budget_s=0.1).progress().status == "ready"


def test_families_are_parsed_in_registry_order_and_unknown_names_returned() -> None:
    assert parse_families(" gan, nope ,flow_matching,,") == (["flow_matching", "gan"], ["nope"])
    with pytest.raises(KeyError):
        Comparison(["nope"])


NAMES = {
    "logp_gap": "log-density gap (nats)",
    "logp_w1": "W₁ of log p (nats)",
    "off_mode_mass": "off-mode mass",
    "mode_tv": "mode coverage TV",
}


def _result(
    family: str, w1: float, tv: float, nfe: int, ms: float, exact: bool = False, gap: float = 0.0, off: float = 0.01
) -> FamilyResult:
    """A finished run on a Gaussian mixture with these figures (perfect at 2,000 samples: W₁ 0.03, gap ±0.04)."""
    return FamilyResult(
        family=family,
        ended="budget",
        message="",
        steps=1000,
        schedule_steps=1000,
        seconds=10.0,
        nfe=nfe,
        nfe_note="",
        sample_ms=ms,
        n_params=100,
        samples=np.zeros((10, 2), np.float32),
        metrics={"logp_gap": gap, "logp_w1": w1, "off_mode_mass": off, "mode_tv": tv},
        perfect={"logp_gap": 0.04, "logp_w1": 0.03, "off_mode_mass": 0.01, "mode_tv": 0.02},
        names=NAMES,
        exact_log_prob=exact,
    )


def test_the_table_has_one_row_per_family_with_its_figures(tiny: list[FamilyResult]) -> None:
    frame = views.table(tiny)
    assert list(frame["family"]) == ["Flow matching", "GAN", "Normalizing flow (RealNVP)"]
    assert {"log-density gap (nats)", "mode coverage TV", "steps", "seconds", "evals / sample"} <= set(frame.columns)
    assert frame["evals / sample"].iloc[0].startswith("100 (100 SDE steps (ε = 1) × 1)")


def test_the_reading_follows_the_numbers() -> None:
    ode, gan, flow = (
        _result("flow_matching", 0.02, 0.01, 100, 40.0),
        _result("gan", 3.0, 0.3, 1, 0.4),
        _result("flow", 0.3, 0.02, 1, 3.0, exact=True),
    )
    text = " ".join(views.reading([ode, gan, flow], 10))
    assert "Closest to the target in 10 s: Flow matching**" in text
    assert "**GAN** gives the modes the wrong mass" in text and "30% of its samples" in text
    assert "Fastest sampling:** **GAN** and **Normalizing flow (RealNVP)** draw" in text and "100× slower" in text
    assert "Trade-off:** for many cheap samples, Normalizing flow (RealNVP)" in text
    assert "only **Normalizing flow (RealNVP)** also gives log p(x)" in text
    assert "**GAN** is still far from the target" in text
    worse = {**ode.metrics, "logp_w1": 4.0, "mode_tv": 0.2}
    swapped = " ".join(views.reading([dataclasses.replace(ode, metrics=worse), gan], 5))
    assert "Closest to the target in 5 s: GAN**" in swapped and "Trade-off" not in swapped
    assert "both the closest and among the cheapest" in swapped


def test_a_model_on_the_bridges_is_not_called_as_good_as_a_perfect_sampler() -> None:
    """The GAN's picture: modes too narrow and mass on the bridges, so that the log-density gap cancels to a
    perfect sampler's while the W₁ of log p is ten times one and 6% of the samples lie off the modes."""
    ode = _result("flow_matching", 0.04, 0.01, 100, 40.0, gap=0.01, off=0.012)
    bridging = _result("gan", 0.3, 0.02, 1, 0.4, gap=-0.02, off=0.06)
    text = " ".join(views.reading([bridging, ode], 10))
    assert "Closest to the target in 10 s: Flow matching** (W₁ of log p (nats) 0.040, as good as a perfect" in text
    assert "then GAN (0.30)" in text
    assert "**GAN** leaves 6% of its samples off the modes" in text
    assert "**Flow matching** leaves" not in text


def test_progress_counts_finished_families() -> None:
    comparison = Comparison(["gan", "flow"], budget_s=0.2, device="cpu")
    assert comparison.progress().fraction == 0.0
    comparison.run()
    progress = comparison.progress()
    assert progress.status == DONE and progress.fraction == 1.0 and progress.current is None
    assert "Done: 2 families" in views.progress_text(progress)


def test_an_uploaded_density_is_judged_by_energy_distance() -> None:
    heart = parse_points_csv(example_csv(), "heart.csv")
    results = Comparison(["gan"], heart.name, 0.2, device="cpu", custom_densities={heart.name: heart}).run()
    assert set(results[0].metrics) == {"energy"} and results[0].perfect["energy"] > 0
    assert "energy distance" in views.reading(results, 0.2)[0]


def test_a_comparison_waits_for_a_training_slot_and_gives_it_back() -> None:
    from explorer.training.slots import TrainingSlots

    slots = TrainingSlots(1)
    assert slots.acquire("someone else", timeout=0.1)
    run = Comparison(["gan"], budget_s=0.5, slots=slots, n_samples=200)
    run.start()
    time.sleep(0.5)
    assert run.progress().queue_position == 0 and not run.progress().results
    slots.release("someone else")
    run.join(60)
    assert [r.family for r in run.progress().results] == ["gan"]
    assert slots.training == 0 and not slots.contended()
