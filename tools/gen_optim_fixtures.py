#!/usr/bin/env python3
"""Write tests/fixtures/optim.json: reference trajectories from real torch.optim.

Run from the repository root:

    python3 tools/gen_optim_fixtures.py

Needs torch (2.x) and numpy. The fixture records the versions that produced it; the
committed one came from torch 2.15.0 (CPU, AVX512 kernels) and numpy 2.4.6.

Every case steps one float32 parameter vector of 7 weights with a fixed sequence of 12
gradient vectors, set by hand as p.grad (no autograd), and records the parameters after
every step and the optimizer's state tensors after the last step. The gradient columns are
built to exercise the branches that matter: a weight whose gradient never changes sign (so
Rprop's step size grows to its ceiling), one that alternates (so it shrinks to its floor),
zeros, a sign flip every third step, and mixed magnitudes.

tests/optim.rs replays each case through descent::optim::build with the same options and
compares. PyTorch runs its single-tensor (for-loop) implementation (foreach=False), the
same elementwise rules our flat-vector optimizers implement.
"""

import json
import os
import sys

import numpy as np
import torch

OUT = os.path.join(os.path.dirname(__file__), "..", "tests", "fixtures", "optim.json")

STEPS = 12
WEIGHTS = 7

# One row per case: (optimizer name, options as PyTorch keyword arguments, learning-rate
# changes {step index: new lr} applied before that step, reason).
CASES = [
    ("sgd", {}, {}, "PyTorch 2.x defaults (lr 1e-3)"),
    ("sgd", {"lr": 0.1}, {}, "plain gradient descent"),
    ("sgd", {"lr": 0.1, "momentum": 0.9}, {}, "heavy-ball momentum; buffer starts as g"),
    ("sgd", {"lr": 0.05, "momentum": 0.9, "dampening": 0.5}, {}, "dampening skips step 1"),
    ("sgd", {"lr": 0.05, "momentum": 0.9, "nesterov": True}, {}, "Nesterov look-ahead"),
    ("sgd", {"lr": 0.1, "weight_decay": 0.1}, {}, "L2 decay folded into the gradient"),
    ("sgd", {"lr": 0.1, "momentum": 0.5, "weight_decay": 0.01, "nesterov": True,
             "maximize": True}, {}, "everything at once, climbing"),
    ("sgd", {"lr": 0.1, "momentum": 0.9}, {6: 0.01}, "lr changed mid-run keeps the buffer"),
    ("rprop", {}, {}, "defaults"),
    ("rprop", {"lr": 0.1, "etas": [0.3, 3.0], "step_sizes": [1e-3, 2.0]}, {},
     "factors large enough to hit both step-size clamps within 12 steps"),
    ("rprop", {"lr": 100.0}, {}, "initial step size above the ceiling is clamped"),
    ("rprop", {"lr": 0.05, "maximize": True}, {}, "climbing"),
    ("rprop", {"lr": 0.1}, {4: 1.0}, "lr changed mid-run has no effect (it only seeds)"),
    ("rmsprop", {}, {}, "defaults"),
    ("rmsprop", {"lr": 0.01, "alpha": 0.9}, {}, "faster-moving mean square"),
    ("rmsprop", {"lr": 0.01, "alpha": 0.3}, {}, "alpha < 0.5 takes lerp's other branch"),
    ("rmsprop", {"centered": True}, {}, "centred: divide by a std estimate"),
    ("rmsprop", {"momentum": 0.9}, {}, "momentum buffer of scaled gradients"),
    ("rmsprop", {"lr": 0.02, "centered": True, "momentum": 0.5, "weight_decay": 0.1}, {},
     "centred + momentum + L2"),
    ("rmsprop", {"maximize": True, "eps": 1e-3}, {}, "climbing with a large eps"),
    ("adam", {}, {}, "defaults"),
    ("adam", {"lr": 0.1}, {}, "large lr"),
    ("adam", {"lr": 0.05, "betas": [0.5, 0.9], "eps": 1e-6}, {}, "short memories"),
    ("adam", {"lr": 0.05, "weight_decay": 0.1}, {}, "L2 decay (coupled)"),
    ("adam", {"lr": 0.05, "amsgrad": True}, {}, "AMSGrad running maximum"),
    ("adam", {"lr": 0.05, "maximize": True}, {}, "climbing"),
    ("adam", {"lr": 0.05, "amsgrad": True, "weight_decay": 0.05, "maximize": True}, {},
     "AMSGrad + L2 + climbing"),
    ("adam", {"lr": 0.05, "weight_decay": 0.1, "decoupled_weight_decay": True}, {},
     "Adam's own switch for AdamW behaviour"),
    ("adam", {"lr": 0.1}, {5: 0.01}, "lr changed mid-run keeps the moments"),
    ("adamw", {}, {}, "defaults (weight_decay 1e-2)"),
    ("adamw", {"lr": 0.1, "weight_decay": 0.1}, {}, "strong decoupled decay"),
    ("adamw", {"lr": 0.05, "weight_decay": 0.5, "amsgrad": True, "maximize": True}, {},
     "AMSGrad + decoupled decay + climbing"),
]

