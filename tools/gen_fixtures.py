#!/usr/bin/env python3
"""Regenerate every PyTorch reference fixture in tests/fixtures/.

Run from anywhere:

    python3 tools/gen_fixtures.py

Needs torch (2.x) and numpy. It writes

- tests/fixtures/nn.json    (this file): layers, losses and whole MLPs, read by tests/nn.rs;
- tests/fixtures/optim.json (by calling tools/gen_optim_fixtures.py's main, unchanged),
  read by tests/optim.rs.

nn.json records the torch and numpy versions that produced it; the committed one came
from torch 2.15.0+cu132 (run on the CPU) and numpy 2.4.6. Every input is drawn from a
seeded numpy generator, rounded to 4 decimals and cast to float32, so the fixture reads
easily and a rerun gives the same file. PyTorch computes in float32 on the CPU with one
thread; gradients come from autograd (`backward` with an explicit upstream gradient `dy`).
Tensors are stored flat, row-major, batch first, with their sizes next to them.

Sections (each case carries a `reason`):

- linear:        F.linear(x, w, b) → y; x.grad, w.grad, b.grad for y.backward(dy).
- activations:   relu, leaky_relu (slope 0.01), tanh, sigmoid on negatives, exact zeros and
                 large magnitudes; y and x.grad for y.backward(dy).
- cross_entropy: F.cross_entropy(logits, labels, reduction) and logits.grad (upstream 1).
- mse:           F.mse_loss(pred, target, reduction) and pred.grad.
- penalty:       l1·Σ|w| + (l2/2)·Σw² and its gradient (sign(0) = 0, as autograd's abs).
- batch_norm:    nn.BatchNorm1d with γ, β set by hand, several training steps on different
                 batches (y, dx, dγ, dβ, running statistics after each), then evaluation
                 forwards and backwards.
- dropout:       the scale convention only (torch's mask stream cannot be reproduced): for
                 a keep-mask drawn by torch, y = x·keep/(1 − p), dx = dy·keep/(1 − p), and
                 the identity in evaluation mode.
- mlp:           nn.Sequential(Linear, [BatchNorm1d], act, ..., Linear) in training mode,
                 loss = cross_entropy + l1·Σ|W| + (l2/2)·ΣW² over the Linear weights only;
                 flat parameters and gradients in model.parameters() order, the running
                 statistics after the step and the evaluation-mode logits that follow.
- mlp_training:  nn.Sequential(Linear, BatchNorm1d, act, ..., Linear) trained several steps
                 with torch.optim.SGD or Adam on mean cross-entropy, a new batch each step:
                 the flat parameters, the running statistics and the loss after every step.
                 Its inputs are drawn after every other section's, so adding it moved none of
                 their inputs. It was added by a run of the same torch version on another
                 machine, whose outputs for the older sections differed from the committed ones
                 in the last float digits (another CPU, other vector kernels): only the new
                 section was taken from that run, the rest of the file is as it was.
"""

import json
import os
import sys

import numpy as np
import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import gen_optim_fixtures  # noqa: E402  (the optimizer fixture, and its float formatting)

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "fixtures", "nn.json")

fmt = gen_optim_fixtures.fmt  # shortest decimal that reads back (through f64) as the same f32

RNG = np.random.default_rng(20241124)


def draw(*shape, scale=1.0, offset=0.0):
    """float32 values ~ offset + scale·N(0, 1), rounded to 4 decimals."""
    return np.round(offset + scale * RNG.standard_normal(shape), 4).astype(np.float32)


def t(a, grad=False):
    return torch.tensor(np.asarray(a, dtype=np.float32), requires_grad=grad)


def np32(x):
    return x.detach().numpy().astype(np.float32).copy()


# ---------------------------------------------------------------------------------------
# JSON text: one case per line, float32 values via fmt, everything else via json.dumps
# ---------------------------------------------------------------------------------------

