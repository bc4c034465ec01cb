"""Device selection with fallback, thread policy and seeded generators.

`resolve_device("auto" | "cpu" | "cuda" | "mps")` never raises: an unavailable accelerator falls
back to the CPU and the returned `DeviceChoice.reason` says so in words a user can read.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

DEVICE_OPTIONS = ("auto", "cpu", "cuda", "mps")

# One intra-op thread per training worker: tiny MLP steps gain little from more, and two
# OpenMP threads spinning against another process on two cores slowed a step ~80x (docs/decisions.md, "Training").
TRAINING_THREADS = 1


@dataclass(frozen=True)
class DeviceChoice:
    """The device a session runs on, what the user asked for, and why they differ (if they do)."""

    requested: str
    device: torch.device
    reason: str

    @property
    def fell_back(self) -> bool:
        return self.requested not in ("auto", self.device.type)


def _mps_available() -> bool:
    backend = getattr(torch.backends, "mps", None)
    return bool(backend is not None and backend.is_available())


def available_devices() -> list[str]:
    """Device types usable on this machine, CPU first."""
    found = ["cpu"]
    if torch.cuda.is_available():
        found.append("cuda")
    if _mps_available():
        found.append("mps")
    return found


def describe_device(device: torch.device) -> str:
    """A short human-readable name, e.g. 'CUDA: NVIDIA H100' or 'CPU (1 torch thread)'."""
    if device.type == "cuda":
        return f"CUDA: {torch.cuda.get_device_name(device)}"
    if device.type == "mps":
        return "Apple GPU (MPS)"
    return f"CPU ({torch.get_num_threads()} torch thread{'s' if torch.get_num_threads() > 1 else ''})"


def resolve_device(requested: str) -> DeviceChoice:
    """Map a user's choice to a usable device, falling back to the CPU with a reason.

    Unknown strings are treated as "auto" rather than raising, so a bad query parameter or
    widget value can never break a page.
    """
    choice = requested if requested in DEVICE_OPTIONS else "auto"
    found = available_devices()
    if choice == "auto":
        kind = "cuda" if "cuda" in found else ("mps" if "mps" in found else "cpu")
        device = torch.device(kind)
        return DeviceChoice(choice, device, f"Auto-selected {describe_device(device)}.")
    if choice in found:
        device = torch.device(choice)
        return DeviceChoice(choice, device, f"Using {describe_device(device)}.")
    names = {"cuda": "No CUDA GPU is available", "mps": "Apple MPS is not available"}
    prefix = names.get(choice, f"Device '{requested}' is unknown")
    return DeviceChoice(choice, torch.device("cpu"), f"{prefix} on this machine: running on the CPU instead.")


def configure_training_thread(threads: int = TRAINING_THREADS) -> None:
    """The CPU policy of a thread that trains: torch's intra-op thread count (process-wide) set to the training
    policy, and denormal floats flushed to zero on the calling thread (`torch.set_flush_denormal`, x86 FTZ/DAZ;
    it returns False and changes nothing where unsupported).

    Denormals: values below 1.2e-38 in float32 (in Adam's second moments, in SiLU's far tails) run many times
    slower on x86. Measured on the diffusion defaults, seed 2, on a 2-core AMD EPYC: 1,457-1,471 steps/s
    flushed against 1,212-1,375 not, with the same samples to the digit (docs/decisions.md, "Training")."""
    if torch.get_num_threads() != threads:
        torch.set_num_threads(threads)
    torch.set_flush_denormal(True)


def make_generator(seed: int, device: torch.device | str = "cpu") -> torch.Generator:
    """A torch.Generator on `device`, seeded; every random draw in the explorer takes one."""
    generator = torch.Generator(device=torch.device(device))
    generator.manual_seed(int(seed))
    return generator
