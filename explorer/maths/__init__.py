"""The maths and the ground truth, with no training in it: Gaussian paths and noise schedules, the closed-form
marginals, scores and velocities of Gaussian mixtures (`exact`), ODE / SDE / Langevin integrators over plain
callables, divergences between measures (quadrature and POT), the optimal discriminator, OT couplings, the
sample-quality metrics, entropy floors and regular grids.

May import: `explorer.data` (the densities), torch, numpy, scipy, POT. Nothing here imports a network, a
training session, Streamlit or plotting.
"""
