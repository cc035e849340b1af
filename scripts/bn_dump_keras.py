"""Dump the batch-normalization layers of a Keras 3 model for bncheck.

Copy this file next to your training code (it depends only on keras and numpy) and call
``dump_bn`` on the trained model with a few batches of calibration data::

    import keras
    from bn_dump_keras import dump_bn

    model = keras.models.load_model("model.keras")
    batches = [x for x, _ in val_dataset.take(4)]   # 4 calibration batches (tf.data)
    dump_bn(model, batches, "model.bn.json", model_name="resnet50")

and then run ``bncheck check model.bn.json``.

Works for functional and Sequential models, including functional or Sequential models
nested inside them; BatchNormalization layers are found recursively. For each one the
dump holds its parameters and moving statistics plus the activation that reached the
layer for each calibration batch. The model runs with training=False, as at inference,
so the layers upstream of each BN layer normalize with their moving statistics and each
layer sees the inputs it sees in deployment; a random sample of the calibration samples also
runs with the BN layers in training mode (the training view, bncheck's reference for the
moving statistics). A layer called with a mask (behind Masking or Embedding(mask_zero=True))
gets only the positions its mask keeps, one row each, as Keras's moments count them. Subclassed models (no symbolic graph)
are not supported. The dump format is described in docs/dump-format.md of the bncheck project.
"""

import base64
import json
import os
import sys
import tempfile

import keras
import numpy as np


def _tensor(value):
    """Encode a tensor or variable as a bncheck TENSOR: float32, little-endian, base64."""
    array = np.ascontiguousarray(keras.ops.convert_to_numpy(value), dtype="<f4")
    return {
        "dtype": "float32",
        "shape": list(array.shape),
        "base64": base64.b64encode(array.tobytes()).decode("ascii"),
    }


def _write_atomically(document, path):
    """Write JSON so that readers see either the old file or the complete new one."""
    directory = os.path.dirname(os.path.abspath(path))
    fd, tmp_path = tempfile.mkstemp(
        dir=directory, prefix="." + os.path.basename(path) + ".", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            json.dump(document, out)
            out.flush()
            os.fsync(out.fileno())
        # mkstemp creates the file for its owner alone; a dump gets the mode any new file gets
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp_path, 0o666 & ~umask)
        os.replace(tmp_path, path)
    except BaseException:
        os.unlink(tmp_path)
        raise


def _model_input(batch):
    """Keras convention: a tuple/list batch is (inputs, targets[, weights]); feed the inputs."""
    return batch[0] if isinstance(batch, (tuple, list)) else batch


def _warn(message):
    print(f"bn_dump_keras: warning: {message}", file=sys.stderr)


def _as_list(outputs):
    """A model built with a one-element output list may still return a bare tensor."""
    return list(outputs) if isinstance(outputs, (list, tuple)) else [outputs]


def _graph_input(model):
    """The input structure of ``model``'s own graph, shaped as the model is called with.

    ``inputs`` is always a flat list, which Keras warns about when a model built on it is
    called with a single tensor or a dict. A functional model's ``input`` keeps the
    structure; a Sequential model's ``input`` is instead the tensor it was last called on
    in an enclosing graph, and a Sequential model has exactly one input.
    """
    if isinstance(model, keras.Sequential):
        return model.inputs[0]
    return model.input


def _bn_inputs(model, prefix=""):
    """List (qualified name, BN layer, symbolic input) for the BN layers under ``model``.

    The symbolic inputs are tensors of ``model``'s own graph. A nested model has its own
    graph, whose tensors cannot be outputs of a model built on the outer inputs; so its
    BN inputs are gathered into a probe model of their own, and that probe is called on
    the tensor the nested model receives in the outer graph.
    """
    found = []
    for layer in model.layers:
        if isinstance(layer, keras.layers.BatchNormalization):
            # Layer.input flattens the call's arguments: a masked call's is [inputs, mask]
            call = _call_node(model, layer, prefix).arguments
            found.append((prefix + layer.name, layer, (call.args[0], call.kwargs.get("mask"))))
        elif isinstance(layer, keras.Model):
            nested = _bn_inputs(layer, prefix + layer.name + "/")
            if not nested:
                continue
            # Layer.input is the outer tensor for a Sequential but the inner graph's input
            # for a functional model, so read the outer tensor from the call node instead.
            call = _call_node(model, layer, prefix).arguments
            probe = keras.Model(_graph_input(layer), _flat(nested))
            outer = iter(_as_list(probe(call.args[0])))
            # a nested model's own graph was built without the mask it is called with, which
            # reaches its BN layers through the layers that pass masks on (Dense, activations)
            outer_mask = call.kwargs.get("mask")
            found.extend((name, bn, (next(outer), next(outer) if mask is not None else outer_mask))
                         for name, bn, (_, mask) in nested)
    return found


