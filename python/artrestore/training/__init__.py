"""Training-side code: damage synthesis, data collection and model fitting. The runtime never imports it."""
