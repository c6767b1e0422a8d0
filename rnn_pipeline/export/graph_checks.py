"""What a model server will find in a SavedModel: its signatures and its ops."""

from tensorflow.core.protobuf import saved_model_pb2


def read_saved_model(export_dir):
    """The `SavedModel` proto of an export folder."""
    proto = saved_model_pb2.SavedModel()
    proto.ParseFromString((export_dir / "saved_model.pb").read_bytes())
    return proto


def op_names(proto):
    """Every op type in the graph and in its function library."""
    names = set()
    for meta_graph in proto.meta_graphs:
        names.update(node.op for node in meta_graph.graph_def.node)
        for function in meta_graph.graph_def.library.function:
            names.update(node.op for node in function.node_def)
    return names


def gpu_only_ops(proto):
    """Ops that exist only with CUDA (cuDNN kernels); a CPU server cannot run them."""
    return sorted(name for name in op_names(proto) if "cudnn" in name.lower())
