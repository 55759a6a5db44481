"""The blind restoration chain of the fast paths: one module per stage, each a function with a
strength parameter (``lines``, ``inpaint``, ``denoise``, ``colour``), and ``chain`` running them."""
from artrestore.chain.chain import DEFAULT_CHAIN, STAGES, ChainParams, ChainResult, run_chain

__all__ = ["ChainParams", "ChainResult", "DEFAULT_CHAIN", "STAGES", "run_chain"]
