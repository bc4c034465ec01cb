"""The only Streamlit code in the explorer: widgets from configs, session-state access, the live loop, the chart
component and its plotly.js (`assets`), presentation mode, share links, exports, the server's status route.

May import: everything but `explorer.bench`; nothing below imports it (tests/test_architecture.py).
"""
