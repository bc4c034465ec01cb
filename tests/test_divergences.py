"""explorer.maths.divergences, explorer.maths.measures and the Divergences views: KL, JS, W_1 against closed forms.

References come from outside the code under test where possible: scipy quadrature for KL and JS of
Gaussians, hand-computed values for the notes' examples, and the translation identity
W_1(x, x + b) = |b| (the dual's linear critic gives >= |b|, moving every point by b gives <=).
"""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from scipy import integrate, stats

from explorer.data.densities import get_density
from explorer.device import make_generator
from explorer.maths.divergences import (
    LOG2,
    divergences_1d,
    kantorovich_potential_1d,
    kl_gaussians,
    kl_grid,
    monotone_plan,
    point_masses,
    w1_cdf,
    w1_gaussians_1d,
    w1_quantiles,
    w1_samples,
)
from explorer.maths.grid import make_grid
from explorer.maths.measures import SHAPES_1D, Measure1D, Moved, box, earth_mover_pair, normal
from explorer.maths.optimal_discriminator import js_divergence_grid
from explorer.views import divergences as views
from explorer.views import divergences_text as text
from explorer.views import earth_mover


def _kl_quad(p, q, lo: float, hi: float) -> float:
    """KL(p || q) for scipy frozen 1D laws by quadrature, with logpdf (no underflow)."""
    return integrate.quad(lambda x: p.pdf(x) * (p.logpdf(x) - q.logpdf(x)), lo, hi, limit=400, epsabs=1e-13)[0]


def _js_quad(p, q, lo: float, hi: float) -> float:
    def integrand(x: float) -> float:
        px, qx = p.pdf(x), q.pdf(x)
        m = 0.5 * (px + qx)
        return 0.5 * ((px * math.log(px / m) if px > 0 else 0.0) + (qx * math.log(qx / m) if qx > 0 else 0.0))

    return integrate.quad(integrand, lo, hi, limit=400, epsabs=1e-13)[0]


# --- point masses ---------------------------------------------------------------------------------
@pytest.mark.parametrize("theta", [1.5, -0.01, 3.0, -4.0])
def test_point_masses_away_from_zero(theta):
    d = point_masses(theta)
    assert d.kl_pq == math.inf and d.kl_qp == math.inf
    assert d.js == pytest.approx(math.log(2), abs=1e-15)
    assert d.w1 == abs(theta)


def test_point_masses_at_zero_and_bad_input():
    d = point_masses(0.0)
    assert (d.kl_pq, d.kl_qp, d.js, d.w1) == (0.0, 0.0, 0.0, 0.0)
    with pytest.raises(ValueError):
        point_masses(math.nan)


def test_point_mass_view_curves_and_slopes():
    view = views.point_mass_view(1.5)
    zero = view.thetas == 0
    assert zero.sum() == 1
    assert np.all(np.isinf(view.kl[~zero])) and view.kl[zero] == 0
    assert np.allclose(view.js[~zero], LOG2) and view.js[zero] == 0
    assert np.allclose(view.w1, np.abs(view.thetas))
    assert view.slope_js == 0 and view.slope_w1 == 1
    # blurred: KL = theta^2 / (2 sigma^2), JS smooth and increasing in |theta|, W_1 still |theta|
    blurred = views.point_mass_view(0.5, blur=0.5)
    assert blurred.now.kl_pq == pytest.approx(0.5, rel=1e-9)
    assert blurred.now.w1 == pytest.approx(0.5, abs=1e-6) and blurred.slope_js > 0.1
    assert np.allclose(blurred.kl, blurred.thetas**2 / 0.5, rtol=1e-6)
    assert views.point_mass_view(1e9).theta == views.THETA_MAX  # clipped, not an error


# --- the notes' earth-mover example ---------------------------------------------------------------
def test_earth_mover_example_is_three():
    mu, nu = earth_mover_pair()
    assert mu.weights == (0.25, 0.25, 0.5)
    d = divergences_1d(mu, nu)
    assert d.w1 == pytest.approx(3.0, abs=1e-5)  # area between the CDFs
    assert w1_quantiles(mu, nu) == pytest.approx(3.0, abs=1e-9)  # cost of the monotone plan
    assert kantorovich_potential_1d(mu, nu)[2] == pytest.approx(3.0, abs=1e-5)  # the dual value
    # disjoint supports: KL infinite both ways, JS = log 2
    assert d.kl_pq == math.inf and d.kl_qp == math.inf and d.js == pytest.approx(LOG2, abs=1e-12)


