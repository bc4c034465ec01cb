"""The experiment as a Jupyter notebook: a page's current configuration written out in plain PyTorch.

`build(part, config, density, lookup)` assembles one notebook from the shared parts in `cells` (header
and settings, the `STEPS` parameter cell, the density's sampler or the user's points, the quality
metric, the closing figure) around the family's own part: a module with `TITLE`, `PAGE`, `SUMMARY`,
`LOSS`, `constants(config, density)` (the parameter cell's settings) and `cells(config, density,
lookup)` (maths in markdown, the `nn.Sequential` networks, the objective and optimizer in a textbook
loop, the sampler); a part that draws no samples (the critics) brings its own `METRIC` cells and
`closing(config)` cells instead of the sample figure. `PARTS` names them: every registered family
(`explorer.methods.FAMILIES`, its `notebook` entry), Langevin and the critics. The notebook depends on torch, numpy and matplotlib only.

May import: `explorer.methods`, `explorer.data`, `explorer.configs`.
"""

from __future__ import annotations

import dataclasses
import importlib
from collections.abc import Callable
from types import ModuleType

import nbformat

from explorer.configs import TrainingConfig
from explorer.data.densities import Density
from explorer.methods import FAMILIES
from explorer.notebook.cells import METRIC, data, figure, header, parameters

PARTS: dict[str, str] = {name: family.notebook for name, family in FAMILIES.items()} | {
    "langevin": "explorer.notebook.langevin",
    "critic": "explorer.notebook.critic",
}


def part(name: str) -> ModuleType:
    return importlib.import_module(PARTS[name])


def build(
    name: str, config: TrainingConfig, density: Density, lookup: Callable[[str], Density]
) -> nbformat.NotebookNode:
    """The notebook of family (or page) `name` at `config`, trained on `density`; `lookup(name)` finds any
    other density the configuration names (flow matching's source)."""
    module = part(name)
    settings = {
        f.name: getattr(config, f.name) for f in dataclasses.fields(config) if f.name not in ("device", "slow_motion")
    }
    steps = getattr(config, "steps", getattr(config, "n_steps", 0))
    cells = [
        *header(module.TITLE, module.PAGE, module.SUMMARY, settings),
        *parameters(steps, config.seed, module.constants(config, density)),
        *data(density),
        *getattr(module, "METRIC", METRIC),
        *module.cells(config, density, lookup),
        *(module.closing(config) if hasattr(module, "closing") else figure(loss_name=module.LOSS)),
    ]
    notebook = nbformat.v4.new_notebook(cells=cells)
    notebook.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    notebook.metadata["language_info"] = {"name": "python"}
    return notebook


def notebook_bytes(name: str, config: TrainingConfig, density: Density, lookup: Callable[[str], Density]) -> bytes:
    """`build`'s notebook as the bytes of an .ipynb file."""
    return nbformat.writes(build(name, config, density, lookup)).encode()
