"""The fail-fast-fix-faster loop of one lane, and races of many lanes."""
