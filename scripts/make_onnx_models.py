"""Make the ONNX test models: a small PyTorch CNN exported to ONNX healthy and with the classic BN
mistakes, with reference values computed by PyTorch. From the repository root, in a virtual
environment with torch, onnx, onnxscript and numpy (docs/onnx.md):

    python scripts/make_onnx_models.py [--only mistakes|hand-bn-exports|malformed|half|batch-mixing|batch-fixed|int-input|
                                        bn-input-as-output]

Writes, with fixed seeds, to src/test/resources/onnx/:
  calibration.npy         64 samples, float32 [64, 3, 8, 8], from the training distribution
  cnn-eval.onnx           trained, exported in eval() with the TorchScript exporter, constant
                          folding off so that BatchNormalization stays a node (healthy)
  cnn-eval-dynamo.onnx    the same model through the dynamo exporter (torch.export), its graph
                          optimizer off for the same reason (healthy)
  cnn-eval-folded.onnx    the same model exported with the defaults: the exporter folds each BN
                          into the Conv before it, so the file holds no BN node at all
  cnn-train.onnx          the same model exported with training=TrainingMode.TRAINING: every
                          BatchNormalization has training_mode=1 (BN002; BN005 on data)
  cnn-untrained.onnx      the same architecture never trained: running statistics 0 and 1 (BN001)
  cnn-external.onnx       the healthy model with every initializer in cnn-external.onnx.data
  hand-bn-eval.onnx       the trained model with each BatchNorm2d written out by hand in forward()
                          from registered buffers, exported with constant folding off: BN as
                          Sub, Div, Sqrt, Add, Mul, Add operators (healthy)
  hand-bn-untrained.onnx  the same for the untrained model (BN001)
  hand-bn-eval-opset11.onnx  hand-bn-eval at opset 11: Unsqueeze's axes are an attribute
  hand-bn-eval-folded.onnx   hand-bn-eval with the exporter's default constant folding: Sub, Div by
                          per-channel constants (listed as not analysed)
  hand-bn-batch-stats-opset13.onnx, -opset18.onnx
                          the model with BN written out in training mode (ReduceMean over the
                          batch axis), ReduceMean's axes an attribute and an input (BN002)
  decomposed/*.onnx       NHWC graphs written with onnx.helper in the forms tf2onnx and keras2onnx
                          write BN in: unfolded (Sub, Mul by Reciprocal(Sqrt(Add(var, eps))), Mul,
                          Add) with a stale mean, folded into a per-channel Mul and Add, two
                          layers sharing one Sqrt, and hostile variants; with decomposed/calibration.npy and
                          decomposed/references.json (NumPy and ONNX Runtime values)
  hostile/custom-domain.onnx     a BN model whose last node is an operator of domain com.example
  hostile/external-parent.onnx   a BN whose running mean is external data at ../outside.bin
  hostile/external-absolute.onnx a BN whose running mean is external data at /etc/hostname
  converted/<case>.onnx   the onnx-pytorch-bn fixtures (ONNX backend tests, opset 6, which ONNX
                          Runtime no longer runs) converted to opset 15 by onnx.version_converter,
  converted/<case>.npy    with their input_0.pb as .npy, for running them in ONNX Runtime
  graphs/*.onnx           one-node graphs written with onnx.helper for what PyTorch 2 does not
                          export: parameters in Constant nodes and a node with five outputs
                          (opset 9: training mode), spatial=0 (opset 7), two nodes sharing one set
                          of statistics, and a BN inside an If branch (see graphs() below)
  graphs/batch-mixing.*   a convolution whose output gets a share of its sum over the batch before
                          a BN (an operator across samples: what reaches the BN depends on the
                          samples run with it), trained, with 24 samples of calibration data; and
                          batch-rows-added.onnx, two constant rows added to the batch before a BN
                          and sliced off after it, beside a BN of the samples themselves;
                          --only batch-mixing writes these alone (see
                          batch_mixing() below)
  graphs/batch-fixed.onnx a BN after a Relu in a graph whose batch dimension is fixed at 8;
                          --only batch-fixed writes it alone
  graphs/int-input.onnx   a BN of a float input x [N, 3] to which an int32 input ids [N] adds
                          ids * 0 (an id or index input, fed exactly whatever its size); and
                          gather-ids.onnx, the rows of a 4-row table the int64 ids pick added to
                          x (an id beyond the table fails in ONNX Runtime's run);
                          --only int-input writes these alone
  graphs/bn-input-as-output.onnx  a BN after a Relu whose output is also a graph output (a
                          forward that returns it); --only bn-input-as-output writes it alone
  mistakes/               the ResNet-18-shaped model (20 BN layers) exported healthy with both
                          exporters, in training mode, with its running statistics reset, and
                          trained with momentum 0.001; calibration and labelled held-out data; the
                          accuracies ONNX Runtime gives on the held-out data at batch sizes 64 and
                          1; PyTorch's references for the healthy export (see mistakes() below).
                          --only mistakes writes these alone
  half/                   the CNN in half precision (model.half(), as models are exported for
                          deployment): trained (healthy) and never trained (BN001), TorchScript
                          exporter, constant folding off; half/references.json holds what PyTorch's
                          half model feeds each BN layer on calibration.npy (per channel mean and
                          variance, divisor n, computed in float64 from the half activations).
                          --only half writes these alone
  references.json         what PyTorch computes on calibration.npy: per model and BN layer the
                          running statistics, and the mean and variance (divisor n) per channel of
                          what reaches the layer, in the model as exported (eval: over all 64
                          samples; train: per batch of 32 in file order) and in training mode (the
                          training view, batches of 32 in file order); per model the largest
                          difference of the logits between the first 8 samples run alone and in
                          the first batch of 32
"""

