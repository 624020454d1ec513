#!/usr/bin/env python3
"""PyTorch as a benchmark peer, driven by benchmarks/peers/torch.ts over stdin/stdout.

The first line printed says whether torch imports ({"ready": true, ...} with the
interpreter, torch's version, its thread count and the BLAS it loaded, or {"ready":
false, "error": ...}); `--threads N` sets torch.set_num_threads(N) first. Then each request line names a case, a device
("cpu" or "cuda"), input files of raw little-endian float32/int32 and timing options;
the reply line holds the first call's outputs (written as raw float32 files), its time,
and per-iteration times of several repeats, measured with the harness's protocol:
first call, warmup, calibration, N iterations with one synchronize at the end, repeated.
Left out: torch.compile (needs a C compiler and Triton, absent from Debian's package),
mixed precision (the peers are compared in float32; TF32 stays off).
"""
import json
import math
import os
import sys
import time

SLOW_REPEATS, SLOW_FACTOR = 3, 4  # harness.ts's slowRepeats and slowFactor


def load(torch, spec, device):
    dtype = torch.int32 if spec["dtype"] == "int32" else torch.float32
    with open(spec["path"], "rb") as handle:
        data = bytearray(handle.read())
    return torch.frombuffer(data, dtype=dtype).reshape(spec["shape"]).to(device)


def save(torch, tensor, path):
    flat = tensor.detach().to("cpu", torch.float32).contiguous().reshape(-1)
    try:
        payload = flat.numpy().tobytes()
    except Exception:  # a torch without numpy: slower, same bytes
        import array
        payload = array.array("f", flat.tolist()).tobytes()
    with open(path, "wb") as handle:
        handle.write(payload)
    return {"path": path, "length": flat.numel()}


def kernel(torch, case, inputs, params):
    functional = torch.nn.functional
    if case == "conv2d":
        x, w = inputs
        return lambda: [functional.conv2d(x, w, stride=int(params["stride"]), padding=int(params["padding"]))]
    if case == "conv1d-audio":
        x, w = inputs
        return lambda: [functional.conv1d(x, w, stride=int(params["stride"]), padding=int(params["padding"]))]
    if case == "elementwise":
        x, a, b = inputs
        return lambda: [torch.tanh(x * a + b) * torch.sigmoid(x) - torch.exp(-torch.square(x))]
    if case == "affine":
        x, a, b = inputs
        return lambda: [x * a + b]
    if case == "sum-last":
        return lambda: [torch.sum(inputs[0], -1)]
    if case == "sum-all":
        return lambda: [torch.sum(inputs[0])]
    if case == "softmax":
        return lambda: [torch.softmax(inputs[0], -1)]
    if case == "matmul":
        return lambda: [inputs[0] @ inputs[1]]
    raise ValueError("no PyTorch version of case '%s'" % case)


def train_step(torch, inputs, eta):
    """The talk's step: relu layers, templates indexed by label, mean squared distance, SGD."""
    x, y, templates = inputs[0], inputs[1].long(), inputs[2]
    params = [p.clone().requires_grad_(True) for p in inputs[3:]]

    def step():
        h = x
        for layer in range(3):
            h = torch.relu(h @ params[2 * layer] + params[2 * layer + 1])
        loss = torch.mean(torch.square(h - templates[y]))
        grads = torch.autograd.grad(loss, params)
        with torch.no_grad():
            for param, grad in zip(params, grads):
                param.sub_(eta * grad)
        return [loss.detach()] + [p.detach() for p in params]

    return step


def conv2d_train(torch, inputs, params):
    """The loss sum(conv2d(x, w) * g) and its gradients with respect to x and w, by autograd."""
    x, w, g = inputs[0].clone().requires_grad_(True), inputs[1].clone().requires_grad_(True), inputs[2]
    stride, padding = int(params["stride"]), int(params["padding"])

    def step():
        loss = torch.sum(torch.nn.functional.conv2d(x, w, stride=stride, padding=padding) * g)
        dx, dw = torch.autograd.grad(loss, [x, w])
        return [loss.detach(), dx, dw]

    return step


def rnn(torch, inputs, train):
    """torch.nn.RNN (tanh, one layer) holding our weights: weight_ih = Wx^T, weight_hh = Wh^T,
    bias_ih = b, bias_hh = 0; its output is every step's h. `train`: the loss sum(h * g)
    and its gradients with respect to Wx, Wh and b by autograd (transposed back)."""
    x, wx, wh, b = inputs[:4]
    layer = torch.nn.RNN(wx.shape[0], wx.shape[1], nonlinearity="tanh").to(x.device)
    with torch.no_grad():
        layer.weight_ih_l0.copy_(wx.t())
        layer.weight_hh_l0.copy_(wh.t())
        layer.bias_ih_l0.copy_(b)
        layer.bias_hh_l0.zero_()
    if not train:
        layer.requires_grad_(False)
        return lambda: [layer(x)[0]]
    g = inputs[4]
    weights = [layer.weight_ih_l0, layer.weight_hh_l0, layer.bias_ih_l0]

    def step():
        loss = torch.sum(layer(x)[0] * g)
        dwx, dwh, db = torch.autograd.grad(loss, weights)
        return [loss.detach(), dwx.t(), dwh.t(), db]

    return step


