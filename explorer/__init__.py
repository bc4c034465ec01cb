"""Generative Models Explorer: the core library (no Streamlit here; see explorer.ui for that)."""