import copy
import json
import os
import sys

import numpy as np
import onnx
import onnxruntime
import torch
from onnx import TensorProto, helper, numpy_helper, version_converter

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "src", "test", "resources", "onnx")
FIXTURES = os.path.join(OUT, "..", "fixtures", "onnx-pytorch-bn")
SAMPLES = 64
BATCH = 32
SINGLES = 8


class Cnn(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = torch.nn.Conv2d(3, 8, 3, padding=1)
        self.bn1 = torch.nn.BatchNorm2d(8)
        self.conv2 = torch.nn.Conv2d(8, 16, 3, padding=1)
        self.bn2 = torch.nn.BatchNorm2d(16)
        self.fc = torch.nn.Linear(16, 4)

    def forward(self, x):
        x = torch.relu(self.bn1(self.conv1(x)))
        x = torch.relu(self.bn2(self.conv2(x)))
        return self.fc(x.mean((2, 3)))


class BasicBlock(torch.nn.Module):
    """ResNet's two-convolution block, with a 1x1 convolution and BN on the shortcut when the shape changes."""

    def __init__(self, cin, cout, stride):
        super().__init__()
        self.conv1 = torch.nn.Conv2d(cin, cout, 3, stride, 1, bias=False)
        self.bn1 = torch.nn.BatchNorm2d(cout)
        self.conv2 = torch.nn.Conv2d(cout, cout, 3, 1, 1, bias=False)
        self.bn2 = torch.nn.BatchNorm2d(cout)
        self.downsample = None
        if stride != 1 or cin != cout:
            self.downsample = torch.nn.Sequential(torch.nn.Conv2d(cin, cout, 1, stride, bias=False),
                                                  torch.nn.BatchNorm2d(cout))

    def forward(self, x):
        shortcut = x if self.downsample is None else self.downsample(x)
        y = torch.relu(self.bn1(self.conv1(x)))
        return torch.relu(self.bn2(self.conv2(y)) + shortcut)


class ResNet18Shaped(torch.nn.Module):
    """ResNet-18's topology (a stem, four stages of two blocks, 20 BN layers, three on shortcuts) at
    widths 8 to 32, so that each export stays near 300 KB."""

    def __init__(self):
        super().__init__()
        self.conv1 = torch.nn.Conv2d(3, 8, 3, 1, 1, bias=False)
        self.bn1 = torch.nn.BatchNorm2d(8)
        widths = (8, 16, 24, 32)
        cin = 8
        for stage, width in enumerate(widths, 1):
            stride = 1 if stage == 1 else 2
            setattr(self, f"layer{stage}", torch.nn.Sequential(BasicBlock(cin, width, stride),
                                                               BasicBlock(width, width, 1)))
            cin = width
        self.fc = torch.nn.Linear(cin, 4)

    def forward(self, x):
        x = torch.relu(self.bn1(self.conv1(x)))
        x = self.layer4(self.layer3(self.layer2(self.layer1(x))))
        return self.fc(x.mean((2, 3)))


class HandBn(torch.nn.Module):
    """BatchNorm2d in inference mode written out by hand, as custom layers do."""

    def __init__(self, bn):
        super().__init__()
        self.weight = torch.nn.Parameter(bn.weight.detach().clone())
        self.bias = torch.nn.Parameter(bn.bias.detach().clone())
        self.register_buffer("running_mean", bn.running_mean.clone())
        self.register_buffer("running_var", bn.running_var.clone())
        self.eps = bn.eps

    def forward(self, x):
        return ((x - self.running_mean[:, None, None]) / torch.sqrt(self.running_var[:, None, None] + self.eps)
                * self.weight[:, None, None] + self.bias[:, None, None])


class BatchStatsBn(torch.nn.Module):
    """BatchNorm2d in training mode written out by hand: every batch normalized with its own statistics."""

    def __init__(self, bn):
        super().__init__()
        self.weight = torch.nn.Parameter(bn.weight.detach().clone())
        self.bias = torch.nn.Parameter(bn.bias.detach().clone())
        self.eps = bn.eps

    def forward(self, x):
        mean = x.mean((0, 2, 3), keepdim=True)
        variance = ((x - mean) ** 2).mean((0, 2, 3), keepdim=True)
        return (x - mean) / torch.sqrt(variance + self.eps) * self.weight[:, None, None] + self.bias[:, None, None]


def hand_written(model):
    """The model with its BatchNorm2d modules replaced by HandBn, under the same names."""
    model = copy.deepcopy(model)
    model.bn1 = HandBn(model.bn1)
    model.bn2 = HandBn(model.bn2)
    return model.eval()


def data(generator, n):
    """Images whose class sets the mean of one colour channel; mean about 1, spread about 2."""
    labels = torch.randint(0, 4, (n,), generator=generator)
    x = torch.randn(n, 3, 8, 8, generator=generator) * 2 + 1
    for c in range(3):
        x[:, c] += (labels == c).float()[:, None, None] * 1.5
    return x, labels


def train(model, generator):
    optimizer = torch.optim.SGD(model.parameters(), lr=0.05, momentum=0.9)
    model.train()
    for _ in range(300):
        x, y = data(generator, BATCH)
        optimizer.zero_grad()
        torch.nn.functional.cross_entropy(model(x), y).backward()
        optimizer.step()
    model.eval()


def export(model, path, **options):
    # exporting in training mode runs the model once in train(), which updates its running statistics
    model = copy.deepcopy(model)
    example = torch.zeros(2, 3, 8, 8, dtype=next(model.parameters()).dtype)
    if options.pop("dynamo", False):
        program = torch.onnx.export(model, (example,), dynamo=True, input_names=["x"], output_names=["logits"],
                                    dynamic_shapes={"x": {0: torch.export.Dim("batch")}}, **options)
        proto = program.model_proto
        # the dynamo exporter records the stack trace of every node, with this machine's paths
        for node in proto.graph.node:
            del node.metadata_props[:]
        del proto.metadata_props[:]
        onnx.save(proto, path)
    else:
        torch.onnx.export(model, (example,), path, dynamo=False, input_names=["x"], output_names=["logits"],
                          dynamic_axes={"x": {0: "batch"}, "logits": {0: "batch"}}, **options)


def bn_names(model):
    return [name for name, module in model.named_modules() if isinstance(module, torch.nn.BatchNorm2d)]


def bn_inputs(model, x, training):
    """What reaches each BN layer, per layer, with the model in eval() or train() mode, batch by batch."""
    model = copy.deepcopy(model)
    model.train(training)
    seen = {name: [] for name in bn_names(model)}
    hooks = [model.get_submodule(name).register_forward_pre_hook(
        lambda module, args, name=name: seen[name].append(args[0].detach().double()))
        for name in seen]
    with torch.no_grad():
        for start in range(0, len(x), BATCH):
            model(x[start:start + BATCH])
    for h in hooks:
        h.remove()
    out = {}
    for name, batches in seen.items():
        values = torch.cat(batches).transpose(0, 1).reshape(batches[0].shape[1], -1)
        out[name] = {"mean": values.mean(1).tolist(), "variance": values.var(1, unbiased=False).tolist()}
    return out


def batch_dependence(model, x, training):
    model = copy.deepcopy(model)
    model.train(training)
    with torch.no_grad():
        batched = model(x[:BATCH])
        alone = torch.cat([model(x[i:i + 1]) for i in range(SINGLES)])
    return float((batched[:SINGLES] - alone).abs().max())


def references(model, x, training):
    state = model.state_dict()
    layers = {}
    exported = bn_inputs(model, x, training)
    training_view = bn_inputs(model, x, True)
    for name in bn_names(model):
        layers[name] = {
            "running_mean": state[name + ".running_mean"].tolist(),
            "running_var": state[name + ".running_var"].tolist(),
            "epsilon": model.get_submodule(name).eps,
            "momentum": model.get_submodule(name).momentum,
            "as_exported": exported[name],
            "training_view": training_view[name],
        }
    return {"layers": layers, "batch_dependence": batch_dependence(model, x, training)}


def bn_model(mean_tensor, extra_nodes=(), opsets=(("", 15),)):
    """One BatchNormalization of 2 channels on float32 [N, 2, 4], then whatever extra_nodes add."""
    ones = helper.make_tensor("scale", TensorProto.FLOAT, [2], [1.0, 1.0])
    zeros = helper.make_tensor("bias", TensorProto.FLOAT, [2], [0.0, 0.0])
    var = helper.make_tensor("var", TensorProto.FLOAT, [2], [1.0, 1.0])
    bn = helper.make_node("BatchNormalization", ["x", "scale", "bias", "mean", "var"], ["y"], name="bn")
    last = extra_nodes[-1].output[0] if extra_nodes else "y"
    graph = helper.make_graph(
        [bn, *extra_nodes], "hostile",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["batch", 2, 4])],
        [helper.make_tensor_value_info(last, TensorProto.FLOAT, ["batch", 2, 4])],
        [ones, zeros, mean_tensor, var])
    return helper.make_model(graph, opset_imports=[helper.make_opsetid(d, v) for d, v in opsets],
                             producer_name="bncheck-test")


