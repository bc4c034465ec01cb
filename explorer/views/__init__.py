"""View data for pages: plain numpy arrays computed from a trained method (no plotting here), and each
family's lecture presets (`PRESETS`).

May import: `explorer.training`, `explorer.methods`, `explorer.kernels`, `explorer.maths`, `explorer.data`,
`explorer.configs`, `explorer.device`. Not the plotting, UI or benchmarks.
"""
