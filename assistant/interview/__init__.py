"""The interview: the plan, its state and coverage, the question policy, extraction, normalisation and merge."""