def external_mean(location):
    t = helper.make_tensor("mean", TensorProto.FLOAT, [2], [0.0, 0.0])
    t.ClearField("float_data")
    t.data_location = TensorProto.EXTERNAL
    for key, value in (("location", location), ("offset", "0"), ("length", "8")):
        entry = t.external_data.add()
        entry.key = key
        entry.value = value
    return t


def hostile():
    folder = os.path.join(OUT, "hostile")
    os.makedirs(folder, exist_ok=True)
    mean = helper.make_tensor("mean", TensorProto.FLOAT, [2], [0.5, -0.5])
    custom = helper.make_node("Backdoor", ["y"], ["z"], name="payload", domain="com.example")
    onnx.save(bn_model(mean, [custom], (("", 15), ("com.example", 1))), os.path.join(folder, "custom-domain.onnx"))
    onnx.save(bn_model(external_mean("../outside.bin")), os.path.join(folder, "external-parent.onnx"))
    onnx.save(bn_model(external_mean("/etc/hostname")), os.path.join(folder, "external-absolute.onnx"))
    malformed()


def malformed():
    """What outside testers found bncheck mishandled: a BN of 0 channels (an internal error), an
    epsilon of the wrong type or given twice (read as the default, or the last one), opsets around
    the newest the bundled ONNX Runtime runs (22; 23 got the runtime's C++ message), a PyTorch
    momentum of NaN or infinity (an internal error) and an IR version beyond the runtime's."""
    folder = os.path.join(OUT, "hostile")
    empty = [helper.make_tensor(n, TensorProto.FLOAT, [0], []) for n in ("s", "b", "m", "v")]
    graph = helper.make_graph([helper.make_node("BatchNormalization", ["x", "s", "b", "m", "v"], ["y"], name="bn0")],
                              "zero", [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["N", 0, 3])],
                              [helper.make_tensor_value_info("y", TensorProto.FLOAT, None)], empty)
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 15)]),
              os.path.join(folder, "zero-channels.onnx"))
    mean = helper.make_tensor("mean", TensorProto.FLOAT, [2], [0.5, -0.5])
    model = bn_model(mean)
    model.graph.node[0].attribute.append(helper.make_attribute("epsilon", 1))
    onnx.save(model, os.path.join(folder, "epsilon-int.onnx"))
    model = bn_model(mean)
    model.graph.node[0].attribute.extend([helper.make_attribute("epsilon", 1e-5), helper.make_attribute("epsilon", -3.0)])
    onnx.save(model, os.path.join(folder, "epsilon-twice.onnx"))
    # a momentum of NaN or infinity from PyTorch's exporter (converted as 1 - m) was an internal error
    for name, value in (("nan", float("nan")), ("inf", float("inf"))):
        model = bn_model(mean)
        model.producer_name = "pytorch"
        model.graph.node[0].attribute.append(helper.make_attribute("momentum", value))
        onnx.save(model, os.path.join(folder, f"momentum-{name}-pytorch.onnx"))
    # external data whose numbers overflowed in the messages: a tensor of 4e9 values (its size
    # printed as -4 bytes) and an offset of 2^62 without a length (a negative length printed)
    with open(os.path.join(folder, "side.bin"), "wb") as side:
        side.write(bytes(8))
    for name, dims, entries in (("external-huge-dims", [4_000_000_000], (("offset", "0"), ("length", "0"))),
                                ("external-offset-beyond", [2], (("offset", str(2 ** 62)),))):
        t = helper.make_tensor("mean", TensorProto.FLOAT, [2], [0.0, 0.0])
        t.ClearField("float_data")
        del t.dims[:]
        t.dims.extend(dims)
        t.data_location = TensorProto.EXTERNAL
        for key, value in (("location", "side.bin"),) + entries:
            entry = t.external_data.add()
            entry.key = key
            entry.value = value
        onnx.save(bn_model(t), os.path.join(folder, name + ".onnx"))
    # an IR version newer than the bundled ONNX Runtime reads (10) got its C++ message
    model = bn_model(mean)
    model.ir_version = 14
    onnx.save(model, os.path.join(folder, "ir-version-14.onnx"))
    # PyTorch exports momentum=None (a cumulative average) as 1.0, as it does momentum=0
    torch.manual_seed(4)
    cumulative = torch.nn.Sequential(torch.nn.Conv2d(3, 4, 3, padding=1), torch.nn.BatchNorm2d(4, momentum=None))
    cumulative.train()
    with torch.no_grad():
        cumulative(torch.randn(16, 3, 8, 8))
    export(cumulative.eval(), os.path.join(OUT, "graphs", "momentum-none.onnx"), do_constant_folding=False)
    for opset in (22, 23):
        model = bn_model(mean, opsets=(("", opset),))
        # the IR version torch.onnx writes for these opsets; onnx.helper would write its newest
        model.ir_version = 10
        onnx.save(model, os.path.join(OUT, "graphs", f"opset-{opset}.onnx"))


