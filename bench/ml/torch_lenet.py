#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""The CNN of the ml benchmark: torch_lenet.py OUT.onnx THREADS SECONDS BATCH...

Exports the LeNet-style CNN of tests/ml/models.py (untrained: the latency is the same) with
dynamic batch, then times python3-torch eager inference (torch.no_grad, THREADS threads) at each
BATCH and prints one JSON line per batch, as bench/ml/ml_bench does.
"""
import json
import sys
import time

import torch

out, threads, seconds = sys.argv[1], int(sys.argv[2]), float(sys.argv[3])
torch.manual_seed(17)
torch.set_num_threads(threads)
nn = torch.nn
model = nn.Sequential(
    nn.Conv2d(1, 6, 5, padding=2), nn.ReLU(), nn.MaxPool2d(2),
    nn.Conv2d(6, 16, 5), nn.ReLU(), nn.MaxPool2d(2),
    nn.Flatten(), nn.Linear(400, 120), nn.ReLU(), nn.Linear(120, 84), nn.ReLU(),
    nn.Linear(84, 10), nn.Softmax(dim=1)).eval()
torch.onnx.export(model, torch.zeros(1, 1, 28, 28), out, input_names=["image"],
                  output_names=["probabilities"], opset_version=13,
                  dynamic_axes={"image": {0: "N"}, "probabilities": {0: "N"}})
for batch in map(int, sys.argv[4:]):
    x = torch.rand(batch, 1, 28, 28)
    ms = []
    with torch.no_grad():
        model(x)
        start, cpu0 = time.monotonic(), time.process_time()
        while len(ms) < 5 or time.monotonic() - start < seconds:
            a = time.monotonic()
            model(x)
            ms.append((time.monotonic() - a) * 1e3)
        wall, cpu = time.monotonic() - start, time.process_time() - cpu0
    ms.sort()
    print(json.dumps({"batch": batch, "threads": threads, "runs": len(ms),
                      "ms_median": round(ms[len(ms) // 2], 4), "ms_min": round(ms[0], 4),
                      "cpu_ms_per_batch": round(cpu / len(ms) * 1e3, 4),
                      "rows_per_s": round(batch * len(ms) / wall, 1)}))
