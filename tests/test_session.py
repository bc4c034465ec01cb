"""explorer.training.session.TrainingSession (family "flow_matching"): controls, budgets, live updates, faults."""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import pytest
import torch

import explorer.training.session as session_module
from explorer.methods import FlowMatchingConfig
from explorer.training.session import DIVERGED, FINISHED, PAUSED, READY, RUNNING, TrainingSession

SMALL = {"hidden": 16, "depth": 2, "batch_size": 64, "device": "cpu"}


def _session(**overrides) -> TrainingSession:
    config = FlowMatchingConfig(**{**SMALL, "steps": 10_000, **overrides})
    return TrainingSession("flow_matching", config, quality_every=10**9, quality_samples=200)


def _weights(session: TrainingSession) -> torch.Tensor:
    return session.method.state_dict()["flat"].detach().clone()


class FakeClock:
    """perf_counter for explorer.training.session that only advances while the method trains."""

    def __init__(self, seconds_per_chunk: float) -> None:
        self.now, self.per_chunk, self.chunks = 0.0, seconds_per_chunk, 0

    def perf_counter(self) -> float:
        return self.now

    def tick(self) -> None:
        self.now += self.per_chunk
        self.chunks += 1


def test_run_is_a_no_op_unless_started():
    session = _session()
    assert session.status == READY
    assert session.run(0.05) == 0
    assert session.step_count == 0
    session.start()
    assert session.status == RUNNING
    assert session.run(0.05) > 0


def test_run_respects_its_time_budget(monkeypatch):
    session = _session()
    clock = FakeClock(seconds_per_chunk=0.01)
    monkeypatch.setattr(session_module, "time", clock)
    train_chunk = session.method.train_chunk

    def timed_chunk(lrs, generator):
        clock.tick()
        return train_chunk(lrs, generator)

    monkeypatch.setattr(session.method, "train_chunk", timed_chunk)
    session.start()
    taken = session.run(0.1)
    # trains until the budget is spent and stops within one chunk of it
    assert 10 <= clock.chunks <= 11
    assert taken == session.step_count > 0
    assert session.status == RUNNING
    assert session.steps_per_s == pytest.approx(taken / clock.now)
    before = clock.chunks
    session.run(0.0)
    assert clock.chunks == before


def test_run_with_a_real_clock_trains_without_finishing_a_long_run():
    session = _session(steps=1_000_000)
    session.start()
    taken = session.run(0.1)
    assert 0 < taken < 1_000_000
    assert session.status == RUNNING
    assert session.steps_per_s > 0


def test_pause_and_resume():
    session = _session()
    session.start()
    session.run(0.02)
    session.pause()
    assert session.status == PAUSED
    steps = session.step_count
    assert session.run(0.05) == 0
    assert session.step_count == steps
    session.start()
    assert session.status == RUNNING
    assert session.run(0.02) > 0
    assert session.step_count > steps


def test_step_takes_exactly_n_steps():
    session = _session()
    assert session.step(7) == 7
    assert session.step_count == 7
    assert session.status == PAUSED
    assert session.step() == 1
    assert session.step(5) == 5
    assert session.step_count == 13
    assert session.history.loss_steps[-1] == 13


def test_step_stops_at_the_step_budget():
    session = _session(steps=10)
    assert session.step(7) == 7
    assert session.step(7) == 3
    assert session.step_count == 10
    assert session.status == FINISHED
    assert session.step(1) == 0


def test_reset_restores_step_zero_and_the_seeded_weights():
    session = _session(seed=3)
    initial = _weights(session)
    session.step(20)
    assert not torch.equal(_weights(session), initial)
    session.reset()
    assert session.step_count == 0
    assert session.status == READY
    assert session.history.loss == []
    assert torch.equal(_weights(session), initial)
    assert torch.equal(_weights(_session(seed=3)), initial)
    assert not torch.equal(_weights(_session(seed=4)), initial)


def test_same_seed_same_training():
    a, b = _session(seed=5), _session(seed=5)
    a.step(15)
    b.step(15)
    assert a.history.loss == b.history.loss
    assert torch.equal(_weights(a), _weights(b))


def test_training_does_not_depend_on_how_steps_are_chunked():
    whole, pieces = _session(seed=6), _session(seed=6)
    whole.step(45)
    for n in (1, 7, 30, 7):
        pieces.step(n)
    assert pieces.step_count == whole.step_count == 45
    assert torch.equal(_weights(pieces), _weights(whole))