def decomposed():
    """NHWC graphs [N, 4, 4, 3] with BN as tf2onnx writes it; returns their reference values."""
    folder = os.path.join(OUT, "decomposed")
    os.makedirs(folder, exist_ok=True)
    rng = np.random.default_rng(5)
    x = (rng.standard_normal((32, 4, 4, 3)) * np.array([2.0, 0.5, 1.0]) + np.array([1.0, -2.0, 0.5])).astype(np.float32)
    np.save(os.path.join(folder, "calibration.npy"), x)
    data_mean = x.astype(np.float64).mean((0, 1, 2))
    data_var = x.astype(np.float64).var((0, 1, 2))
    # channel 2's mean is stale by 1.5 of its data's standard deviations: BN003
    mean = np.float32(data_mean + np.array([0.0, 0.0, 1.5]) * np.sqrt(data_var))
    var = np.float32(data_var)
    gamma = np.array([1.0, 0.5, 2.0], np.float32)
    beta = np.array([0.0, 0.25, -1.0], np.float32)
    eps = np.float32(1e-3)

    def save(name, nodes, initializers):
        graph = helper.make_graph(nodes, name, [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["batch", 4, 4, 3])],
                                  [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["batch", 4, 4, 3])],
                                  [numpy_helper.from_array(np.asarray(v, np.float32), k) for k, v in initializers])
        model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 15)], producer_name="tf2onnx-style")
        model.ir_version = 8
        onnx.checker.check_model(model)
        path = os.path.join(folder, name + ".onnx")
        onnx.save(model, path)
        return path

    def unfolded(epsilon, variance):
        return [helper.make_node("Sub", ["x", "bn/moving_mean"], ["bn/centered"], name="bn/batchnorm/sub"),
                helper.make_node("Add", ["bn/moving_variance", "bn/epsilon"], ["bn/shifted"], name="bn/batchnorm/add"),
                helper.make_node("Sqrt", ["bn/shifted"], ["bn/deviation"], name="bn/batchnorm/Sqrt"),
                helper.make_node("Reciprocal", ["bn/deviation"], ["bn/inverse"], name="bn/batchnorm/Reciprocal"),
                helper.make_node("Mul", ["bn/centered", "bn/inverse"], ["bn/normalized"], name="bn/batchnorm/mul"),
                helper.make_node("Mul", ["bn/normalized", "bn/gamma"], ["bn/scaled"], name="bn/batchnorm/mul_1"),
                helper.make_node("Add", ["bn/scaled", "bn/beta"], ["y"], name="bn/batchnorm/add_1")], [
            ("bn/moving_mean", mean), ("bn/moving_variance", variance), ("bn/epsilon", epsilon),
            ("bn/gamma", gamma), ("bn/beta", beta)]

    path = save("unfolded", *unfolded(eps, var))
    y = onnxruntime.InferenceSession(path).run(["y"], {"x": x})[0]
    expected = (x - mean) / np.sqrt(var + eps) * gamma + beta
    save("wrong-shape", *unfolded(eps, var.reshape(3, 1)))
    save("nan-epsilon", *unfolded(np.float32(np.nan), var))
    scale = gamma / np.sqrt(var + eps)
    # two layers that share one Sqrt(Add(var, eps)): found, but their statistics cannot be rewritten alone
    shared = [helper.make_node("Sub", ["x", "bn/moving_mean"], ["c1"], name="first/sub"),
              helper.make_node("Add", ["bn/moving_variance", "bn/epsilon"], ["shifted"], name="add"),
              helper.make_node("Sqrt", ["shifted"], ["deviation"], name="sqrt"),
              helper.make_node("Div", ["c1", "deviation"], ["n1"], name="first/div"),
              helper.make_node("Relu", ["n1"], ["r"], name="relu"),
              helper.make_node("Sub", ["r", "bn/moving_mean"], ["c2"], name="second/sub"),
              helper.make_node("Div", ["c2", "deviation"], ["y"], name="second/div")]
    save("shared-deviation", shared, [("bn/moving_mean", mean), ("bn/moving_variance", var), ("bn/epsilon", eps)])
    save("folded", [helper.make_node("Mul", ["x", "bn/scale"], ["bn/scaled"], name="bn/batchnorm/mul_1"),
                    helper.make_node("Add", ["bn/scaled", "bn/offset"], ["y"], name="bn/batchnorm/add_1")],
         [("bn/scale", scale), ("bn/offset", beta - mean * scale)])
    return {
        "moving_mean": mean.tolist(), "moving_variance": var.tolist(), "epsilon": 1e-3, "gamma": gamma.tolist(),
        "beta": beta.tolist(), "population_mean": data_mean.tolist(), "population_variance": data_var.tolist(),
        "standardized_mean_shift": ((mean - data_mean) / np.sqrt(data_var + float(eps))).tolist(),
        "onnxruntime_vs_numpy_max_difference": float(np.abs(y - expected).max()),
    }


