"""explorer.device: fallback with a readable reason, unknown strings, seeded generators."""

from __future__ import annotations

import threading

import pytest
import torch

from explorer.device import (
    DEVICE_OPTIONS,
    available_devices,
    configure_training_thread,
    describe_device,
    make_generator,
    resolve_device,
)


def test_cpu_is_always_available_and_never_falls_back():
    assert available_devices()[0] == "cpu"
    choice = resolve_device("cpu")
    assert choice.device == torch.device("cpu")
    assert not choice.fell_back
    assert "CPU" in choice.reason


@pytest.mark.parametrize(("kind", "word"), [("cuda", "CUDA"), ("mps", "MPS")])
def test_absent_accelerator_falls_back_to_cpu_with_a_reason(kind, word):
    if kind in available_devices():
        pytest.skip(f"{kind} is available on this machine: nothing falls back")
    choice = resolve_device(kind)
    assert choice.requested == kind
    assert choice.device.type == "cpu"
    assert choice.fell_back
    assert word in choice.reason
    assert "CPU" in choice.reason


@pytest.mark.parametrize("kind", ["cuda", "mps"])
def test_present_accelerator_is_used(kind):
    if kind not in available_devices():
        pytest.skip(f"{kind} is not available on this machine")
    choice = resolve_device(kind)
    assert choice.device.type == kind
    assert not choice.fell_back


@pytest.mark.parametrize("value", ["tpu", "", "CUDA ", "gpu:0", "<script>"])
def test_unknown_strings_become_auto(value):
    choice = resolve_device(value)
    auto = resolve_device("auto")
    assert choice.requested == "auto"
    assert choice.device == auto.device
    assert not choice.fell_back
    assert choice.reason


def test_auto_picks_an_available_device():
    choice = resolve_device("auto")
    assert choice.device.type in available_devices()
    assert not choice.fell_back
    assert describe_device(choice.device) in choice.reason


def test_every_option_resolves_without_raising():
    for option in DEVICE_OPTIONS:
        assert resolve_device(option).device.type in available_devices()


def test_make_generator_is_reproducible():
    a = torch.randn(5, 3, generator=make_generator(123))
    b = torch.randn(5, 3, generator=make_generator(123))
    c = torch.randn(5, 3, generator=make_generator(124))
    assert torch.equal(a, b)
    assert not torch.equal(a, c)


def test_make_generator_lives_on_the_requested_device(device):
    generator = make_generator(0, device)
    assert generator.device.type == device.type
    x = torch.rand(4, generator=generator, device=device)
    y = torch.rand(4, generator=make_generator(0, device), device=device)
    assert torch.equal(x, y)


def test_a_training_thread_flushes_denormals_to_zero() -> None:
    """configure_training_thread() turns on FTZ/DAZ in the thread that calls it (each training thread does): a float32
    denormal then reads as zero. The thread starts with the flush off, to show the check can fail."""
    seen: dict[str, float] = {}

    def train_thread() -> None:
        if not torch.set_flush_denormal(False):
            seen["unsupported"] = 1.0
            return
        seen["before"] = float(torch.tensor([1e-39]) * 1.0)
        configure_training_thread()
        seen["after"] = float(torch.tensor([1e-39]) * 1.0)

    thread = threading.Thread(target=train_thread)
    thread.start()
    thread.join()
    if "unsupported" in seen:
        pytest.skip("this CPU has no denormal flushing (not x86 with SSE3)")
    assert seen["before"] > 0.0 and seen["after"] == 0.0
