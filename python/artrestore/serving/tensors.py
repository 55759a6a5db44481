"""TensorFlow's TensorProto <-> NumPy float32 arrays, without TensorFlow: the protobuf classes are
artrestore's own copies generated from TF Serving's .proto files (``artrestore._proto``)."""
from __future__ import annotations

import numpy as np

from artrestore._proto.tensorflow.core.framework import tensor_pb2, types_pb2

__all__ = ["to_tensor_proto", "from_tensor_proto"]


def to_tensor_proto(array: np.ndarray) -> tensor_pb2.TensorProto:
    """float32 array -> TensorProto (raw little-endian ``tensor_content``, as tf.make_tensor_proto writes)."""
    array = np.ascontiguousarray(array, dtype=np.float32)
    proto = tensor_pb2.TensorProto(dtype=types_pb2.DT_FLOAT, tensor_content=array.tobytes())
    for size in array.shape:
        proto.tensor_shape.dim.add(size=size)
    return proto


def from_tensor_proto(proto: tensor_pb2.TensorProto) -> np.ndarray:
    """DT_FLOAT TensorProto (``tensor_content``, ``float_val`` or TF's one-value splat) -> float32
    array of its shape; ValueError for another dtype or a size that does not match the shape."""
    if proto.dtype != types_pb2.DT_FLOAT:
        raise ValueError(f"expected a DT_FLOAT tensor, got dtype {proto.dtype}")
    shape = tuple(d.size for d in proto.tensor_shape.dim)
    if proto.tensor_content:
        data = np.frombuffer(proto.tensor_content, dtype="<f4")
    else:
        data = np.asarray(proto.float_val, np.float32)
        if data.size == 1 and int(np.prod(shape)) > 1:  # TF's splat encoding
            data = np.full(shape, data[0], np.float32)
    if data.size != int(np.prod(shape)):
        raise ValueError(f"tensor holds {data.size} values for shape {shape}")
    return data.reshape(shape)