def test_live_update_applies_without_reset():
    session = _session()
    session.step(10)
    weights = _weights(session)
    notice = session.update(dataclasses.replace(session.config, lr=3e-3, integrator="heun", sampler_steps=5))
    assert notice == ""
    assert session.step_count == 10
    assert torch.equal(_weights(session), weights)
    assert session.config.lr == 3e-3
    assert session.method.config.integrator == "heun"
    assert session.snapshot().lr == pytest.approx(3e-3 * 0.5 * (1 + math.cos(math.pi * 10 / 10_000)))
    assert session.update(session.config) == ""


def test_structural_update_resets_with_a_notice():
    session = _session()
    session.step(10)
    params = session.method.n_params
    notice = session.update(dataclasses.replace(session.config, hidden=24))
    assert "reset" in notice
    assert "Width" in notice or "hidden" in notice.lower()
    assert session.step_count == 0
    assert session.status == READY
    assert session.method.n_params != params
    assert session.snapshot().message == notice


def test_update_clamps_bad_values():
    session = _session()
    session.update(dataclasses.replace(session.config, lr=float("nan"), sampler_steps=-5))
    lr_field = next(f for f in dataclasses.fields(FlowMatchingConfig) if f.name == "lr")
    steps_field = next(f for f in dataclasses.fields(FlowMatchingConfig) if f.name == "sampler_steps")
    assert session.config.lr == lr_field.default  # not a number: the default
    assert session.config.sampler_steps == steps_field.metadata["lo"]  # below the range: its lower end


def test_a_huge_learning_rate_diverges_and_keeps_the_last_good_weights():
    session = _session()
    session.step(10)
    good = _weights(session)
    session.update(dataclasses.replace(session.config, lr=10.0))
    assert session.config.lr == 10.0
    assert session.step(50) == 0
    assert session.status == DIVERGED
    assert "diverged" in session.message.lower()
    assert "learning rate" in session.message.lower()
    assert session.step_count == 10
    restored = _weights(session)
    assert torch.isfinite(restored).all()
    assert torch.equal(restored, good)
    assert all(math.isfinite(v) for v in session.history.loss)
    snapshot = session.snapshot()
    assert snapshot.status == DIVERGED and snapshot.message == session.message
    # the session recovers: a sane learning rate trains on from the kept weights
    session.update(dataclasses.replace(session.config, lr=1e-3))
    assert session.step(5) == 5
    assert session.status == PAUSED


def test_divergence_while_running_pauses_the_loop():
    session = _session(lr=10.0)
    session.start()
    session.run(0.2)
    assert session.status == DIVERGED
    assert not session.running
    assert session.message


def test_finishing_at_config_steps():
    session = _session(steps=40)
    session.start()
    for _ in range(200):
        if session.run(0.05) == 0:
            break
    assert session.status == FINISHED
    assert session.step_count == 40
    assert session.message
    assert session.run(0.05) == 0
    session.start()
    assert session.status == FINISHED  # nothing left to train
    assert session.history.quality_steps[-1] == 40  # quality scored at the end
    session.update(dataclasses.replace(session.config, steps=60))
    assert session.status == PAUSED
    assert session.step_count == 40
    session.start()
    while session.run(0.05):
        pass
    assert session.step_count == 60
    assert session.status == FINISHED


def _plain(value) -> bool:
    if isinstance(value, np.ndarray):
        return value.dtype != object
    if isinstance(value, dict):
        return all(isinstance(k, str) and _plain(v) for k, v in value.items())
    return value is None or isinstance(value, bool | int | float | str)


def test_snapshot_holds_only_numpy_arrays_and_python_scalars():
    session = TrainingSession("flow_matching", FlowMatchingConfig(**SMALL, steps=30), quality_every=10)
    session.step(30)
    snapshot = session.snapshot()
    for field in dataclasses.fields(snapshot):
        value = getattr(snapshot, field.name)
        assert not isinstance(value, torch.Tensor), field.name
        assert _plain(value), field.name
    assert snapshot.step == 30 and snapshot.total_steps == 30 and snapshot.progress == 1.0
    assert snapshot.status == FINISHED
    assert snapshot.loss_steps.shape == snapshot.loss.shape and snapshot.loss.size > 0
    assert set(snapshot.quality) == {"logp_gap", "logp_w1", "off_mode_mass", "mode_tv"}
    for series in snapshot.quality.values():
        assert series.shape == snapshot.quality_steps.shape
    assert snapshot.device == "cpu" and snapshot.device_reason
    assert snapshot.n_params == session.method.n_params
    assert isinstance(snapshot.lr, float)