def converted():
    folder = os.path.join(OUT, "converted")
    os.makedirs(folder, exist_ok=True)
    for case in sorted(os.listdir(FIXTURES)):
        source = os.path.join(FIXTURES, case)
        if not os.path.isdir(source):
            continue
        model = version_converter.convert_version(onnx.load(os.path.join(source, "model.onnx")), 15)
        onnx.save(model, os.path.join(folder, case + ".onnx"))
        x = numpy_helper.to_array(onnx.load_tensor(os.path.join(source, "test_data_set_0", "input_0.pb")))
        np.save(os.path.join(folder, case + ".npy"), x)


def graphs():
    """Small graphs on float32 [N, 2, 4] whose values the tests compare with those written here."""
    folder = os.path.join(OUT, "graphs")
    os.makedirs(folder, exist_ok=True)
    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, ["batch", 2, 4])

    def constant(name, values):
        return helper.make_node("Constant", [], [name], value=helper.make_tensor(name + "_value", TensorProto.FLOAT,
                                                                                   [len(values)], values))

    def save(name, nodes, outputs, opset, initializers=()):
        graph = helper.make_graph(nodes, name, [x], [helper.make_tensor_value_info(o, TensorProto.FLOAT, ["batch", 2, 4])
                                                      for o in outputs], list(initializers))
        model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)], producer_name="bncheck-test")
        model.ir_version = 7
        onnx.checker.check_model(model)
        onnx.save(model, os.path.join(folder, name + ".onnx"))

    parameters = [constant("gamma", [0.5, 2.0]), constant("beta", [0.25, -1.0]), constant("mean", [1.5, -3.0]),
                  constant("var", [4.0, 0.0625])]
    save("constants-opset9-training", parameters + [helper.make_node(
        "BatchNormalization", ["x", "gamma", "beta", "mean", "var"], ["y", "running_mean", "running_var",
                                                                     "saved_mean", "saved_var"],
        name="bn", epsilon=1e-3, momentum=0.99)], ["y"], 9)
    save("constants-opset9", parameters + [helper.make_node(
        "BatchNormalization", ["x", "gamma", "beta", "mean", "var"], ["y"], name="bn", epsilon=1e-3)], ["y"], 9)
    save("spatial0-opset7", parameters + [helper.make_node(
        "BatchNormalization", ["x", "gamma", "beta", "mean", "var"], ["y"], name="bn", spatial=0)], ["y"], 7)
    save("nan-epsilon", parameters + [helper.make_node(
        "BatchNormalization", ["x", "gamma", "beta", "mean", "var"], ["y"], name="bn", epsilon=float("nan"))], ["y"], 15)
    save("shared-statistics", parameters + [
        helper.make_node("BatchNormalization", ["x", "gamma", "beta", "mean", "var"], ["y1"], name="first"),
        helper.make_node("Relu", ["y1"], ["r"]),
        helper.make_node("BatchNormalization", ["r", "gamma", "beta", "mean", "var"], ["y2"], name="second")],
        ["y2"], 15)
    branch = helper.make_graph(
        [helper.make_node("BatchNormalization", ["x", "gamma", "beta", "mean", "var"], ["yb"], name="inner")],
        "then", [], [helper.make_tensor_value_info("yb", TensorProto.FLOAT, ["batch", 2, 4])])
    other = helper.make_graph([helper.make_node("Identity", ["x"], ["yo"])], "else", [],
                              [helper.make_tensor_value_info("yo", TensorProto.FLOAT, ["batch", 2, 4])])
    flag = helper.make_tensor("flag", TensorProto.BOOL, [], [True])
    save("bn-in-if-branch", parameters + [helper.make_node("If", ["flag"], ["y"], name="branch",
                                                           then_branch=branch, else_branch=other)],
         ["y"], 15, [flag])


