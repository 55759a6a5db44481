"""Training-only code: data collection, damage models and model fitting.

Nothing here is imported by the runtime (``artrestore`` and its restoration paths); these modules
may use heavier dependencies and write large files.
"""