def test_earth_mover_plan_pieces_and_pot_estimate():
    view = earth_mover.earth_mover_view()
    # [1,2] -> [5,5.5] at mean distance 3.75, [3,4] -> [5.5,6] at 2.25, [9,10] -> [6,7] at 3 (by hand)
    targets = [piece[2] for piece in view.pieces]
    assert targets == ["[5.00, 5.50]", "[5.50, 6.00]", "[6.00, 7.00]"]
    assert [round(piece[3], 6) for piece in view.pieces] == [3.75, 2.25, 3.0]
    assert sum(piece[4] for piece in view.pieces) == pytest.approx(3.0, abs=1e-9)
    assert view.w1_pot == pytest.approx(3.0, abs=0.1)  # POT, exact OT between 2,000 samples of each
    assert abs(view.w1_pot - 3.0) > 1e-6  # it is an estimate, not the closed form again
    mu, nu = earth_mover_pair()
    rng = np.random.default_rng(3)
    assert w1_samples(mu.sample(1000, rng), nu.sample(1000, rng)) == pytest.approx(3.0, abs=0.15)


@pytest.mark.parametrize("offset", [-6.0, -2.5, 1.0, 4.0])
def test_w1_from_cdfs_equals_w1_from_quantiles(offset):
    mu, nu = earth_mover_pair()
    nu = nu.moved(offset)
    assert w1_cdf(mu, nu) == pytest.approx(w1_quantiles(mu, nu), abs=1e-5)
    src, dst, mass = monotone_plan(mu, nu, 64)
    assert np.all(np.diff(src) >= 0) and np.all(np.diff(dst) >= 0) and mass.sum() == pytest.approx(1.0)


# --- Gaussians: closed forms ----------------------------------------------------------------------
@pytest.mark.parametrize(("m1", "s1", "m2", "s2"), [(0, 1, 2, 0.5), (0, 1, 0, 2), (-1, 0.3, 3, 1.7), (5, 2, 5, 2)])
def test_kl_of_gaussians_matches_the_closed_form(m1, s1, m2, s2):
    p, q = stats.norm(m1, s1), stats.norm(m2, s2)
    lo, hi = min(m1, m2) - 15 * max(s1, s2), max(m1, m2) + 15 * max(s1, s2)
    reference = _kl_quad(p, q, lo, hi)
    assert kl_gaussians(m1, s1, m2, s2) == pytest.approx(reference, abs=1e-9)
    d = divergences_1d(normal(m1, s1), normal(m2, s2))
    assert d.kl_pq == pytest.approx(kl_gaussians(m1, s1, m2, s2), rel=1e-8, abs=1e-8)
    assert d.kl_qp == pytest.approx(kl_gaussians(m2, s2, m1, s1), rel=1e-8, abs=1e-8)
    assert d.js == pytest.approx(_js_quad(p, q, lo, hi), abs=1e-8)
    assert d.w1 == pytest.approx(w1_gaussians_1d(m1, s1, m2, s2), abs=1e-4)  # |F - G| has a kink: O(h^2)


def test_w1_of_gaussians_closed_form_against_quantile_formula():
    # W_1 = int_0^1 |F^-1(u) - G^-1(u)| du, by scipy quadrature of the exact quantile functions
    p, q = stats.norm(0.5, 1.0), stats.norm(-1.0, 2.5)
    reference = integrate.quad(lambda u: abs(p.ppf(u) - q.ppf(u)), 0, 1, limit=400)[0]
    assert w1_gaussians_1d(0.5, 1.0, -1.0, 2.5) == pytest.approx(reference, abs=1e-6)


def test_kl_in_2d_matches_the_closed_form():
    p = get_density("gaussian")
    q = Moved(get_density("gaussian"), (1.0, -2.0), 0.7)
    closed = kl_gaussians(np.zeros(2), 1.0, np.array([1.0, -2.0]), 0.7, dim=2)
    assert kl_grid(p.log_prob, q.log_prob, 9.0, 301) == pytest.approx(closed, rel=1e-6)
    back = kl_gaussians(np.array([1.0, -2.0]), 0.7, np.zeros(2), 1.0, dim=2)
    assert kl_grid(q.log_prob, p.log_prob, 9.0, 301) == pytest.approx(back, rel=1e-6)


