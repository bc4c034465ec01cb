"""View data for pages: plain numpy arrays computed from a trained method (no plotting here)."""
