"""``assets.extra/tf_serving_warmup_requests``: PredictionLog records that TF Serving
replays when it loads a version, so the first real request is not slow."""

import tensorflow as tf

WARMUP_FILE = "tf_serving_warmup_requests"


def write_warmup_requests(export_dir, model_name, requests):
    """Writes one PredictRequest per signature.

    Args:
        export_dir: the version folder (`pathlib.Path`).
        model_name: the model's name in TF Serving.
        requests: {signature name: {input name: list}}.

    Returns:
        The file's `Path`.
    """
    from tensorflow_serving.apis import model_pb2, predict_pb2, prediction_log_pb2

    folder = export_dir / "assets.extra"
    folder.mkdir(exist_ok=True)
    path = folder / WARMUP_FILE
    with tf.io.TFRecordWriter(str(path)) as writer:
        for signature, inputs in requests.items():
            request = predict_pb2.PredictRequest(
                model_spec=model_pb2.ModelSpec(name=model_name, signature_name=signature))
            for name, values in inputs.items():
                request.inputs[name].CopyFrom(tf.make_tensor_proto(values))
            log = prediction_log_pb2.PredictionLog(
                predict_log=prediction_log_pb2.PredictLog(request=request))
            writer.write(log.SerializeToString())
    return path