def dump(v):
    if isinstance(v, (np.ndarray, torch.Tensor)):
        a = np32(v) if isinstance(v, torch.Tensor) else v
        if a.dtype.kind == "f":
            return "[" + ", ".join(fmt(x) for x in a.ravel()) + "]"
        return json.dumps([int(x) for x in a.ravel()])
    if isinstance(v, (float, np.floating)):
        return fmt(v)
    if isinstance(v, dict):
        return "{" + ", ".join(f"{json.dumps(k)}: {dump(x)}" for k, x in v.items()) + "}"
    if isinstance(v, (list, tuple)):
        return "[" + ", ".join(dump(x) for x in v) + "]"
    return json.dumps(v)


# ---------------------------------------------------------------------------------------
# Linear
# ---------------------------------------------------------------------------------------

# (batch, fan_in, fan_out, reason)
LINEAR = [
    (1, 3, 2, "batch of 1"),
    (4, 5, 3, "small batch, fan_in > fan_out"),
    (7, 1, 4, "a single input feature"),
    (3, 6, 1, "a single output unit"),
    (16, 10, 6, "larger batch"),
]


def linear_cases():
    out = []
    for batch, fi, fo, reason in LINEAR:
        x, w, b, dy = draw(batch, fi), draw(fo, fi, scale=0.5), draw(fo, scale=0.5), draw(batch, fo)
        xt, wt, bt = t(x, True), t(w, True), t(b, True)
        y = F.linear(xt, wt, bt)
        y.backward(t(dy))
        out.append({"reason": reason, "batch": batch, "fan_in": fi, "fan_out": fo,
                    "x": x, "w": w, "b": b, "dy": dy,
                    "y": y, "dx": xt.grad, "dw": wt.grad, "db": bt.grad})
    return out


# ---------------------------------------------------------------------------------------
# Activations
# ---------------------------------------------------------------------------------------

ACT_X = np.array([-1e4, -100.0, -30.0, -12.0, -3.5, -1.0, -0.4, -1e-3, 0.0, 1e-3, 0.25,
                  0.7, 1.0, 2.5, 8.0, 17.0, 40.0, 100.0, 1e4], dtype=np.float32)

ACTIVATIONS = [
    ("relu", torch.relu, "x = 0 has derivative 0"),
    ("leaky_relu", lambda x: F.leaky_relu(x, 0.01), "slope 0.01 below 0, and at x = 0"),
    ("tanh", torch.tanh, "saturates to ±1 with derivative 0"),
    ("sigmoid", torch.sigmoid, "saturates to 0 and 1"),
]


def activation_cases():
    out = []
    dy = draw(len(ACT_X))
    for name, f, reason in ACTIVATIONS:
        xt = t(ACT_X, True)
        y = f(xt)
        y.backward(t(dy))
        out.append({"name": name, "reason": reason, "x": ACT_X, "dy": dy, "y": y, "dx": xt.grad})
    return out


# ---------------------------------------------------------------------------------------
# Losses and the penalty
# ---------------------------------------------------------------------------------------

def ce_inputs():
    """(logits (batch, classes), labels, reason)."""
    big = np.array([[50.0, -50.0, 0.0], [-50.0, 50.0, 49.0], [50.0, 50.0, -50.0],
                    [-50.0, -50.0, -50.0]], dtype=np.float32)
    return [
        (draw(1, 4), np.array([2]), "batch of 1"),
        (draw(5, 3, scale=2.0), RNG.integers(0, 3, 5), "ordinary logits"),
        (big, np.array([0, 2, 1, 1]), "logits ±50: the log-sum-exp must not overflow"),
        (big, np.array([1, 0, 2, 0]), "logits ±50, wrong classes: loss ~100"),
        (draw(8, 10, scale=3.0), RNG.integers(0, 10, 8), "ten classes"),
        (draw(6, 2), np.array([0, 1, 1, 0, 0, 1]), "two classes"),
    ]


def cross_entropy_cases():
    out = []
    for logits, labels, reason in ce_inputs():
        for reduction in ["mean", "sum"]:
            zt = t(logits, True)
            loss = F.cross_entropy(zt, torch.tensor(labels, dtype=torch.int64), reduction=reduction)
            loss.backward()
            out.append({"reason": reason, "reduction": reduction, "classes": logits.shape[1],
                        "logits": logits, "labels": np.asarray(labels, dtype=np.int64),
                        "loss": np32(loss).item(), "dlogits": zt.grad})
    return out