def _flat(bns):
    """The probe's outputs: each BN layer's input, followed by its mask where it has one."""
    return [tensor for _, _, pair in bns for tensor in pair if tensor is not None]


def _activations(bns, outputs):
    """Pair the probe's flat outputs back up as (activation, mask or None) per BN layer."""
    outputs = iter(_as_list(outputs))
    return [(next(outputs), next(outputs) if mask is not None else None) for _, _, (_, mask) in bns]


def _unmasked(activation, mask):
    """What a masked BN layer averages: the positions its mask keeps, one row each.

    Keras's BatchNormalization leaves the positions a mask drops (padding) out of its batch
    moments and so out of its moving statistics; a dump of every position would compare those
    statistics with moments the padding shifted. The kept positions are written as a matrix
    [positions, channels], which bncheck reads with each row counting as a sample.
    """
    array = keras.ops.convert_to_numpy(activation)
    if mask is None:
        return array
    return array[keras.ops.convert_to_numpy(mask).astype(bool)]


def _masks_that_fit(bns):
    """Split the BN layers into those whose data can be dumped, and the names of the others.

    Keras's masked moments weigh each position by the mask expanded along the last axis. With the
    channels last, the kept positions are rows of all channels; with the channels on another axis,
    each channel keeps another number of values, which no tensor of whole channels holds: such a
    layer is dumped without data, rather than with the padding its statistics never saw.
    """
    kept, without_data = [], set()
    for name, bn, (activation, mask) in bns:
        rank = len(activation.shape)
        if mask is not None and len(mask.shape) != rank - 1:
            mask = None  # a mask not of the positions before the channels is not the one BN applies
        if mask is not None and _axis(bn) % rank != rank - 1:
            _warn(f"{name} normalizes axis {_axis(bn)} of a masked input: each channel keeps another number"
                  f" of positions, which a dump cannot hold; its parameters are dumped without data")
            without_data.add(name)
        kept.append((name, bn, (activation, mask)))
    return kept, without_data


def _call_node(model, layer, prefix):
    """The node by which ``model``'s own graph calls ``layer``.

    A layer keeps a node for every graph that calls it: a base model first used in another
    model, or a model loaded from a file (whose loading calls it again), has several, and only
    the one in ``model``'s graph carries a tensor of that graph.
    """
    nodes = layer._inbound_nodes
    graph = getattr(model, "_functional", None) or model
    keys = getattr(graph, "_nodes", None)
    own = nodes
    if keys is not None:
        try:
            from keras.src.ops.function import make_node_key  # Keras 3
        except ImportError:
            def make_node_key(operation, index):  # tf.keras 2 names a node by its layer's name
                return operation.name + "_ib-" + str(index)
        own = [node for index, node in enumerate(nodes) if make_node_key(layer, index) in keys] or nodes
    if len(own) > 1:
        _warn(f"{prefix}{layer.name} is called {len(own)} times in {model.name}; "
              f"the inputs of its first call are dumped")
    return own[0]


def _axis(bn):
    axis = bn.axis
    if isinstance(axis, (list, tuple)):  # Keras 3 stores an int; tf.keras 2 stored a list
        (axis,) = axis
    return int(axis)


def _layer_entry(name, bn, inputs, training_inputs, masked):
    entry = {
        "name": name,
        # the kept positions of a masked layer are rows of a matrix, channels last
        "channel_axis": -1 if masked else _axis(bn),
        "epsilon": float(bn.epsilon),
        "momentum": float(bn.momentum),
        "momentum_convention": "keras",
    }
    if bn.scale:
        entry["gamma"] = _tensor(bn.gamma)
    if bn.center:
        entry["beta"] = _tensor(bn.beta)
    entry["moving_mean"] = _tensor(bn.moving_mean)
    entry["moving_variance"] = _tensor(bn.moving_variance)
    if inputs:
        entry["inputs"] = inputs
    if training_inputs:
        entry["training_inputs"] = training_inputs
    return entry


def _training_view(probe, bns, batches):
    """What reaches each BN layer with every BN layer normalizing with its batch's statistics.

    Only the BN layers run in training mode (dropout and the like stay as at inference: the
    probe runs with training=False and each BN layer's call is made to train), and their moving
    statistics are put back afterwards, so the model is left as it was. A batch of one sample
    is left out: training mode cannot normalize it.
    """
    batches = [batch for batch in batches if _samples(batch) > 1]
    if not batches:
        return [[] for _ in bns]
    layers = {id(bn): bn for _, bn, _ in bns}.values()
    saved = [(bn, [keras.ops.convert_to_numpy(v) for v in (bn.moving_mean, bn.moving_variance)])
             for bn in layers]
    for bn in layers:
        bn.call = _training_call(bn)
    captured = [[] for _ in bns]
    try:
        for batch in batches:
            _record(captured, _activations(bns, probe(batch, training=False)), least=2)
    finally:
        for bn, (mean, variance) in saved:
            del bn.call
            bn.moving_mean.assign(mean)
            bn.moving_variance.assign(variance)
    return captured