# --- JS bounds ------------------------------------------------------------------------------------
@pytest.mark.parametrize("p_name", list(SHAPES_1D))
@pytest.mark.parametrize("q_name", list(SHAPES_1D))
def test_js_is_between_zero_and_log2(p_name, q_name):
    p = SHAPES_1D[p_name]
    for shift in (0.0, 0.7, 5.0):
        d = divergences_1d(p, SHAPES_1D[q_name].moved(shift, 1.5))
        assert 0.0 <= d.js <= LOG2 + 1e-12
        assert d.kl_pq >= 0 and d.kl_qp >= 0 and d.w1 >= 0


@pytest.mark.parametrize("name", list(SHAPES_1D))
def test_js_of_identical_distributions_is_zero(name):
    m = SHAPES_1D[name]
    d = divergences_1d(m, m)
    assert (d.js, d.kl_pq, d.kl_qp) == (0.0, 0.0, 0.0)
    assert d.w1 == 0.0


def test_js_tends_to_log2_as_densities_move_apart():
    p = SHAPES_1D["two_bumps"]
    values = [divergences_1d(p, SHAPES_1D["gaussian"].moved(shift)).js for shift in (0.0, 4.0, 8.0, 16.0, 40.0)]
    assert values[-1] == pytest.approx(LOG2, abs=1e-12)
    assert values[2] < values[3] <= values[4]
    assert LOG2 - values[3] < 1e-6
    # 2D: eight Gaussians against a copy moved far away, by the grid integral the page uses
    eight = get_density("eight_gaussians")
    assert js_divergence_grid(eight, Moved(eight, (30.0, 0.0)), lim=36.0, n=400) == pytest.approx(LOG2, abs=1e-6)


# --- supports, far shifts, samples ----------------------------------------------------------------
def test_kl_is_infinite_exactly_when_supports_do_not_nest():
    small, big = box(0.0, 1.0), box(0.0, 2.0)
    d = divergences_1d(small, big)
    assert d.kl_pq == pytest.approx(math.log(2), abs=1e-12) and d.kl_qp == math.inf
    d = divergences_1d(box(-1, 1), box(-1, 1).moved(0.5))
    assert d.kl_pq == d.kl_qp == math.inf
    assert d.js == pytest.approx(0.25 * LOG2, abs=1e-12) and d.w1 == pytest.approx(0.5, abs=1e-6)
    d = divergences_1d(box(-1, 1), normal(0, 1))
    assert math.isfinite(d.kl_pq) and d.kl_qp == math.inf


def test_far_apart_gaussians_do_not_underflow():
    d = divergences_1d(normal(0, 1), normal(1e6, 1))
    assert d.kl_pq == pytest.approx(0.5e12, rel=1e-9)
    assert d.js == pytest.approx(LOG2, abs=1e-12) and d.w1 == pytest.approx(1e6, rel=1e-9)


@pytest.mark.parametrize("shift", [(2.5, 0.0), (-1.0, 3.0)])
def test_pot_w1_of_a_translation_is_its_length(shift):
    x = torch.randn(300, 2, generator=make_generator(0)).numpy()
    assert w1_samples(x, x + np.array(shift)) == pytest.approx(math.hypot(*shift), abs=1e-6)
    assert w1_samples(x[:, 0], x[:, 0] + shift[0]) == pytest.approx(abs(shift[0]), abs=1e-6)  # 1D path
    with pytest.raises(ValueError):
        w1_samples(x, np.full((3, 2), np.nan))


