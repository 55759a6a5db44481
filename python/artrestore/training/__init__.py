"""Training-only code: data, searches and model fitting. The runtime never imports this package."""
