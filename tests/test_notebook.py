"""The experiment as a notebook: every family's notebook runs top to bottom in a Jupyter kernel (nbclient)
on a short budget and trains; the configuration's variants run in this process (the same cells, exec'd).

Each notebook keeps what it measured in RESULTS (energy distance of the untrained and the trained model
against the data; the mean loss over the first and the last tenth of the steps) and prints it as JSON in
its last cell."""

from __future__ import annotations

import dataclasses
import json
import re
from pathlib import Path

import matplotlib
import nbformat
import numpy as np
import pytest
import torch

from explorer.data.densities import get_density
from explorer.data.drawing import Stroke, drawn_density, replay
from explorer.methods import (
    FAMILIES,
    CriticConfig,
    DiffusionConfig,
    FlowConfig,
    FlowMatchingConfig,
    GANConfig,
    VAEConfig,
)
from explorer.methods.langevin import LangevinConfig
from explorer.notebook import PARTS, build

nbclient = pytest.importorskip("nbclient", reason="nbclient runs the notebooks (requirements-dev.txt)")
CONFIGS = {name: family.config for name, family in FAMILIES.items()} | {
    "langevin": LangevinConfig,
    "critic": CriticConfig,
}
ADVERSARIAL = ("gan",)  # its losses are a game's: they need not fall, the samples' quality must


def _with_steps(notebook, steps: int):
    cell = next(c for c in notebook.cells if "parameters" in c.metadata.get("tags", []))
    cell.source, n = re.subn(r"^STEPS = \d+", f"STEPS = {steps}", cell.source, flags=re.M)
    assert n == 1, "the parameter cell sets STEPS"
    return notebook


def _in_kernel(notebook) -> dict:
    nbclient.NotebookClient(notebook, timeout=300, kernel_name="python3").execute()
    printed = [o["text"] for o in notebook.cells[-1].outputs if o.get("name") == "stdout"]
    return json.loads(printed[-1])


def _in_process(notebook) -> dict:
    """Every code cell exec'd in one fresh namespace (plots to Agg), restoring torch's global state after."""
    matplotlib.use("Agg")
    namespace: dict = {}
    rng, threads = torch.get_rng_state(), torch.get_num_threads()
    try:
        for cell in notebook.cells:
            if cell.cell_type == "code":
                exec(compile(cell.source, "<notebook>", "exec"), namespace)  # noqa: S102 - our own generated code
    finally:
        torch.set_rng_state(rng)
        torch.set_num_threads(threads)
        matplotlib.pyplot.close("all")
    return namespace["RESULTS"]


def _check(results: dict, family: str, improvement: float = 0.5, loss_falls: bool = True) -> None:
    assert results["metric_after"] < improvement * results["metric_before"], results
    if family not in ADVERSARIAL and loss_falls:
        assert results["loss_last"] < results["loss_first"], results


def test_every_family_and_langevin_has_a_notebook_part():
    assert set(PARTS) == set(CONFIGS)


KERNEL = "gan"  # the one part run in a real Jupyter kernel (a kernel's start costs ~3 s; the cells are the same)


@pytest.mark.slow
@pytest.mark.parametrize("family", sorted(CONFIGS))
def test_the_notebook_trains_on_eight_gaussians_in_a_jupyter_kernel(family, tmp_path):
    """Each part's default notebook, written to a file and read back as a user opens it, trains on eight_gaussians:
    in a Jupyter kernel for KERNEL, in this process (every code cell in one namespace) for the others."""
    # the critics on their own default pair (KL = 1.125: a mixture of eight against one Gaussian is far, and
    # the Donsker-Varadhan estimate fails there by design, as its lecture demo shows)
    name = "gaussian" if family == "critic" else "eight_gaussians"
    config = dataclasses.replace(CONFIGS[family](), density=name)
    notebook = build(family, config, get_density(name), get_density)
    path = tmp_path / f"{family}.ipynb"
    nbformat.write(notebook, path)  # what the download button hands over, read back as a user opens it
    notebook = _with_steps(nbformat.read(path, as_version=4), 40 if family == "langevin" else 300)
    nbformat.validate(notebook)
    results = _in_kernel(notebook) if family == KERNEL else _in_process(notebook)
    print(f"{family}: energy distance {results['metric_before']:.3f} -> {results['metric_after']:.3f}")
    _check(results, family)


def _drawn():
    strokes = [Stroke("spray", np.random.default_rng(k).normal([0, 2.5 - 5 * k], 0.3, (200, 2)), k) for k in (0, 1)]
    return drawn_density(*replay(strokes), "blobs")


