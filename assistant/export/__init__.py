"""Exports of a project: each format in its own module, all reading the store."""
