"""artrestore's private protobuf descriptor pool for its copies of TF Serving's messages.

TensorFlow registers ``tensorflow.TensorProto`` and friends in protobuf's default pool; ours
(same names, subset of fields) live here so both can be loaded in one process. The well-known
types our files import (wrappers, any) are added first.
"""
from google.protobuf import any_pb2, descriptor_pool, wrappers_pb2

POOL = descriptor_pool.DescriptorPool()
for _module in (wrappers_pb2, any_pb2):
    POOL.AddSerializedFile(_module.DESCRIPTOR.serialized_pb)