def _record(recorded, activations, least=1):
    """Append each layer's activation of one batch, if it keeps ``least`` positions (rows) or more.

    A masked batch may keep few: none adds nothing, and training mode cannot normalize one row.
    """
    for batches, (activation, mask) in zip(recorded, activations):
        array = _unmasked(activation, mask)
        if array.size and (mask is None or len(array) >= least):
            batches.append(_tensor(array))


def _samples(batch):
    """The samples of a batch: a model with several inputs takes a dict, list or tuple of arrays."""
    while isinstance(batch, (dict, list, tuple)):
        batch = next(iter(batch.values())) if isinstance(batch, dict) else batch[0]
    return batch.shape[0]


def _nested(fn, *batches):
    """``fn`` applied to the arrays of batches of one structure (a model with several inputs takes
    a dict, list or tuple of them), keeping the structure."""
    first = batches[0]
    if isinstance(first, dict):
        return {key: _nested(fn, *(b[key] for b in batches)) for key in first}
    if isinstance(first, (list, tuple)):
        return type(first)(_nested(fn, *parts) for parts in zip(*batches))
    return fn(*batches)


def _training_view_batches(batches, size):
    """The batches the training view runs on: ``size`` samples drawn at random (a fixed seed) from
    all the calibration samples, in shuffled batches of the largest batch's size (so no more
    batches than the calibration has). The first batches alone are no sample of the whole when
    the data is sorted by class, and batches of one or two classes normalize the layers after
    them unlike training's mixed batches did (healthy models got BN003 errors on such dumps)."""
    if size <= 0 or not batches:
        return []
    counts = [_samples(batch) for batch in batches]
    rows = [(b, r) for b, count in enumerate(counts) for r in range(count)]
    chosen = [rows[i] for i in np.random.default_rng(0).permutation(len(rows))[:size]]
    arrays = [_nested(lambda a: np.asarray(keras.ops.convert_to_numpy(a)), batch) for batch in batches]
    out = []
    batch_size = max(counts)
    for start in range(0, len(chosen), batch_size):
        part = chosen[start:start + batch_size]
        out.append(_nested(lambda *columns: np.stack(columns),
                           *[_nested(lambda a, r=r: a[r], arrays[b]) for b, r in part]))
    return out


def _training_call(bn):
    cls_call = type(bn).call

    def call(inputs, training=None, mask=None):
        return cls_call(bn, inputs, training=True, mask=mask)
    return call


def dump_bn(model, batches, path, model_name=None, training_view_samples=256):
    """Write a bncheck dump of every BatchNormalization layer of ``model`` to ``path``.

    ``batches`` is an iterable of calibration batches: each is what the model takes as
    input, or a tuple/list such as tf.data's (inputs, targets) whose first element is it.

    ``training_view_samples`` samples drawn at random (a fixed seed) from all the batches, in
    shuffled batches of the largest batch's size, are also run with every BN layer in training
    mode (normalizing with the batch's own statistics, as
    while the moving statistics were averaged; the moving statistics are restored
    afterwards): bncheck judges a layer's statistics on what reached it that way, so that a
    layer upstream whose inference differs from its training does not make its successors
    look stale. 0 leaves the training view out.
    """
    batches = [_model_input(batch) for batch in batches]
    if not model.built:
        # An unbuilt Sequential model has no graph yet; build it for the batch shape with a
        # free batch dimension, so that the probe model accepts any batch size.
        if not batches:
            raise ValueError("model is not built and there are no batches to build it with")
        model.build((None,) + tuple(batches[0].shape[1:]))

    bns, without_data = _masks_that_fit(_bn_inputs(model))
    outputs = [[] for _ in bns]
    training_outputs = [[] for _ in bns]
    if bns and batches:
        probe = keras.Model(_graph_input(model), _flat(bns))
        for batch in batches:
            _record(outputs, _activations(bns, probe(batch, training=False)))
        training_outputs = _training_view(probe, bns, _training_view_batches(batches, training_view_samples))

    document = {
        "format": "bncheck-dump",
        "version": 1,
        "source": {
            "framework": "keras",
            "framework_version": f"{keras.__version__} ({keras.backend.backend()} backend)",
            "model": model_name or model.name,
        },
        "layers": [_layer_entry(name, bn, [] if name in without_data else inputs,
                                [] if name in without_data else training_inputs,
                                mask is not None and name not in without_data)
                   for (name, bn, (_, mask)), inputs, training_inputs in zip(bns, outputs, training_outputs)],
    }
    _write_atomically(document, path)