def test_measures_are_normalised_and_moved_correctly():
    for m in [*SHAPES_1D.values(), *earth_mover_pair()]:
        lo, hi = m.hull()
        edges = sorted({x for w in m.windows() for x in w})
        pdf = lambda x, m=m: float(m.pdf(np.array([x]))[0])  # noqa: E731
        assert integrate.quad(pdf, lo, hi, points=edges, limit=400)[0] == pytest.approx(1.0, abs=1e-6)
        assert m.cdf(np.array([lo - 1, hi + 1])).tolist() == pytest.approx([0.0, 1.0], abs=1e-30)
        assert m.moved(3.0, 2.0).pdf(np.array([3.0 + 2 * 0.1]))[0] == pytest.approx(m.pdf(np.array([0.1]))[0] / 2)
    mu = earth_mover_pair()[0]
    assert mu.quantile(np.array([0.125, 0.25, 0.5, 0.75])).tolist() == pytest.approx([1.5, 2.0, 4.0, 9.5])
    with pytest.raises(ValueError):
        Measure1D(("normal",), (0.0,), (-1.0,), (1.0,))
    with pytest.raises(ValueError):
        normal().moved(0.0, 0.0)


def test_a_moved_2d_density_integrates_to_one():
    board = Moved(get_density("checkerboard"), (1.0, -0.5), 1.5)
    grid = make_grid(8.0, 401)
    mass = float(board.log_prob(grid.points.double()).exp().sum()) * grid.spacing**2
    assert mass == pytest.approx(1.0, abs=0.02)
    x = board.sample(4000, make_generator(0))
    assert torch.isfinite(board.log_prob(x.double())).all()  # samples land where the density is positive


# --- the views ------------------------------------------------------------------------------------
def test_shift_curves_match_the_closed_forms_for_gaussians():
    curves = views.shift_curves("gaussian", "narrow_gaussian", 2.0)
    assert curves.closed_kl_pq is not None
    assert np.allclose(curves.kl_pq, curves.closed_kl_pq, atol=1e-6)
    assert np.allclose(curves.kl_qp, curves.closed_kl_qp, atol=1e-6)
    assert np.allclose(curves.w1, curves.closed_w1, atol=1e-4)
    assert np.all(np.abs(curves.pot_w1 - np.interp(curves.pot_thetas, curves.thetas, curves.w1)) < 0.15)
    assert views.shift_curves("two_bumps", "uniform", 1.0).closed_kl_pq is None


def test_shift_now_handles_extreme_shifts():
    curves = views.shift_curves("uniform", "uniform", 1.0)
    now = views.shift_now("uniform", "uniform", 1.0, -1e12, curves.x)
    assert now.theta == -views.SHIFT_MAX and now.now.kl_pq == math.inf and now.now.js == pytest.approx(LOG2)
    assert text.fmt(now.now.kl_pq) == "∞" and text.fmt(-0.0001) == "0.000"
    with pytest.raises(KeyError):
        views.shape("nonsense")


def test_discriminator_view_2d():
    same = views.discriminator_view_2d("two_gaussians", "two_gaussians")
    assert same.now.js == 0 and same.now.kl_pq == 0 and same.gan_value == pytest.approx(-math.log(4), abs=1e-6)
    inside = same.mass > 1e-3 * same.mass.max()
    assert np.allclose(same.d_star[inside], 0.5)
    gauss = views.discriminator_view_2d("gaussian", "gaussian", (1.0, 2.0), 0.5)
    assert gauss.closed_kl is not None
    assert gauss.now.kl_pq == pytest.approx(gauss.closed_kl[0], rel=1e-5)
    assert gauss.now.kl_qp == pytest.approx(gauss.closed_kl[1], rel=1e-5)
    assert gauss.gan_value == pytest.approx(-math.log(4) + 2 * gauss.now.js, abs=1e-6)
    assert gauss.now.w1 > gauss.w1_floor
    # checkerboard moved by one cell: black cells onto white ones, disjoint supports
    board = views.discriminator_view_2d("checkerboard", "checkerboard", (2.0, 0.0))
    assert board.now.js == pytest.approx(LOG2, abs=1e-9) and board.now.kl_pq == math.inf
    assert board.gan_value == pytest.approx(0.0, abs=1e-9)
    # the grid's points avoid every cell edge, so both masses sum to 1 exactly and V = -log 4 + 2 JS holds
    moved = views.discriminator_view_2d("checkerboard", "checkerboard", (1.0, 0.25), 0.75)
    assert moved.gan_value == pytest.approx(-math.log(4) + 2 * moved.now.js, abs=1e-12)
    assert 0.1 < moved.now.js < LOG2 - 0.1