def run(torch, request):
    device = request["device"]
    inputs = [load(torch, spec, device) for spec in request["inputs"]]
    case = request["case"]
    if case in ("train-step", "compile-latency"):
        call = train_step(torch, inputs, request["params"]["learningRate"])
    elif case in ("rnn", "rnn-train"):
        call = rnn(torch, inputs, case == "rnn-train")
    elif case == "conv2d-train":
        call = conv2d_train(torch, inputs, request["params"])
    else:
        call = kernel(torch, case, inputs, request["params"])
    sync = torch.cuda.synchronize if device == "cuda" else (lambda: None)
    sync()
    started = time.perf_counter()
    # Like the other rows' first call: compute, then copy every output to the host.
    first = [tensor.detach().to("cpu", torch.float32) for tensor in call()]
    first_ms = (time.perf_counter() - started) * 1000
    outputs = [save(torch, tensor, os.path.join(request["out_dir"], "out%d.bin" % i)) for i, tensor in enumerate(first)]
    del first
    repeats_ms, iterations = [], 0
    if request["repeats"] > 0:
        target, most = request["target_ms"], request["max_iterations"]
        warm_start = time.perf_counter()
        for i in range(max(1, request["warmup"])):
            call()
            if (time.perf_counter() - warm_start) * 1000 > 2 * target:
                break
        sync()
        # Calibration as in harness.ts: grow a batch until it lasts a quarter of a repeat.
        batch = 1
        while True:
            t0 = time.perf_counter()
            for _ in range(batch):
                call()
            sync()
            elapsed = max((time.perf_counter() - t0) * 1000, 1e-3)
            if elapsed >= target / 4 or batch >= most:
                break
            batch = min(most, max(2 * batch, math.ceil(1.2 * batch * target / 4 / elapsed)))
        iterations = max(1, min(most, round(batch * target / elapsed)))
        # As harness.ts: an iteration that alone outlasts several repeats gets a few
        # repeats of one, the calibration's counting as the first.
        repeats = request["repeats"]
        if batch == 1 and elapsed >= SLOW_FACTOR * target:
            repeats_ms.append(elapsed)
            repeats = min(repeats, SLOW_REPEATS)
        while len(repeats_ms) < repeats:
            t0 = time.perf_counter()
            for _ in range(iterations):
                call()
            sync()
            repeats_ms.append((time.perf_counter() - t0) * 1000 / iterations)
    return {"id": request["id"], "ok": True, "outputs": outputs, "first_ms": first_ms, "repeats_ms": repeats_ms, "iterations": iterations}


def loaded_blas():
    """The BLAS library torch loaded (Debian's torch calls whichever libblas.so.3 the
    alternatives system points at: the reference BLAS is some 40x slower than OpenBLAS)."""
    try:
        with open("/proc/self/maps") as maps:
            paths = {line.split()[-1] for line in maps if "blas" in line.split()[-1].lower()}
        return ", ".join(sorted({os.path.realpath(path) for path in paths})) or "none loaded yet"
    except OSError:
        return "unknown"


def main():
    try:
        import torch
    except Exception as error:  # not installed, or broken: the harness reports it as n/a
        print(json.dumps({"ready": False, "error": "%s: %s" % (type(error).__name__, error)}), flush=True)
        return
    torch.backends.cuda.matmul.allow_tf32 = False
    torch.backends.cudnn.allow_tf32 = False
    default_threads = torch.get_num_threads()
    if "--threads" in sys.argv:
        torch.set_num_threads(int(sys.argv[sys.argv.index("--threads") + 1]))
    info = {
        "ready": True, "torch": torch.__version__, "threads": torch.get_num_threads(), "default_threads": default_threads,
        "python": sys.executable, "python_version": sys.version.split()[0], "blas": loaded_blas(), "cuda": torch.cuda.is_available(),
    }
    if info["cuda"]:
        info["cuda_name"] = torch.cuda.get_device_name(0)
    print(json.dumps(info), flush=True)
    for line in sys.stdin:
        if not line.strip():
            continue
        request = json.loads(line)
        try:
            reply = run(torch, request)
        except Exception as error:
            reply = {"id": request.get("id"), "ok": False, "error": "%s: %s" % (type(error).__name__, error)}
        print(json.dumps(reply), flush=True)


if __name__ == "__main__":
    main()
