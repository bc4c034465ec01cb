"""Networks and how they are trained fast, each fast path next to the reference it is tested against.

- References: `nets` (the nn.Modules), `activations` (their activations, with the derivatives the kernels use),
  `realnvp` (the coupling flow as modules), `gan_losses` and `vae_math` (the objectives, differentiable by autograd),
  `vae_likelihood` (a VAE's log p(x) by quadrature and sampling).
- Fast kernels: `flat_mlp` (an MLP's parameters as views of one flat buffer, TorchScript helpers),
  `regression` (flow matching and diffusion), `gan_kernel`, `vae_kernel`, `realnvp_kernel`: hand-derived
  backward passes and optimizer steps, a whole chunk of steps per TorchScript call, matched against the
  references + autograd + torch.optim in float64 by the tests.

May import: torch only (and each other). No config, session, density or UI.
"""
