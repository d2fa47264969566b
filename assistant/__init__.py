"""Cahier: interview stakeholders and turn their answers into a reviewed CRM specification.

Importing the package is cheap on purpose: vendors (streamlit, langchain, chromadb) load only in the
modules that wrap them, so the CLI and the store start fast and stay testable without them.
"""

__version__ = "0.1.0"