def test_an_unavailable_device_falls_back_with_a_reason():
    if torch.cuda.is_available():
        pytest.skip("CUDA is available: nothing falls back")
    session = TrainingSession("flow_matching", FlowMatchingConfig(**{**SMALL, "device": "cuda"}, steps=5))
    assert session.snapshot().device == "cpu"
    assert "CUDA" in session.snapshot().device_reason
    assert session.step(5) == 5


def test_unknown_density_names_fall_back_to_defaults_with_a_notice() -> None:
    from explorer.configs import from_mapping

    config = from_mapping(FlowMatchingConfig, {"density": "garbage", "source": "nope", **SMALL})
    session = TrainingSession("flow_matching", config, quality_every=10**9)
    assert session.config.density == "eight_gaussians" and session.config.source == "gaussian"
    assert "no density" in session.notice
    assert session.step(3) == 3


def test_quality_evaluation_keeps_to_its_share_of_a_running_session(monkeypatch) -> None:
    """On a busy server an evaluation can take seconds; a running session then still trains most of the time.
    On a clock that advances 0.4 ms per training step and 50 ms per evaluation, with an evaluation due after every
    chunk: evaluations take at most QUALITY_SHARE of the time (plus one evaluation), yet still come regularly."""
    session = _session(steps=10**7)
    session.quality_every = 1
    clock = FakeClock(seconds_per_chunk=0.0)
    monkeypatch.setattr(session_module, "time", clock)
    train_chunk, calls = session.method.train_chunk, []

    def slow_sample(n, generator):
        calls.append(n)
        clock.now += 0.05
        return session.density.sample(n, generator)  # what it draws does not matter here, only what it costs

    def timed_chunk(lrs, generator):
        clock.now += 0.0004 * len(lrs)
        return train_chunk(lrs, generator)

    session.method.sample, session.method.train_chunk = slow_sample, timed_chunk
    session.start()
    session.run(1.0)
    assert clock.now >= 1.0 and len(calls) >= 4  # still scored, regularly
    assert 0.05 * len(calls) <= session_module.QUALITY_SHARE * clock.now + 0.05, (len(calls), clock.now)
    session.pause()
    before = len(calls)
    session.step(1)  # an explicit step is always scored at once
    assert len(calls) == before + 1


def test_chunks_grow_until_their_bookkeeping_is_a_small_share(monkeypatch) -> None:
    """On a busy server each chunk's bookkeeping (history, last good weights) waits for the GIL op by op; chunks
    then grow so that training still fills most of a running session's time. On a clock where a step takes
    0.4 ms (the page's size on a slow CPU) and each chunk's bookkeeping 40 ms (at the shortest chunks, 0.03 s,
    it would take ~57%), training's share of the second run is at least 70%."""
    session = _session(steps=10**7)
    session.quality_period_s = math.inf
    clock = FakeClock(seconds_per_chunk=0.0)
    monkeypatch.setattr(session_module, "time", clock)
    clone, train_chunk, kernel = session._clone_state, session.method.train_chunk, []

    def slow_clone():
        clock.now += 0.04
        return clone()

    def timed_chunk(lrs, generator):
        clock.now += 0.0004 * len(lrs)
        kernel.append(0.0004 * len(lrs))
        return train_chunk(lrs, generator)

    session._clone_state, session.method.train_chunk = slow_clone, timed_chunk
    session.start()
    session.run(1.0)  # learns the step rate and the bookkeeping's cost
    kernel.clear()
    start = clock.now
    session.run(2.0)
    share = sum(kernel) / (clock.now - start)
    assert share >= 0.7, (share, len(kernel), session._chunk_s)
    assert session._chunk_s <= session_module.MAX_CHUNK_S


@pytest.mark.slow
@pytest.mark.parametrize("family", ["flow_matching", "diffusion"])
def test_the_page_default_run_reads_within_the_quality_targets(family: str) -> None:
    """What a page shows when its default run finishes (seed 0, the page's own quality sample): within the bench's
    targets (gap <= 0.1 nats, mode TV <= 0.04, on 20,000 samples) up to the sample's noise (TV floor 0.024 at 2,000).
    Here: 0.021 / 0.029 (flow matching), 0.046 / 0.017 (diffusion); seeds 0-4 read at most 0.079 / 0.039. On 1,000
    samples per evaluation the same seed-0 models read 0.080 / 0.029 and 0.116 / 0.048."""
    from explorer.methods import FAMILIES

    session = TrainingSession(family, FAMILIES[family].config(device="cpu"))
    assert session.quality_samples == session_module.QUALITY_SAMPLES >= 2000
    session.start()
    while session.run(1.0):
        pass
    quality = session.snapshot().quality
    assert session.status == FINISHED and session.snapshot().quality_steps[-1] == session.config.steps
    assert abs(quality["logp_gap"][-1]) <= 0.1 and quality["mode_tv"][-1] <= 0.045, quality