def hand_written_exports():
    """cnn-eval's model with BN written out by hand (the weights read back from cnn-eval.onnx, so that
    these files can be made alone): at opset 11, where Unsqueeze takes its axes as an attribute, and
    with the exporter's default constant folding, which folds sqrt(var + eps) into one constant."""
    exported = onnx.load(os.path.join(OUT, "cnn-eval.onnx"))
    model = Cnn()
    model.load_state_dict({t.name: torch.from_numpy(numpy_helper.to_array(t).copy())
                           for t in exported.graph.initializer}, strict=False)
    export(hand_written(model.eval()), os.path.join(OUT, "hand-bn-eval-opset11.onnx"), do_constant_folding=False,
           opset_version=11)
    export(hand_written(model.eval()), os.path.join(OUT, "hand-bn-eval-folded.onnx"))
    # BN written out in training mode: the batch's own mean and variance (ReduceMean over axes 0, 2, 3),
    # axes as an attribute (opset 13) and as an input (opset 18)
    batch_stats = hand_written(model.eval())
    batch_stats.bn1 = BatchStatsBn(model.bn1)
    batch_stats.bn2 = BatchStatsBn(model.bn2)
    for opset in (13, 18):
        export(batch_stats, os.path.join(OUT, f"hand-bn-batch-stats-opset{opset}.onnx"), do_constant_folding=False,
               opset_version=opset)


MISTAKES = os.path.join(OUT, "mistakes")
HELD_OUT = 256


def accuracy(path, x, labels, batch):
    session = onnxruntime.InferenceSession(path, providers=["CPUExecutionProvider"])
    right = 0
    for start in range(0, len(x), batch):
        logits = session.run(None, {"x": x[start:start + batch]})[0]
        right += int((logits.argmax(1) == labels[start:start + batch]).sum())
    return right / len(x)


def mistakes():
    """The ResNet-18-shaped model exported healthy and with each mistake, its calibration and held-out
    data, what PyTorch computes for the healthy export, and each export's accuracy in ONNX Runtime on
    the held-out samples at batch sizes 64 and 1 (docs/mistakes.md)."""
    os.makedirs(MISTAKES, exist_ok=True)
    torch.manual_seed(2)
    generator = torch.Generator().manual_seed(3)
    trained = ResNet18Shaped().eval()
    small_momentum = copy.deepcopy(trained)
    train(trained, generator)
    # momentum 0.001: 300 updates move a running statistic 26% of the way (1 - 0.999^300)
    for module in small_momentum.modules():
        if isinstance(module, torch.nn.BatchNorm2d):
            module.momentum = 0.001
    train(small_momentum, generator)
    # the running statistics lost on the way (a checkpoint of parameters only, or reset_running_stats())
    reset = copy.deepcopy(trained)
    for module in reset.modules():
        if isinstance(module, torch.nn.BatchNorm2d):
            module.reset_running_stats()
    calibration, _ = data(generator, SAMPLES)
    held_out, held_out_labels = data(generator, HELD_OUT)
    np.save(os.path.join(MISTAKES, "calibration.npy"), calibration.numpy().astype(np.float32))
    np.save(os.path.join(MISTAKES, "held-out.npy"), held_out.numpy().astype(np.float32))
    np.save(os.path.join(MISTAKES, "held-out-labels.npy"), held_out_labels.numpy().astype(np.int64))

    variants = {
        "resnet-eval": (trained, "none: eval(), TorchScript exporter, constant folding off",
                        dict(do_constant_folding=False)),
        "resnet-eval-dynamo": (trained, "none: eval(), dynamo exporter, optimizer off",
                               dict(dynamo=True, optimize=False)),
        "resnet-train": (trained, "exported with training=TrainingMode.TRAINING: BN normalizes with batch statistics",
                         dict(training=torch.onnx.TrainingMode.TRAINING, do_constant_folding=False)),
        "resnet-stats-reset": (reset, "trained weights, running statistics lost (still 0 and 1)",
                               dict(do_constant_folding=False)),
        "resnet-small-momentum": (small_momentum, "BatchNorm2d(momentum=0.001): 300 updates moved the statistics 26%",
                                  dict(do_constant_folding=False)),
    }
    table = {}
    x = held_out.numpy().astype(np.float32)
    y = held_out_labels.numpy()
    for name, (model, mistake, options) in variants.items():
        path = os.path.join(MISTAKES, name + ".onnx")
        export(model, path, **options)
        table[name] = {"mistake": mistake, "batch_64": accuracy(path, x, y, 64), "batch_1": accuracy(path, x, y, 1)}
    with open(os.path.join(MISTAKES, "accuracies.json"), "w") as f:
        json.dump({"torch": torch.__version__, "onnxruntime": onnxruntime.__version__, "held_out": HELD_OUT,
                   "variants": table}, f, indent=1, sort_keys=True)
        f.write("\n")
    with open(os.path.join(MISTAKES, "references.json"), "w") as f:
        json.dump({"torch": torch.__version__, "models": {"resnet-eval": references(trained, calibration, False)}},
                  f, indent=1, sort_keys=True)
        f.write("\n")


