"""The specification draft: sections assembled from the project's objects, their templates, and the review workflow."""
