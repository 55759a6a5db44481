"""``artrestore train unet``: the U-Net trained on pairs synthesized on the fly. Options, defaults,
help and loss choices come from ``TrainConfig``'s fields and ``DEFAULT_ARCHITECTURE``; the step
imports no compiled code, so it runs on GPU machines without the core."""
from __future__ import annotations

import argparse
import dataclasses
import json

from artrestore.training.unet_train import DEFAULT_ARCHITECTURE, TrainConfig

_UNSET = dataclasses.MISSING


def register(steps) -> None:
    p = steps.add_parser("unet", help="train the U-Net on pairs synthesized on the fly")
    for f in dataclasses.fields(TrainConfig):
        flag = f.metadata.get("flag")
        if flag is None:
            continue
        options = {"dest": f.name, "metavar": flag.lstrip("-").upper().replace("-", "_"), "help": f.metadata["help"]}
        if f.default is _UNSET:
            options["required"] = True
        else:
            options.update(default=f.default, type=type(f.default) if f.default is not None else str)
        if "choices" in f.metadata:
            options["choices"] = f.metadata["choices"]
        p.add_argument(flag, **options)
    p.add_argument("--base", type=int, default=DEFAULT_ARCHITECTURE.base_filters, help="filters of the first level")
    p.add_argument("--depth", type=int, default=DEFAULT_ARCHITECTURE.depth, help="levels (tiles shrink 2**depth)")
    init = p.add_mutually_exclusive_group()
    init.add_argument("--init", help="continue from this U-Net folder (its architecture; --context may add the "
                                     "global branch)")
    init.add_argument("--init-partial", help="build --base/--depth and copy every layer of this U-Net folder that "
                                             "fits (name and shape), e.g. the global branch into a wider U-Net")
    p.add_argument("--context", action=argparse.BooleanOptionalAction, default=DEFAULT_ARCHITECTURE.global_context,
                   help="global branch: a 128^2 thumbnail of the whole image steers colour and the bottleneck")
    p.set_defaults(handler=run)


def config_from_args(args) -> TrainConfig:
    """The TrainConfig the parsed options describe."""
    values = {f.name: getattr(args, f.name) for f in dataclasses.fields(TrainConfig) if f.metadata.get("flag")}
    return TrainConfig(**values, init_from=args.init or args.init_partial, init_partial=bool(args.init_partial))


def run(args) -> int:
    from artrestore.training.unet_train import train_unet

    architecture = dataclasses.replace(DEFAULT_ARCHITECTURE, base_filters=args.base, depth=args.depth,
                                       global_context=args.context)
    meta = train_unet(config_from_args(args), architecture)
    print(json.dumps(meta["validation"], indent=2))
    return 0