def half():
    """The CNN as model.half() exports it: float16 inputs, activations and BN parameters."""
    os.makedirs(os.path.join(OUT, "half"), exist_ok=True)
    torch.manual_seed(20)
    generator = torch.Generator().manual_seed(21)
    untrained = Cnn().eval()
    trained = copy.deepcopy(untrained)
    train(trained, generator)
    export(trained.half(), os.path.join(OUT, "half", "cnn-eval-fp16.onnx"), do_constant_folding=False)
    export(untrained.half(), os.path.join(OUT, "half", "cnn-untrained-fp16.onnx"), do_constant_folding=False)
    calibration = torch.from_numpy(np.load(os.path.join(OUT, "calibration.npy"))).half()
    refs = {"torch": torch.__version__, "cnn-eval-fp16": bn_inputs(trained.half(), calibration, False)}
    with open(os.path.join(OUT, "half", "references.json"), "w") as f:
        json.dump(refs, f, indent=1, sort_keys=True)
        f.write("\n")


class BatchMixing(torch.nn.Module):
    """A BN whose input mixes the samples run together, as an outside tester built to catch a run in parts."""

    def __init__(self):
        super().__init__()
        self.conv = torch.nn.Conv2d(3, 4, 1)
        self.bn = torch.nn.BatchNorm2d(4)

    def forward(self, x):
        h = self.conv(x)
        h = h + 0.05 * h.sum(0, keepdim=True)
        return self.bn(h).mean((2, 3))


def batch_mixing():
    torch.manual_seed(6)
    model = BatchMixing().train()
    with torch.no_grad():
        for _ in range(40):
            model(torch.randn(24, 3, 8, 8) * 2 + 1)
    export(model.eval(), os.path.join(OUT, "graphs", "batch-mixing.onnx"), do_constant_folding=False)
    x = (np.random.default_rng(7).standard_normal((24, 3, 8, 8)) * 2 + 1).astype(np.float32)
    np.save(os.path.join(OUT, "graphs", "batch-mixing.npy"), x)
    # rows the graph adds to the batch: two constant samples join it before a BN and are sliced
    # off after it, so that the outputs keep one row per sample (another outside tester's model);
    # a second BN reads the samples as they are
    initializers = [numpy_helper.from_array(np.full((2, 3, 8, 8), 12, np.float32), "extra"),
                    numpy_helper.from_array(np.ones(3, np.float32), "scale"),
                    numpy_helper.from_array(np.zeros(3, np.float32), "bias"),
                    numpy_helper.from_array(np.full(3, 2.0, np.float32), "mean"),
                    numpy_helper.from_array(np.full(3, 10.0, np.float32), "var"),
                    numpy_helper.from_array(np.full(3, 1.5, np.float32), "samples_mean"),
                    numpy_helper.from_array(np.full(3, 2.0, np.float32), "samples_var"),
                    numpy_helper.from_array(np.array([0], np.int64), "start"),
                    numpy_helper.from_array(np.array([-2], np.int64), "end"),
                    numpy_helper.from_array(np.array([0], np.int64), "axis")]
    nodes = [helper.make_node("Concat", ["x", "extra"], ["rows"], axis=0, name="add_rows"),
             helper.make_node("BatchNormalization", ["rows", "scale", "bias", "mean", "var"], ["normalized"], name="bn"),
             helper.make_node("Slice", ["normalized", "start", "end", "axis"], ["y"], name="drop_rows"),
             helper.make_node("Relu", ["x"], ["positive"], name="relu"),
             helper.make_node("BatchNormalization", ["positive", "scale", "bias", "samples_mean", "samples_var"], ["y2"],
                              name="bn_samples")]
    graph = helper.make_graph(nodes, "rows_added", [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["N", 3, 8, 8])],
                              [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["N", 3, 8, 8]),
                               helper.make_tensor_value_info("y2", TensorProto.FLOAT, ["N", 3, 8, 8])], initializers)
    save_graph(graph, "batch-rows-added")


def save_graph(graph, name):
    """Writes a hand-made graph to graphs/NAME.onnx at opset 15 (IR version 8)."""
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 15)])
    model.ir_version = 8
    onnx.save(model, os.path.join(OUT, "graphs", name + ".onnx"))


def bn_parameters(mean, var):
    """scale 1, bias 0 and the given moving statistics of a BN of 3 channels, as initializers."""
    return [numpy_helper.from_array(np.ones(3, np.float32), "scale"),
            numpy_helper.from_array(np.zeros(3, np.float32), "bias"),
            numpy_helper.from_array(np.full(3, mean, np.float32), "mean"),
            numpy_helper.from_array(np.full(3, var, np.float32), "var")]


def relu_then_bn():
    return [helper.make_node("Relu", ["x"], ["positive"], name="relu"),
            helper.make_node("BatchNormalization", ["positive", "scale", "bias", "mean", "var"], ["y"], name="bn")]


def batch_fixed():
    # a model exported for one batch size (8): it takes whole batches only, and the rest of the data
    # is left out (an outside tester's fixed-batch model ran 64 of 70 samples without a word)
    graph = helper.make_graph(relu_then_bn(), "batch_fixed", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [8, 3, 8, 8])],
                              [helper.make_tensor_value_info("y", TensorProto.FLOAT, [8, 3, 8, 8])], bn_parameters(1.5, 2.0))
    save_graph(graph, "batch-fixed")