VARIANTS = [
    ("flow_matching", FlowMatchingConfig(path="cosine", integrator="heun", time_sampling="uniform", ema=False)),
    ("flow_matching", FlowMatchingConfig(density="drawn", guidance=True, coupling="ot", source="two_gaussians")),
    ("diffusion", DiffusionConfig(target="score", sampler="ddpm", noise_schedule="linear")),
    ("diffusion", DiffusionConfig(target="x0", sampler="ddim", eta=0.5)),
    ("diffusion", DiffusionConfig(sampler="sde", sampler_steps=100)),
    ("gan", GANConfig(loss="nonsaturating", conditional=True, optimizer_d="rmsprop")),
    ("gan", GANConfig(loss="lsgan", latent_dim=1)),
    ("gan", GANConfig(loss="hinge", optimizer_g="adam", n_critic=2, spectral_norm=True, d_activation="leaky_relu")),
    ("gan", GANConfig(loss="dragan", conditional=True)),
    ("gan", GANConfig(penalty_at="real_and_generated")),
    ("flow", FlowConfig(density="two_moons", activation="tanh", schedule="constant")),
    ("flow", FlowConfig(density="checkerboard")),  # the bounded output (BOUND = 4.1)
    ("vae", VAEConfig(kind="ae", decoder_variance="fixed")),
    ("vae", VAEConfig(kind="vqvae", codebook_size=32)),
    ("langevin", LangevinConfig(annealed=True, mala=True, init="point", init_x=4.0, init_y=0.0)),
    ("langevin", LangevinConfig(density="two_moons", score="learned", annealed=True, step_size=1e-3)),
    ("critic", CriticConfig()),  # two Gaussians (a one-component mixture written out)
    ("critic", CriticConfig(density="checkerboard", reference="checkerboard", shift_x=2.0)),  # KL = inf
]


@pytest.mark.parametrize(("family", "config"), VARIANTS, ids=[f"{f}-{i}" for i, (f, _) in enumerate(VARIANTS)])
def test_each_variant_of_a_configuration_runs_and_trains(family, config):
    density = _drawn() if config.density == "drawn" else get_density(config.density)
    notebook = _with_steps(build(family, config, density, get_density), 120 if family == "langevin" else 400)
    if family == "langevin":  # the learned score's own fit, shortened
        cell = next(c for c in notebook.cells if "parameters" in c.metadata.get("tags", []))
        cell.source = re.sub(r"^SCORE_STEPS = [1-9]\d*", "SCORE_STEPS = 800", cell.source, flags=re.M)
    # the score target's batch losses are dominated by the irreducible E|eps / sigma_t|^2 of each batch's smallest
    # t (heavy-tailed, up to 1e6 at T_MIN): their means need not fall while the samples improve a thousandfold
    score_target = family == "diffusion" and config.target == "score"
    _check(_in_process(notebook), family, improvement=0.8, loss_falls=not score_target)


def test_a_drawing_travels_into_its_notebook_with_its_labels():
    density = _drawn()
    notebook = build("gan", GANConfig(conditional=True), density, get_density)
    source = "\n".join(c.source for c in notebook.cells if c.cell_type == "code")
    assert source.count("[0.") + source.count("[-0.") >= 100 and "SAMPLE_DATA_LABELS" in source
    assert "N_CLASSES = 2" in source
    assert "explorer" not in source.replace("Generative Models Explorer", ""), "the notebook needs nothing of ours"


def test_the_notebook_depends_on_torch_numpy_and_matplotlib_only():
    for family, make in CONFIGS.items():
        config = make()
        notebook = build(family, config, get_density(config.density), get_density)
        imports = {
            line.split()[1].split(".")[0]
            for cell in notebook.cells
            if cell.cell_type == "code"
            for line in cell.source.splitlines()
            if line.startswith(("import ", "from "))
        }
        assert imports <= {"copy", "json", "math", "matplotlib", "numpy", "torch"}, (family, imports)


def test_no_notebook_text_is_pasted_per_page():
    for page in Path(__file__).resolve().parents[1].glob("pages/*.py"):
        text = page.read_text()
        assert "nbformat" not in text and "new_code_cell" not in text, page


@pytest.mark.parametrize("page", sorted({family.page for family in FAMILIES.values()} | {"pages/langevin.py"}))
def test_every_training_page_and_langevin_offers_the_notebook(page):
    from apptest_pages import TRAINING_PAGE_KEYS, run_page

    export_open = {f"{key}.export": True for key in TRAINING_PAGE_KEYS.values()}  # the panel builds when open
    at = run_page(str(Path(__file__).resolve().parents[1] / page), export_open)
    labels = [b.proto.label for b in at.get("download_button")]
    assert "Download as notebook (.ipynb)" in labels, labels
