"""Training code: everything that builds the shipped models, beside the runtime and never imported
by it (import-linter checks this).

- ``synthesis``: the legacy damage synthesizer; ``datasets``: paired datasets and clean sources;
- ``broad_damage`` (+ ``damage_*``): the broad damage model, the training family (issue 14);
- ``router_fit``: features, parameter search, router fitting, threshold calibration;
- ``toolbox``: every classical technique per severity;
- ``unet_data``: U-Net training pairs and crops; ``losses``: the ``LOSSES`` table;
- ``unet_train``: ``TrainConfig`` and U-Net training as named steps; ``unet_eval``: the U-Net on a
  dataset split; ``unet_broad``: U-Net training on the broad damage model with the damage mask;
- ``collect_images``: photographs and paintings from Debian packages, licence per file, training
  crops (+ ``image_packages``: which packages and files, ``debsource``, ``image_select``,
  ``image_jobs``); ``crop_shards``: the crops packed for the device;
- ``export_onnx``: the U-Net's ONNX graphs (fp32 and calibrated int8) for the in-process runtime;
- ``chain_outcomes`` / ``chain_colour`` / ``chain_cv`` / ``chain_fit``: the restoration chain's
  outcome search, colour cases, cross-validation and router fitting (issue 23); ``chain_choices``:
  the measurements behind its fixed method choices.

Importing this package imports none of its modules.
"""
__all__ = ["synthesis", "datasets", "broad_damage", "router_fit", "toolbox", "unet_data", "losses", "unet_train",
           "unet_eval", "unet_broad", "collect_images", "debsource", "image_select", "image_jobs", "image_packages",
           "crop_shards", "export_onnx", "chain_outcomes", "chain_colour", "chain_cv", "chain_fit", "chain_choices"]