def mse_cases():
    out = []
    inputs = [
        (draw(1), draw(1), "one value"),
        (draw(4, 3), draw(4, 3), "a (4 × 3) batch: mean divides by all 12 values"),
        (draw(10, scale=20.0), draw(10), "large errors"),
        (np.array([1.5, -2.0, 0.0], dtype=np.float32), np.array([1.5, -2.0, 0.0], dtype=np.float32),
         "perfect prediction: loss and gradient 0"),
    ]
    for pred, target, reason in inputs:
        for reduction in ["mean", "sum"]:
            pt = t(pred, True)
            loss = F.mse_loss(pt, t(target), reduction=reduction)
            loss.backward()
            out.append({"reason": reason, "reduction": reduction, "pred": pred, "target": target,
                        "loss": np32(loss).item(), "dpred": pt.grad})
    return out


def penalty_value(weights, l1, l2):
    """l1·Σ|W| + (l2/2)·ΣW² over a list of weight tensors (what the MLP adds to the loss)."""
    total = torch.zeros(())
    for w in weights:
        if l1:
            total = total + l1 * w.abs().sum()
        if l2:
            total = total + 0.5 * l2 * (w * w).sum()
    return total


def penalty_cases():
    out = []
    w = np.array([-2.0, -0.5, -1e-3, 0.0, 0.0, 1e-3, 0.3, 1.25, 4.0], dtype=np.float32)
    for l1, l2, reason in [(0.01, 0.0, "L1 only: ±λ₁, and 0 at w = 0"),
                           (0.0, 0.1, "L2 only: λ₂·w"),
                           (0.05, 0.2, "both"),
                           (0.0, 0.0, "off")]:
        wt = t(w, True)
        value = penalty_value([wt], l1, l2)
        if value.requires_grad:
            value.backward()
        grad = wt.grad if wt.grad is not None else torch.zeros_like(wt)
        out.append({"reason": reason, "l1": l1, "l2": l2, "w": w,
                    "value": np32(value).item(), "grad": grad})
    return out


# ---------------------------------------------------------------------------------------
# BatchNorm1d
# ---------------------------------------------------------------------------------------

def bn_cases():
    # (features, eps, momentum, training batch sizes, special input, reason)
    rows = [
        (3, 1e-5, 0.1, [4, 5, 2], None, "PyTorch defaults; a batch of 2 has unbias factor 2"),
        (4, 1e-5, None, [6, 3, 8], None, "momentum None: cumulative average of batch statistics"),
        (3, 1e-3, 0.1, [5, 4], "constant", "eps 1e-3; feature 1 constant within a batch (σ² = 0)"),
        (2, 1e-3, None, [3, 7, 4, 2], "offset", "eps 1e-3, cumulative; inputs around 10 with spread ~1"),
        (5, 1e-5, 0.3, [8, 8], None, "momentum 0.3"),
    ]
    out = []
    for features, eps, momentum, batches, special, reason in rows:
        torch.manual_seed(0)  # BatchNorm1d draws nothing, but keep the run self-contained
        bn = torch.nn.BatchNorm1d(features, eps=eps, momentum=momentum)
        gamma = draw(features, scale=0.5, offset=1.0)
        beta = draw(features, scale=0.5)
        with torch.no_grad():
            bn.weight.copy_(t(gamma))
            bn.bias.copy_(t(beta))
        steps = []
        bn.train()
        for m in batches:
            if special == "offset":
                x = draw(m, features, offset=10.0)
            else:
                x = draw(m, features, scale=2.0, offset=0.5)
            if special == "constant":
                x[:, 1] = np.float32(1.7)
            dy = draw(m, features)
            steps.append(bn_step(bn, x, dy))
        bn.eval()
        evals = [bn_step(bn, draw(m, features, scale=2.0), draw(m, features)) for m in [3, 1]]
        for s in evals:
            del s["running_mean"], s["running_var"]
        out.append({"reason": reason, "features": features, "eps": eps, "momentum": momentum,
                    "gamma": gamma, "beta": beta, "train": steps, "eval": evals})
    return out


