"""PyTorch's side of `cargo xtask bench`: the training step Descent's bench times, in eager
PyTorch on one thread, with the default Adam and with `Adam(fused=True)`.

The same network (784-256-128-10, ReLU, PyTorch's default init), the same loss (mean softmax
cross-entropy), batch 64, lr 1e-3, on the first 7,000 digits of the notebook's MNIST file,
shuffled per epoch. Each round builds a fresh model and optimizer, takes 16 warm-up steps and
then times 80 (the rounds of `bench/bench.mjs` do the same), alternating the two optimizers so
that both see the same machine. Prints one JSON object:
{"torch": version, "threads": 1, "default": [samples/s per round], "fused": [...]}.

Run by bench.mjs only when `python3 -c "import torch"` works; it never installs anything.
Usage: python3 bench/torch_step.py DIST_DATA_DIR [ROUNDS]
"""

import gzip
import json
import sys
import time

import torch

BATCH, WARM, TIMED, N = 64, 16, 80, 7000


def load(data_dir):
    with gzip.open(f"{data_dir}/mnist-images-idx3-ubyte.gz") as f:
        raw = f.read()
    with gzip.open(f"{data_dir}/mnist-labels-idx1-ubyte.gz") as f:
        lab = f.read()
    x = torch.frombuffer(bytearray(raw[16 : 16 + N * 784]), dtype=torch.uint8).float().div_(255.0).view(N, 784)
    y = torch.frombuffer(bytearray(lab[8 : 8 + N]), dtype=torch.uint8).long()
    return x, y


def round_rate(x, y, fused, seed):
    torch.manual_seed(seed)
    model = torch.nn.Sequential(
        torch.nn.Linear(784, 256), torch.nn.ReLU(), torch.nn.Linear(256, 128), torch.nn.ReLU(), torch.nn.Linear(128, 10)
    )
    opt = torch.optim.Adam(model.parameters(), lr=1e-3, fused=True) if fused else torch.optim.Adam(model.parameters(), lr=1e-3)
    loss_fn = torch.nn.CrossEntropyLoss()
    order = torch.randperm(N)

    def step(i):
        idx = order[(i * BATCH) % (N - BATCH) :][:BATCH]
        opt.zero_grad(set_to_none=True)
        loss = loss_fn(model(x[idx]), y[idx])
        loss.backward()
        opt.step()
        return loss

    for i in range(WARM):
        step(i)
    t0 = time.perf_counter()
    for i in range(WARM, WARM + TIMED):
        loss = step(i)
    loss.item()
    return TIMED * BATCH / (time.perf_counter() - t0)


def main():
    data_dir = sys.argv[1]
    rounds = int(sys.argv[2]) if len(sys.argv) > 2 else 5
    torch.set_num_threads(1)
    x, y = load(data_dir)
    out = {"torch": torch.__version__, "threads": torch.get_num_threads(), "default": [], "fused": []}
    for r in range(rounds):
        for fused in (False, True):
            out["fused" if fused else "default"].append(round_rate(x, y, fused, r))
    print(json.dumps(out))


if __name__ == "__main__":
    main()
