"""Training-side code: fitting, calibrating and exporting models. The runtime never imports it."""