@pytest.mark.parametrize("family", ["flow_matching", "diffusion", "gan", "vae", "flow"])
def test_a_default_run_draws_a_learning_curve_of_at_least_twelve_points(family: str) -> None:
    """At the page's default step count (the step budget shortened with the same schedule: steps / 12 apart), the
    quality is scored at every multiple of steps / 12, while running on about QUALITY_PASSES network passes'
    worth of samples, and the last point of the run at full precision; the training-evolution export has a frame
    per point."""
    from explorer.methods import FAMILIES

    default = FAMILIES[family].config()
    steps = 12 * session_module.MIN_QUALITY_EVERY  # the shortest run with the default schedule's 12 points
    config = dataclasses.replace(default, steps=steps, device="cpu")
    session = TrainingSession(family, config)
    assert session.quality_every == steps // FAMILIES[family].method.quality_points == session_module.MIN_QUALITY_EVERY
    passes, _ = FAMILIES[family].method.evaluations_per_sample(config)
    drawn, sample = [], session.method.sample
    session.method.sample = lambda n, generator: drawn.append(n) or sample(n, generator)
    session.start()
    while session.run(1.0):
        pass
    snap = session.snapshot()
    every = session.quality_every
    assert snap.status == FINISHED
    assert 0 < snap.quality_steps[0] < every  # the first chunk: the model nearly untrained
    assert list(snap.quality_steps[1:]) == list(range(every, steps + 1, every))  # then 12 points
    expected = min(session_module.QUALITY_SAMPLES, max(session_module.RUNNING_SAMPLES_MIN, 16_000 // passes))
    assert drawn[:-1] == [expected] * 12 and drawn[-1] == session_module.QUALITY_SAMPLES, drawn
    assert len(snap.samples) == session_module.QUALITY_SAMPLES
    assert [step for step, _ in session.evolution()] == list(snap.quality_steps)


def test_pause_scores_the_last_point_at_full_precision_in_place_of_a_cheaper_one() -> None:
    session = TrainingSession("flow_matching", FlowMatchingConfig(**{**SMALL, "steps": 10_000}))
    assert session.running_quality_samples == 16_000 // 100 < session.quality_samples  # 100 SDE steps a sample
    session.start()
    session.run(0.02)
    session.evaluate_quality()  # while running: cheap
    step, points = session.step_count, len(session.history.quality_steps)
    assert session.history.quality_steps[-1] == step and len(session.last_samples) == session.running_quality_samples
    session.pause()
    assert session.status == PAUSED and len(session.last_samples) == session.quality_samples
    assert len(session.history.quality_steps) == points and session.history.quality_steps[-1] == step  # replaced
    assert all(len(series) == points for series in session.history.quality.values())
    assert [s for s, _ in session.evolution()] == session.history.quality_steps
    session.evaluate_quality()  # the same step again, at no higher precision: nothing new
    assert len(session.history.quality_steps) == points


def test_wait_until_stopped_returns_when_a_worker_finishes_the_run() -> None:
    from explorer.training.worker import TrainingWorker

    session = _session(steps=200)
    assert session.wait_until_stopped(0.0)  # not running: at once
    session.start()
    assert not session.wait_until_stopped(0.0) and session.seconds_to_finish() == math.inf  # no rate measured yet
    worker = TrainingWorker(session)
    worker.ensure_running()
    assert session.wait_until_stopped(60.0)
    assert session.status == FINISHED and session.step_count == 200
    worker.join(5.0)


@pytest.mark.parametrize("family", ["flow_matching", "diffusion", "gan", "vae", "flow"])
def test_building_a_model_leaves_the_global_random_state_alone(family: str) -> None:
    """A model's initial weights come from its seed alone, and building it changes no other user's random
    numbers (torch's global generator is as it was)."""
    from explorer.methods import FAMILIES

    config = FAMILIES[family].config(device="cpu")
    torch.manual_seed(123)
    before = torch.get_rng_state()
    first = TrainingSession(family, config).method.state_dict()
    assert torch.equal(torch.get_rng_state(), before)
    torch.manual_seed(7)  # another global state: the same weights
    second = TrainingSession(family, config).method.state_dict()

    def tensors(state: dict) -> list[torch.Tensor]:  # a GAN's state holds one dict per player
        return [t for v in state.values() for t in (tensors(v) if isinstance(v, dict) else [v])]

    assert all(torch.equal(a, b) for a, b in zip(tensors(first), tensors(second), strict=True))