def bn_step(bn, x, dy):
    bn.zero_grad()
    xt = t(x, True)
    y = bn(xt)
    y.backward(t(dy))
    # np32 copies: running_mean/var are updated in place by the next step.
    return {"batch": x.shape[0], "x": x, "dy": dy, "y": np32(y), "dx": np32(xt.grad),
            "dgamma": np32(bn.weight.grad), "dbeta": np32(bn.bias.grad),
            "running_mean": np32(bn.running_mean), "running_var": np32(bn.running_var)}


# ---------------------------------------------------------------------------------------
# Dropout (scale convention)
# ---------------------------------------------------------------------------------------

def dropout_cases():
    out = []
    x = np.array([-3.0, -1.25, -0.1, 0.0, 0.5, 1.0, 2.0, 7.5, -0.75, 0.3, 4.0, -6.0],
                 dtype=np.float32)
    dy = draw(len(x))
    # Seeds picked so that each mask drops some values and keeps others.
    for p, seed in [(0.2, 6), (0.5, 3)]:
        # The keep-mask torch draws for this seed: the same draw on a vector of ones.
        torch.manual_seed(seed)
        ones = F.dropout(torch.ones(len(x)), p=p, training=True)
        keep = (ones != 0).numpy().astype(np.float32)
        assert 0 < keep.sum() < len(x), "the mask should both keep and drop"
        scale = ones[ones != 0][0].item()
        torch.manual_seed(seed)
        xt = t(x, True)
        y = F.dropout(xt, p=p, training=True)
        y.backward(t(dy))
        assert np.array_equal(np32(y), x * keep * np.float32(scale)), "same seed, same mask"
        out.append({"reason": f"p = {p}: kept values scaled by 1/(1 − p) = {scale:.6g}",
                    "p": p, "x": x, "keep": keep, "scale": np.float32(scale),
                    "dy": dy, "y": y, "dx": xt.grad,
                    "eval_y": F.dropout(t(x), p=p, training=False)})
    return out


# ---------------------------------------------------------------------------------------
# Whole MLPs
# ---------------------------------------------------------------------------------------

ACT_MODULES = {
    "relu": torch.nn.ReLU,
    "leaky_relu": lambda: torch.nn.LeakyReLU(0.01),
    "tanh": torch.nn.Tanh,
    "sigmoid": torch.nn.Sigmoid,
    "identity": torch.nn.Identity,
}

# (sizes, activation, batch_norm per hidden layer, bn_momentum, bn_eps, reduction, l1, l2,
#  batch, reason)
MLPS = [
    ([5, 4, 3], "relu", [], 0.1, 1e-5, "mean", 0.0, 0.0, 6, "smallest hidden-layer net"),
    ([5, 4, 3], "relu", [], 0.1, 1e-5, "sum", 0.0, 0.0, 1, "batch of 1, summed"),
    ([2, 3], "identity", [], 0.1, 1e-5, "mean", 0.02, 0.0, 5, "no hidden layer (softmax regression) + L1"),
    ([6, 8, 8, 4], "tanh", [], 0.1, 1e-5, "mean", 0.0, 0.0, 9, "two tanh layers"),
    ([6, 8, 8, 4], "tanh", [True, True], 0.1, 1e-5, "mean", 0.0, 0.0, 10, "tanh with BatchNorm"),
    ([6, 8, 8, 4], "sigmoid", [True, False], 0.1, 1e-5, "sum", 0.0, 0.0, 7, "BatchNorm on the first layer only, summed"),
    ([6, 8, 8, 4], "sigmoid", [], 0.1, 1e-5, "sum", 0.0, 0.05, 8, "sigmoid + L2"),
    ([4, 6, 5, 3], "leaky_relu", [True, True], 0.1, 1e-5, "mean", 0.01, 0.1, 6, "leaky ReLU, BatchNorm, L1 + L2, some weights exactly 0"),
    ([6, 8, 8, 4], "tanh", [True, True], 0.2, 1e-3, "sum", 0.05, 0.02, 5, "BatchNorm eps 1e-3 momentum 0.2, summed, L1 + L2"),
    ([3, 5, 2], "identity", [True], 0.1, 1e-5, "mean", 0.0, 0.01, 4, "no non-linearity, BatchNorm, L2"),
    ([20, 16, 10], "relu", [True], 0.1, 1e-5, "mean", 1e-3, 1e-3, 32, "MNIST-like head: 10 classes, batch 32"),
]


