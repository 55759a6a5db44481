"""What the U-Net is to everything around it, written once: tile geometry, the whole-image
context size, the architecture dataclass, the model-file format, the bundled model folder, and the
served model's name and signature keys (shared by the in-process path, the exporter, the gRPC
client and the stand-in server). Pure Python: importing it never imports Keras or TensorFlow.
"""
from __future__ import annotations

import pathlib
from dataclasses import dataclass

__all__ = ["TILE", "OVERLAP", "CONTEXT", "FORMAT", "BUNDLED_UNET", "MODEL_NAME", "SIGNATURE_NAME",
           "INPUT_KEY", "OUTPUT_KEY", "CONTEXT_KEY", "COMPUTE_PRECISIONS", "GPU_PRECISION", "REDUCED_SIGNATURES",
           "UNET_PRECISIONS", "BLOCKS", "UNetConfig", "SERVED_VIEWS", "views_signature"]

TILE = 256          # side of the square tiles the U-Net sees, pixels
OVERLAP = 32        # pixels shared by neighbouring tiles, blended with a raised-cosine window
CONTEXT = 128       # side of the whole-image thumbnail the global branch sees, pixels

FORMAT = "artrestore-unet/1"  # the ``format`` tag of model_metadata.json
BUNDLED_UNET = pathlib.Path(__file__).resolve().parent.parent / "models" / "unet"

# The served model (TF Serving or ``artrestore serve``).
MODEL_NAME = "artrestore_unet"
SIGNATURE_NAME = "serving_default"
INPUT_KEY = "image"       # float32 [N, H, W, 3] in [0, 1], H and W multiples of 2**depth
OUTPUT_KEY = "restored"   # float32 [N, H, W, 3] clipped to [0, 1]
CONTEXT_KEY = "context"   # global-context models only: float32 [N, CONTEXT, CONTEXT, 3], one thumbnail per tile

# Compute precisions of the Keras runtime -> Keras dtype policy (float32 weights, inputs and outputs
# in every case; the colour transform and residual sum stay float32).
COMPUTE_PRECISIONS = {"fp32": "float32", "bf16": "mixed_bfloat16", "fp16": "mixed_float16"}
# The default on a GPU, measured (benchmarks/results/unet_gpu_h200.json): fp16 ran 13.3k 256^2
# tiles/s against bf16's 11.9k and fp32's 7.3k, within 0.01 dB of fp32 on the validation pairs.
# CPUs keep fp32.
GPU_PRECISION = "fp16"
# Reduced-precision signatures of the exported SavedModel (same inputs and outputs as SIGNATURE_NAME);
# a gRPC backend asked for this precision calls that signature.
REDUCED_SIGNATURES = {"fp16": "serving_fp16"}
# View counts the exported SavedModel also averages in its graph (``serving.export``): for each
# signature S, ``views_signature(S, n)`` takes the same inputs and returns the mean of S over n
# dihedral views of each tile and its thumbnail (``dl.ensemble.TRANSFORMS``), so a client sends
# one copy of the tiles instead of n.
SERVED_VIEWS = (2, 8)


def views_signature(signature: str, views: int) -> str:
    """The name of ``signature`` averaged over ``views`` dihedral views in the served graph."""
    return f"{signature}_x{int(views)}"


# Every precision name a U-Net backend accepts (each runtime takes its own subset: ONNX Runtime
# auto/fp32/int8, Keras auto/fp32/bf16/fp16, gRPC auto/fp32 and REDUCED_SIGNATURES' keys).
UNET_PRECISIONS = ("auto", "fp32", "int8", "bf16", "fp16")
BLOCKS = ("plain", "naf")  # the U-Net's block kinds (``UNetConfig.block``)


@dataclass(frozen=True)
class UNetConfig:
    base_filters: int = 32
    depth: int = 4            # 256 -> 16 at the bottleneck with depth 4
    max_filters: int = 256    # channel cap, keeps the deepest levels (and the file) small
    residual: bool = True
    # A second input, the whole damaged image shrunk to CONTEXT x CONTEXT: a small encoder turns it
    # into a global colour transform applied before the U-Net and a vector added at the bottleneck.
    # Fading, lifted blacks and casts are properties of the whole image; a 256^2 tile alone cannot
    # tell a faded sky from a pale one, so without it every tile guesses its own colours.
    global_context: bool = False
    # A small detector of line and spot damage (scratches, cracks, dust, hairs) on the damaged tile:
    # its mask (0..1, one channel) joins the image at the first convolution, as in old-photo
    # restoration work, and training supervises it with the damage model's free masks. The channels
    # of its four levels; () = no detector (the plain U-Net).
    detector_filters: tuple = ()
    # The blocks at each level: "plain" (two 3x3 convolutions, concatenated skips) or "naf"
    # (NAFNet-style: LayerNorm, 1x1 expansion, 3x3 depthwise, SimpleGate, simplified channel
    # attention; strided-conv downsampling, added skips), ``naf_blocks[level]`` of them per encoder
    # level, ``naf_blocks[-1]`` in the bottleneck and one per decoder level.
    block: str = "plain"
    naf_blocks: tuple = (1, 1, 2, 2)

    def __post_init__(self):
        # Metadata stores tuples as JSON lists; keep the config hashable and equal either way.
        object.__setattr__(self, "detector_filters", tuple(int(f) for f in self.detector_filters))
        object.__setattr__(self, "naf_blocks", tuple(int(n) for n in self.naf_blocks))
        if self.block not in BLOCKS:
            raise ValueError(f"block={self.block!r}: expected one of {BLOCKS}")
        if self.block == "naf" and (len(self.naf_blocks) != self.depth or min(self.naf_blocks) < 1):
            raise ValueError(f"naf_blocks={self.naf_blocks}: expected {self.depth} counts of at least 1")

    @property
    def multiple(self) -> int:
        return 2 ** max(self.depth, len(self.detector_filters) - 1)
