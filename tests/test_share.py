"""Share links (explorer.ui.share): every page's configuration -> URL -> configuration, equal; links
with values out of range, of the wrong type or unknown never raise and say what they adjusted."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest
from apptest_pages import open_groups
from streamlit.testing.v1 import AppTest

from explorer.methods import FAMILIES, DiffusionConfig, FlowMatchingConfig, GANConfig
from explorer.methods.langevin import LangevinConfig

ROOT = Path(__file__).resolve().parents[1]

# page, its config key in st.session_state (None: the page has no training config), widget key prefix,
# and settings a user would change (config fields, and the page's own widgets such as the time slider)
PAGES = {
    "flow_matching": (
        "config:flow_matching",
        "fm",
        {"density": "two_moons", "hidden": 32, "lr": 0.0005, "coupling": "ot", "sampler_steps": 20, "t": 0.8},
    ),
    "diffusion": (
        "config:diffusion",
        "df",
        {"target": "score", "noise_schedule": "linear", "sampler": "ddim", "tw": 0.6},
    ),
    "gan": (
        "config:gan",
        "gan",
        {"loss": "minimax", "n_critic": 3, "lr_d": 0.0003, "latent_dim": 1, "normalise": True},
    ),
    "langevin": ("config:langevin", "lv", {"step_size": 0.01, "n_steps": 200, "density": "rings", "mala": True}),
    "vae": ("config:vae", "vae", {"beta": 2.0, "latent_dim": 1, "hidden": 32, "tab": "VQ-VAE", "show_prior": True}),
    "normalizing_flows": ("config:flow", "nf", {"n_layers": 6, "density": "two_moons", "tab": "Density check"}),
    "densities": (None, "densities", {"density": "checkerboard", "n": 800, "by_label": False, "seed": 3}),
    "divergences": (None, "div", {"tab": "Optimal discriminator D*", "p2": "checkerboard", "bx": 1.5, "scale2": 1.0}),
}


GROUPS = {f.metadata.get("group") for family in FAMILIES.values() for f in dataclasses.fields(family.config)} - {None}


def _run(page: str, params: dict[str, str] | None = None, widgets: dict | None = None) -> AppTest:
    """The page run once with every sidebar group open (a closed group builds no widgets to set)."""
    prefix = PAGES[page][1]
    at = open_groups(AppTest.from_file(str(ROOT / "pages" / f"{page}.py"), default_timeout=120), prefix, *GROUPS)
    for name, value in (params or {}).items():
        at.query_params[name] = value
    for key, value in (widgets or {}).items():
        at.session_state[key] = value
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def _settings(at: AppTest, page: str, names) -> dict:
    """What the page was told: its config's fields, else the values of its own widgets `names`."""
    config_key, prefix, _ = PAGES[page]
    values = dataclasses.asdict(at.session_state[config_key]) if config_key is not None else {}
    for name in names:
        if name not in values and f"{prefix}.{name}" in at.session_state:
            values[name] = at.session_state[f"{prefix}.{name}"]
    return values


@pytest.mark.parametrize("page", list(PAGES))
def test_configuration_url_configuration_round_trip(page: str) -> None:
    config_key, prefix, changes = PAGES[page]
    first = _run(page, widgets={f"{prefix}.{name}": value for name, value in changes.items()})
    url = dict(first.query_params)
    assert url, "the changed settings should be in the URL"
    for name in changes:
        assert name in url, f"{name} missing from {url}"
    second = _run(page, params=url)
    assert not second.warning or all("link" not in w.value for w in second.warning)
    a, b = _settings(first, page, changes), _settings(second, page, changes)
    for name in changes:
        assert b[name] == a[name] == changes[name], name
    if config_key is not None:
        assert second.session_state[config_key] == first.session_state[config_key]


def test_defaults_leave_the_url_clean() -> None:
    assert dict(_run("gan").query_params) == {}


@pytest.mark.parametrize(
    ("page", "params", "expected"),
    [
        ("gan", {"lr": "50", "n_critic": "-4"}, {"lr": 10.0, "n_critic": 1}),
        (
            "gan",
            {"loss": "nope", "latent_dim": "7", "lr": "abc", "gp_lambda": "nan"},
            {"loss": "wgan_gp", "lr": GANConfig().lr},
        ),
        ("flow_matching", {"density": "../../etc/passwd", "t": "2", "hidden": "1e9"}, {"density": "eight_gaussians"}),
        ("diffusion", {"sampler_steps": "0", "tab": "Nope", "bogus": "1"}, {"sampler_steps": 1}),
        ("langevin", {"n_steps": "-1", "mala": "maybe", "step_size": "inf"}, {"mala": False}),
        ("densities", {"n": "99999999", "density": "", "seed": "x"}, {"n": 5000, "seed": 0}),
        ("divergences", {"theta": "1e9", "blur": "0.3", "p1": "nope"}, {"theta": 4.0}),
    ],
)
def test_tampered_links_are_clamped_or_ignored_with_a_notice(page: str, params: dict, expected: dict) -> None:
    at = _run(page, params=params)
    notice = " ".join(w.value for w in at.warning)
    assert "This link's settings were adjusted" in notice
    values = _settings(at, page, expected)
    for name, value in expected.items():
        assert values[name] == value, name


def test_a_notice_names_an_unknown_parameter_and_drops_it_from_the_url() -> None:
    at = _run("gan", params={"colour": "red", "loss": "hinge"})
    assert "`colour` is not a setting of this page" in " ".join(w.value for w in at.warning)
    assert dict(at.query_params) == {"loss": "hinge"}


def test_configs_named_in_the_table_match_the_pages() -> None:
    """Guards the table above: every config field it changes exists on that page's config."""
    configs = {"flow_matching": FlowMatchingConfig, "diffusion": DiffusionConfig, "gan": GANConfig}
    configs["langevin"] = LangevinConfig
    for page, cls in configs.items():
        names = {f.name for f in dataclasses.fields(cls)}
        config_only = {k for k in PAGES[page][2] if k not in ("t", "tw", "normalise", "tab", "bg", "cmp")}
        assert config_only <= names, (page, config_only - names)
