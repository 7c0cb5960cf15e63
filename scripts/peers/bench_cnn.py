"""PyTorch peer for `mooddex bench cnn`: MoodCNN on random inputs, same shapes and threads.

Called by the Swift benchmark (with jemalloc preloaded when installed); prints one JSON
object. Development tool only: scripts/setup-peers torch installs PyTorch in .venv-peers.
"""
import argparse
import json
import os
import statistics
import time

import torch

parser = argparse.ArgumentParser()
parser.add_argument("--batch", type=int, default=32)
parser.add_argument("--steps", type=int, default=5)
parser.add_argument("--threads", type=int, default=2)
parser.add_argument("--classes", type=int, default=4)
VARIANTS = {  # name: (memory format, bf16 autocast, torch.compile)
    "contiguous": (torch.contiguous_format, False, False),
    "channels_last": (torch.channels_last, False, False),
    "channels_last_bf16": (torch.channels_last, True, False),
    "channels_last_compiled": (torch.channels_last, False, True),
}
parser.add_argument("--variants", nargs="+", choices=list(VARIANTS), default=list(VARIANTS))
args = parser.parse_args()
torch.set_num_threads(args.threads)
torch.manual_seed(0)


class GlobalAveragePool(torch.nn.Module):
    def forward(self, x):
        return x.mean(dim=(2, 3))


def mood_cnn(classes):
    layers, width = [], 1
    for c, pool in zip((32, 64, 128, 128), [(2, 4), (2, 4), (2, 4), (3, 5)]):
        layers += [torch.nn.Conv2d(width, c, 3, padding=1, bias=False), torch.nn.BatchNorm2d(c),
                   torch.nn.ReLU(), torch.nn.MaxPool2d(pool)]
        width = c
    layers += [GlobalAveragePool(), torch.nn.Dropout(0.3), torch.nn.Linear(width, classes)]
    return torch.nn.Sequential(*layers)


def reset_peak():
    """Resets VmHWM to the current resident size (Linux), so each variant reports its own peak."""
    with open("/proc/self/clear_refs", "w") as f:
        f.write("5")


def peak_bytes():
    with open("/proc/self/status") as f:
        return next(int(line.split()[1]) * 1024 for line in f if line.startswith("VmHWM:"))


def measure(memory_format, bf16=False, compiled=False):
    reset_peak()
    model = mood_cnn(args.classes).to(memory_format=memory_format)
    x = torch.randn(args.batch, 1, 96, 1292).to(memory_format=memory_format)
    y = torch.arange(args.batch) % args.classes
    optimiser = torch.optim.AdamW(model.parameters(), lr=1e-3, betas=(0.9, 0.99), eps=1e-5, weight_decay=0.01)

    # bf16 autocast: PyTorch's documented mixed precision on CPU (oneDNN bf16 kernels where the CPU has them).
    autocast = lambda: torch.autocast("cpu", dtype=torch.bfloat16, enabled=bf16)

    # torch.compile (inductor, default mode): compiled once for training and once for inference,
    # during the warm-up steps, which are not timed.
    forward = torch.compile(model) if compiled else model

    def train_step():
        optimiser.zero_grad(set_to_none=True)
        with autocast():
            loss = torch.nn.functional.cross_entropy(forward(x), y)
        loss.backward()
        optimiser.step()

    model.train()
    for _ in range(3 if compiled else 1):  # warm-up (compiled: compiles, then twice more for any recompile)
        train_step()
    train = []
    for _ in range(args.steps):
        t = time.perf_counter(); train_step(); train.append(time.perf_counter() - t)
    model.eval()
    with torch.inference_mode(), autocast():
        for _ in range(3 if compiled else 1):
            forward(x)
        infer = []
        for _ in range(args.steps):
            t = time.perf_counter(); forward(x); infer.append(time.perf_counter() - t)
    return args.batch / statistics.median(train), args.batch / statistics.median(infer), peak_bytes()


result = {"version": torch.__version__.split("+")[0], "threads": torch.get_num_threads(),
          "jemalloc": "jemalloc" in os.environ.get("LD_PRELOAD", ""), "malloc_conf": os.environ.get("MALLOC_CONF", "")}
for name in args.variants:
    result[f"{name}_train"], result[f"{name}_infer"], result[f"{name}_peak_rss_bytes"] = measure(*VARIANTS[name])
print(json.dumps(result))