CLASSES = {
    "sgd": torch.optim.SGD,
    "rprop": torch.optim.Rprop,
    "rmsprop": torch.optim.RMSprop,
    "adam": torch.optim.Adam,
    "adamw": torch.optim.AdamW,
}


def gradients():
    """(STEPS, WEIGHTS) float32 gradients, one column per behaviour."""
    rng = np.random.default_rng(20240601)
    mag = rng.uniform(0.05, 2.0, size=(STEPS, WEIGHTS))
    t = np.arange(STEPS)
    sign = np.ones((STEPS, WEIGHTS))
    sign[:, 0] = 1.0                                  # never flips: step sizes grow
    sign[:, 1] = np.where(t % 2 == 0, 1.0, -1.0)      # flips every step: they shrink
    sign[:, 2] = np.where(t % 3 == 2, 0.0, 1.0)       # exact zeros
    sign[:, 3] = np.where((t // 3) % 2 == 0, 1.0, -1.0)  # flips every third step
    sign[:, 4] = -1.0                                 # never flips, negative
    sign[:, 5] = rng.choice([-1.0, 1.0], size=STEPS)  # random signs
    sign[:, 6] = np.where(t % 4 == 3, -1.0, 1.0)      # mostly positive, one flip in four
    g = mag * sign
    g[:, 6] *= np.where(t % 4 == 3, 3.0, 0.1)         # small +, large − (Rprop's blind spot)
    # Round to 4 decimals so the fixture reads easily; values are then exact float32.
    return np.round(g, 4).astype(np.float32)


INITIAL = np.array([0.5, -1.2, 0.0, 2.0, -0.3, 1.0, 0.75], dtype=np.float32)


def fmt(x):
    """Shortest decimal that reads back (through f64, as serde_json does) as the same f32."""
    x = np.float32(x)
    s = np.format_float_positional(x, unique=True, trim="-") if abs(x) >= 1e-4 or x == 0 \
        else np.format_float_scientific(x, unique=True, trim="-")
    if np.float32(float(s)) != x:
        s = repr(float(x))  # exact in f64, so exact after the cast
    assert np.float32(float(s)) == x
    return s


def arr(values):
    return "[" + ", ".join(fmt(v) for v in np.asarray(values).ravel()) + "]"


def run(name, options, lr_changes):
    p = torch.tensor(INITIAL.copy(), dtype=torch.float32, requires_grad=True)
    kwargs = dict(options)
    if "betas" in kwargs:
        kwargs["betas"] = tuple(kwargs["betas"])
    if "etas" in kwargs:
        kwargs["etas"] = tuple(kwargs["etas"])
    if "step_sizes" in kwargs:
        kwargs["step_sizes"] = tuple(kwargs["step_sizes"])
    opt = CLASSES[name]([p], foreach=False, **kwargs)
    after = []
    for t, g in enumerate(gradients()):
        if t in lr_changes:
            for group in opt.param_groups:
                group["lr"] = lr_changes[t]
        p.grad = torch.tensor(g)
        opt.step()
        after.append(p.detach().numpy().copy())
    state = {k: v.detach().numpy().copy() for k, v in opt.state[p].items()
             if k != "step" and v is not None}
    step = opt.state[p].get("step")
    step = None if step is None else int(step.item())
    return np.array(after), state, step


def main():
    lines = []
    for name, options, lr_changes, reason in CASES:
        after, state, step = run(name, options, lr_changes)
        assert np.isfinite(after).all(), (name, options)
        state_json = "{" + ", ".join(f'"{k}": {arr(v)}' for k, v in sorted(state.items())) + "}"
        lines.append(
            "  {"
            f'"optimizer": "{name}", "options": {json.dumps(options)}, '
            f'"set_lr": {json.dumps([[t, lr] for t, lr in sorted(lr_changes.items())])}, '
            f'"reason": {json.dumps(reason)},\n'
            f'   "after": [{", ".join(arr(row) for row in after)}],\n'
            f'   "state": {state_json}, "step": {json.dumps(step)}}}'
        )
    grads = gradients()
    text = (
        "{\n"
        f' "generator": "tools/gen_optim_fixtures.py",\n'
        f' "torch": "{torch.__version__}",\n'
        f' "numpy": "{np.__version__}",\n'
        ' "note": "PyTorch single-tensor optimizers (foreach=False) on one float32 vector;'
        ' after[t] = parameters after step t+1; set_lr = [[step index, lr]] applied before'
        ' that step; state after the last step (step = PyTorch\'s state[\\"step\\"]).",\n'
        f' "initial": {arr(INITIAL)},\n'
        f' "grads": [{", ".join(arr(row) for row in grads)}],\n'
        ' "cases": [\n' + ",\n".join(lines) + "\n ]\n}\n"
    )
    json.loads(text)  # refuse to write a broken file
    with open(OUT, "w") as f:
        f.write(text)
    print(f"wrote {os.path.normpath(OUT)}: {len(CASES)} cases, {len(text)} bytes, "
          f"torch {torch.__version__}", file=sys.stderr)


if __name__ == "__main__":
    main()