def mlp_cases():
    out = []
    for sizes, act, bns, momentum, eps, reduction, l1, l2, batch, reason in MLPS:
        layers, linears, bn_layers = [], [], []
        hidden = len(sizes) - 2
        for i in range(len(sizes) - 1):
            lin = torch.nn.Linear(sizes[i], sizes[i + 1])
            layers.append(lin)
            linears.append(lin)
            if i < hidden:
                has_bn = bool(bns[i] if len(bns) > 1 else (bns[0] if bns else False))
                if has_bn:
                    bn = torch.nn.BatchNorm1d(sizes[i + 1], eps=eps, momentum=momentum)
                    layers.append(bn)
                    bn_layers.append((i, bn))
                layers.append(ACT_MODULES[act]())
        model = torch.nn.Sequential(*layers)
        # Explicit parameters: weights ~ U(±1/sqrt(fan_in)) like nn.Linear's default,
        # γ around 1 and β around 0 but not equal to them.
        with torch.no_grad():
            for prm in model.parameters():
                if prm.dim() == 2:
                    r = 1.0 / np.sqrt(prm.shape[1])
                    v = np.round(RNG.uniform(-r, r, tuple(prm.shape)), 4).astype(np.float32)
                    if l1:
                        v.ravel()[::7] = 0.0  # exact zeros: L1's gradient there is sign(0) = 0
                elif any(prm is bn.weight for _, bn in bn_layers):
                    v = draw(*prm.shape, scale=0.3, offset=1.0)
                else:
                    v = draw(*prm.shape, scale=0.3)
                prm.copy_(t(v))
        params = np.concatenate([np32(prm).ravel() for prm in model.parameters()])
        x = draw(batch, sizes[0])
        labels = RNG.integers(0, sizes[-1], batch)
        model.train()
        logits = model(t(x))
        loss = F.cross_entropy(logits, torch.tensor(labels, dtype=torch.int64), reduction=reduction)
        loss = loss + penalty_value([lin.weight for lin in linears], l1, l2)
        loss.backward()
        grads = np.concatenate([np32(prm.grad).ravel() for prm in model.parameters()])
        running = [{"layer": i, "mean": np32(bn.running_mean), "var": np32(bn.running_var)}
                   for i, bn in bn_layers]
        model.eval()
        with torch.no_grad():
            eval_logits = model(t(x))
        out.append({"reason": reason, "sizes": sizes, "activation": act, "batch_norm": bns,
                    "bn_momentum": momentum, "bn_eps": eps, "reduction": reduction,
                    "l1": l1, "l2": l2, "batch": batch,
                    "params": params, "x": x, "labels": np.asarray(labels, dtype=np.int64),
                    "logits": logits, "loss": np32(loss).item(), "grads": grads,
                    "running": running, "eval_logits": eval_logits})
    return out


# ---------------------------------------------------------------------------------------
# MLP with BatchNorm1d trained several steps (SGD and Adam): parameters, running statistics
# and loss after every step. Drawn after every other section, so their values do not move.

# (sizes, activation, optimizer, options, bn_momentum, batch, steps, reason)
TRAINING = [
    ([6, 8, 8, 4], "tanh", "sgd", {"lr": 0.1}, 0.1, 8, 4, "SGD lr 0.1, BatchNorm on both hidden layers"),
    ([6, 8, 8, 4], "sigmoid", "sgd", {"lr": 0.5, "momentum": 0.9}, 0.2, 6, 4, "SGD with momentum 0.9, BatchNorm momentum 0.2"),
    ([6, 8, 8, 4], "tanh", "adam", {"lr": 0.01}, 0.1, 8, 5, "Adam lr 0.01, PyTorch's other defaults"),
    ([5, 7, 3], "relu", "adam", {"lr": 0.05, "betas": [0.8, 0.99], "eps": 1e-6}, 0.1, 5, 4, "Adam with other betas and eps, ReLU"),
]


