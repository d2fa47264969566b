"""The Streamlit app: pages that read and write session state and call the package, nothing more."""
