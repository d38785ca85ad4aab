"""Reference values for tests/init.rs, printed from PyTorch's torch.nn.init.

Usage: python3 tools/gen_init_notes.py   (needs torch; nothing is written to disk)

The Rust tests compare against closed-form formulas, and our random streams differ from
PyTorch's, so the comparison is in distribution: this prints calculate_gain values (pasted
above `gains_match_pytorch`) and the sample mean/variance PyTorch gets for each scheme on a
(fan_out=300, fan_in=400) weight, next to the formula the Rust test uses.
"""
import math

import torch
from torch import nn
from torch.nn import init

FAN_IN, FAN_OUT = 400, 300

print("# calculate_gain")
for name, param in [("linear", None), ("conv2d", None), ("sigmoid", None), ("tanh", None),
                    ("relu", None), ("relu", 3.0), ("leaky_relu", None), ("leaky_relu", 0.2),
                    ("leaky_relu", math.sqrt(5)), ("leaky_relu", 0.0), ("selu", None)]:
    print(f"calculate_gain({name!r}, {param!r}) = {init.calculate_gain(name, param)!r}")

print("\n# (fan_out, fan_in) = (300, 400): torch sample mean/var vs the formula")
fi, fo = float(FAN_IN), float(FAN_OUT)
schemes = [
    ("uniform_(0, 1)", lambda w: init.uniform_(w), 0.5, 1 / 12),
    ("normal_(0, 1)", lambda w: init.normal_(w), 0.0, 1.0),
    ("xavier_uniform_", lambda w: init.xavier_uniform_(w), 0.0, 2 / (fi + fo)),
    ("xavier_normal_", lambda w: init.xavier_normal_(w), 0.0, 2 / (fi + fo)),
    ("kaiming_uniform_ (relu)", lambda w: init.kaiming_uniform_(w, nonlinearity="relu"), 0.0, 2 / fi),
    ("kaiming_normal_ (relu)", lambda w: init.kaiming_normal_(w, nonlinearity="relu"), 0.0, 2 / fi),
    ("nn.Linear default", lambda w: init.kaiming_uniform_(w, a=math.sqrt(5)), 0.0, 1 / (3 * fi)),
]
torch.manual_seed(0)
for label, fill, mean, var in schemes:
    w = torch.empty(FAN_OUT, FAN_IN, dtype=torch.float64)
    fill(w)
    print(f"{label:26s} mean {w.mean().item():+.5f} (formula {mean:+.5f})  "
          f"var {w.var(unbiased=False).item():.6g} (formula {var:.6g})  max|w| {w.abs().max().item():.6g}")

layer = nn.Linear(FAN_IN, FAN_OUT)
print(f"\nnn.Linear({FAN_IN}, {FAN_OUT}): max|weight| {layer.weight.abs().max().item():.6g}, "
      f"max|bias| {layer.bias.abs().max().item():.6g}, bound 1/sqrt(fan_in) = {1 / math.sqrt(fi):.6g}")
