"""Generate the gRPC client code for TF Serving's protos with grpcio-tools (run by CMake at build).

Usage: python serving/gen_protos.py PROTO_DIR OUT_DIR
The .proto files keep TF Serving's file names, packages and field numbers (wire facts). The
generated modules are rewritten so they (1) import each other as ``artrestore._proto.*``, never
the real ``tensorflow`` package (importing which costs seconds), and (2) register their
descriptors in artrestore's private pool, so they coexist with TensorFlow's own copies of the
same message names in one process (the stand-in server runs both).
"""
import pathlib
import re
import sys

from grpc_tools import protoc


def main(proto_dir: str, out_dir: str) -> None:
    proto_dir, out = pathlib.Path(proto_dir).resolve(), pathlib.Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    protos = sorted(str(p.relative_to(proto_dir)) for p in proto_dir.rglob("*.proto"))
    include = pathlib.Path(protoc.__file__).parent / "_proto"
    code = protoc.main(["grpc_tools.protoc", f"-I{proto_dir}", f"-I{include}", f"--python_out={out}",
                        f"--grpc_python_out={out}", *protos])
    if code != 0:
        raise SystemExit(f"protoc failed with exit code {code}")
    for path in out.rglob("*.py"):
        text = path.read_text()
        text = re.sub(r"^from (tensorflow(?:_serving)?[\w.]*) import", r"from artrestore._proto.\1 import", text,
                      flags=re.MULTILINE)
        text = text.replace("_descriptor_pool.Default()", "_artrestore_pool.POOL")
        if "_artrestore_pool.POOL" in text:
            text = text.replace("from google.protobuf import descriptor_pool as _descriptor_pool",
                                "from google.protobuf import descriptor_pool as _descriptor_pool\n"
                                "from artrestore._protopool import POOL as _artrestore_pool_POOL\n"
                                "class _artrestore_pool:\n    POOL = _artrestore_pool_POOL", 1)
        path.write_text(text)
    for folder in [out, *[p for p in out.rglob("*") if p.is_dir()]]:
        (folder / "__init__.py").touch()


if __name__ == "__main__":
    main(*sys.argv[1:3])