def int_input():
    # an int32 input beside the float one: ids of any size must reach the model exactly (2^25 from an
    # int64 .npy was refused, read through float32)
    initializers = bn_parameters(0.0, 1.0) + [numpy_helper.from_array(np.zeros(1, np.float32), "zero"),
                                              numpy_helper.from_array(np.array([-1, 1], np.int64), "column")]
    nodes = [helper.make_node("Cast", ["ids"], ["ids_float"], to=TensorProto.FLOAT, name="cast"),
             helper.make_node("Mul", ["ids_float", "zero"], ["nothing"], name="times_zero"),
             helper.make_node("Reshape", ["nothing", "column"], ["nothing_column"], name="column"),
             helper.make_node("Add", ["x", "nothing_column"], ["sum"], name="add"),
             helper.make_node("BatchNormalization", ["sum", "scale", "bias", "mean", "var"], ["y"], name="bn")]
    graph = helper.make_graph(nodes, "int_input", [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["N", 3]),
                                                   helper.make_tensor_value_info("ids", TensorProto.INT32, ["N"])],
                              [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["N", 3])], initializers)
    save_graph(graph, "int-input")

    table = [numpy_helper.from_array(np.arange(12, dtype=np.float32).reshape(4, 3), "table")]
    nodes = [helper.make_node("Gather", ["table", "ids"], ["rows"], axis=0, name="lookup"),
             helper.make_node("Add", ["x", "rows"], ["sum"], name="add"),
             helper.make_node("BatchNormalization", ["sum", "scale", "bias", "mean", "var"], ["y"], name="bn")]
    graph = helper.make_graph(nodes, "gather_ids", [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["N", 3]),
                                                    helper.make_tensor_value_info("ids", TensorProto.INT64, ["N"])],
                              [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["N", 3])],
                              initializers[:4] + table)
    save_graph(graph, "gather-ids")


def bn_input_as_output():
    # a BN whose input is also a graph output, as PyTorch exports a forward that returns both: that
    # output was fetched with every batch, and the last batch's compared with the first's samples
    # run alone (BN005 on a healthy model)
    graph = helper.make_graph(relu_then_bn(), "bn_input_as_output", [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["N", 3])],
                              [helper.make_tensor_value_info("positive", TensorProto.FLOAT, ["N", 3]),
                               helper.make_tensor_value_info("y", TensorProto.FLOAT, ["N", 3])],
                              bn_parameters(0.4, 0.34))
    save_graph(graph, "bn-input-as-output")


def main():
    if sys.argv[1:] == ["--only", "bn-input-as-output"]:
        bn_input_as_output()
        return
    if sys.argv[1:] == ["--only", "int-input"]:
        int_input()
        return
    if sys.argv[1:] == ["--only", "batch-fixed"]:
        batch_fixed()
        return
    if sys.argv[1:] == ["--only", "half"]:
        half()
        return
    if sys.argv[1:] == ["--only", "mistakes"]:
        mistakes()
        return
    if sys.argv[1:] == ["--only", "malformed"]:
        malformed()
        return
    if sys.argv[1:] == ["--only", "hand-bn-exports"]:
        hand_written_exports()
        return
    if sys.argv[1:] == ["--only", "batch-mixing"]:
        batch_mixing()
        return
    torch.manual_seed(0)
    os.makedirs(OUT, exist_ok=True)
    generator = torch.Generator().manual_seed(1)
    untrained = Cnn().eval()
    trained = copy.deepcopy(untrained)
    train(trained, generator)
    calibration, _ = data(generator, SAMPLES)
    np.save(os.path.join(OUT, "calibration.npy"), calibration.numpy().astype(np.float32))

    export(trained, os.path.join(OUT, "cnn-eval.onnx"), do_constant_folding=False)
    export(trained, os.path.join(OUT, "cnn-eval-dynamo.onnx"), dynamo=True, optimize=False)
    export(trained, os.path.join(OUT, "cnn-eval-folded.onnx"))
    export(trained, os.path.join(OUT, "cnn-train.onnx"), training=torch.onnx.TrainingMode.TRAINING,
           do_constant_folding=False)
    export(untrained, os.path.join(OUT, "cnn-untrained.onnx"), do_constant_folding=False)

    external = onnx.load(os.path.join(OUT, "cnn-eval.onnx"))
    # onnx appends to an existing data file
    if os.path.exists(os.path.join(OUT, "cnn-external.onnx.data")):
        os.remove(os.path.join(OUT, "cnn-external.onnx.data"))
    onnx.save_model(external, os.path.join(OUT, "cnn-external.onnx"), save_as_external_data=True,
                    all_tensors_to_one_file=True, location="cnn-external.onnx.data", size_threshold=0)
    export(hand_written(trained), os.path.join(OUT, "hand-bn-eval.onnx"), do_constant_folding=False)
    export(hand_written(untrained), os.path.join(OUT, "hand-bn-untrained.onnx"), do_constant_folding=False)
    hand_written_exports()
    hostile()
    converted()
    graphs()
    batch_mixing()
    batch_fixed()
    int_input()
    bn_input_as_output()
    mistakes()
    half()

    refs = {
        "cnn-eval": references(trained, calibration, False),
        "cnn-train": references(trained, calibration, True),
        "cnn-untrained": references(untrained, calibration, False),
        # HandBn computes what the BatchNorm2d it copies computes: the modules' values are the references
        "hand-bn-eval": references(trained, calibration, False),
        "hand-bn-untrained": references(untrained, calibration, False),
    }
    with open(os.path.join(OUT, "decomposed", "references.json"), "w") as f:
        json.dump({"onnxruntime": onnxruntime.__version__, "unfolded": decomposed()}, f, indent=1, sort_keys=True)
        f.write("\n")
    with open(os.path.join(OUT, "references.json"), "w") as f:
        json.dump({"torch": torch.__version__, "onnx": onnx.__version__, "models": refs}, f, indent=1, sort_keys=True)
        f.write("\n")


if __name__ == "__main__":
    main()
