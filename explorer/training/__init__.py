"""Training and serving the families: the one training loop (`session.TrainingSession`), its background
worker, the process-wide training slots, the equal-budget comparison, checkpoints, lecture presets, what
sampling costs, and the server's warm-up.

May import: `explorer.methods`, `explorer.kernels`, `explorer.maths`, `explorer.data`, `explorer.configs`,
`explorer.device`. Not the views, plotting, UI or benchmarks.
"""
