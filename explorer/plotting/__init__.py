"""Snapshots (numpy arrays) -> Plotly figure dicts, Vega-Lite charts and rasters (GIF, PNG).

May import: numpy, Pillow, plotly's templates. No torch, no streamlit, nothing else of the explorer but
`explorer.views` data classes (by duck typing) and itself.
"""
