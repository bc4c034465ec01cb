"""Snapshots (numpy arrays) -> Plotly figure dicts and Altair charts. No torch, no streamlit."""
