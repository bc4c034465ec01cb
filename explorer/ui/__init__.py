"""The only Streamlit code in the explorer: widgets from configs, session-state access, the live loop."""
