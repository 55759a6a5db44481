"""Training code: everything that builds the shipped models, beside the runtime and never imported
by it (import-linter checks this).

- ``synthesis``: damage synthesis; ``datasets``: paired datasets and clean sources;
- ``router_fit``: features, parameter search, router fitting, threshold calibration;
- ``toolbox``: every classical technique per severity;
- ``unet_data``: U-Net training pairs and crops; ``losses``: the ``LOSSES`` table;
- ``unet_train``: ``TrainConfig`` and U-Net training as named steps; ``unet_eval``: the U-Net on a
  dataset split.

Importing this package imports none of its modules.
"""
__all__ = ["synthesis", "datasets", "router_fit", "toolbox", "unet_data", "losses", "unet_train", "unet_eval"]