def training_cases():
    out = []
    for sizes, act, opt_name, options, momentum, batch, steps, reason in TRAINING:
        layers = []
        for i in range(len(sizes) - 1):
            layers.append(torch.nn.Linear(sizes[i], sizes[i + 1]))
            if i < len(sizes) - 2:
                layers.append(torch.nn.BatchNorm1d(sizes[i + 1], momentum=momentum))
                layers.append(ACT_MODULES[act]())
        model = torch.nn.Sequential(*layers)
        bns = [m for m in model if isinstance(m, torch.nn.BatchNorm1d)]
        with torch.no_grad():
            for prm in model.parameters():
                if prm.dim() == 2:
                    r = 1.0 / np.sqrt(prm.shape[1])
                    prm.copy_(t(np.round(RNG.uniform(-r, r, tuple(prm.shape)), 4)))
                elif any(prm is bn.weight for bn in bns):
                    prm.copy_(t(draw(*prm.shape, scale=0.3, offset=1.0)))
                else:
                    prm.copy_(t(draw(*prm.shape, scale=0.3)))
        params0 = np.concatenate([np32(prm).ravel() for prm in model.parameters()])
        if opt_name == "sgd":
            opt = torch.optim.SGD(model.parameters(), **options)
        else:
            kw = dict(options)
            if "betas" in kw:
                kw["betas"] = tuple(kw["betas"])
            opt = torch.optim.Adam(model.parameters(), **kw)
        model.train()
        record = []
        for _ in range(steps):
            x = draw(batch, sizes[0])
            labels = RNG.integers(0, sizes[-1], batch)
            opt.zero_grad()
            loss = F.cross_entropy(model(t(x)), torch.tensor(labels, dtype=torch.int64))
            loss.backward()
            opt.step()
            record.append({"x": x, "labels": np.asarray(labels, dtype=np.int64), "loss": np32(loss).item(),
                           "params": np.concatenate([np32(prm).ravel() for prm in model.parameters()]),
                           "running": [{"layer": i, "mean": np32(bn.running_mean), "var": np32(bn.running_var)}
                                       for i, bn in enumerate(bns)]})
        out.append({"reason": reason, "sizes": sizes, "activation": act, "optimizer": opt_name,
                    "options": options, "bn_momentum": momentum, "batch": batch,
                    "params": params0, "steps": record})
    return out


# ---------------------------------------------------------------------------------------

def section(name, cases):
    return f' "{name}": [\n' + ",\n".join("  " + dump(c) for c in cases) + "\n ]"


def main():
    torch.set_num_threads(1)
    sections = [
        ("linear", linear_cases()),
        ("activations", activation_cases()),
        ("cross_entropy", cross_entropy_cases()),
        ("mse", mse_cases()),
        ("penalty", penalty_cases()),
        ("batch_norm", bn_cases()),
        ("dropout", dropout_cases()),
        ("mlp", mlp_cases()),
        ("mlp_training", training_cases()),
    ]
    text = (
        "{\n"
        ' "generator": "tools/gen_fixtures.py",\n'
        f' "torch": "{torch.__version__}",\n'
        f' "numpy": "{np.__version__}",\n'
        ' "note": "float32 PyTorch on the CPU (1 thread), gradients by autograd; tensors flat,'
        ' row-major, batch first; see the generator\'s docstring for each section.",\n'
        + ",\n".join(section(n, c) for n, c in sections)
        + "\n}\n"
    )
    json.loads(text)  # refuse to write a broken file
    assert len(text) < 400_000, f"nn.json would be {len(text)} bytes"
    with open(OUT, "w") as f:
        f.write(text)
    counts = ", ".join(f"{len(c)} {n}" for n, c in sections)
    print(f"wrote {os.path.normpath(OUT)}: {counts}; {len(text)} bytes, torch {torch.__version__}",
          file=sys.stderr)
    gen_optim_fixtures.main()


if __name__ == "__main__":
    main()
