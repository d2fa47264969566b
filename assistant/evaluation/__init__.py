"""Offline evaluation: replay recorded interviews through the real pipeline and score what it extracted.

`transcripts` loads the recorded interviews and their gold (format: docs/transcript-format.md), `runner` replays
them through `Interview` (live, recorded or from a recording), `scoring` compares the project with the gold,
and `report` writes the JSON / Markdown report and checks a run against the committed baseline.
"""
