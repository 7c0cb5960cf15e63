"""Writes the PyTorch reference tensors the MoodTensor tests compare against.

Run once by a developer (PyTorch comes from `scripts/setup-peers torch`):
    .venv-peers/bin/python Tests/Scripts/torch_reference.py
It overwrites Tests/MoodTensorTests/Fixtures/torch-*.safetensors.

1. MoodCNN (same layer order and names as the Swift model, dropout 0 so that training
   mode is deterministic) on a small input [2, 1, 24, 320]: weights, logits, loss,
   every parameter's gradient, and the batch-norm running statistics after the step.
2. One Adam step and one AdamW step from those gradients.
3. OneCycleLR's learning rates and momenta over 100 steps (fastai's defaults).
"""
import os

import torch
from safetensors.torch import save_file

torch.manual_seed(2022)
torch.use_deterministic_algorithms(True)
out = os.path.join(os.path.dirname(__file__), "..", "MoodTensorTests", "Fixtures")


class GlobalAveragePool(torch.nn.Module):
    def forward(self, x):
        return x.mean(dim=(2, 3))


def mood_cnn(classes, channels=(4, 8, 8, 8), dropout=0.0):
    layers, width = [], 1
    for c, pool in zip(channels, [(2, 4), (2, 4), (2, 4), (3, 5)]):
        layers += [torch.nn.Conv2d(width, c, 3, padding=1, bias=False), torch.nn.BatchNorm2d(c),
                   torch.nn.ReLU(), torch.nn.MaxPool2d(pool)]
        width = c
    layers += [GlobalAveragePool(), torch.nn.Dropout(dropout), torch.nn.Linear(width, classes)]
    return torch.nn.Sequential(*layers)


model = mood_cnn(4).train()
for m in model.modules():  # non-trivial batch-norm parameters, so their gradients mean something
    if isinstance(m, torch.nn.BatchNorm2d):
        m.weight.data.uniform_(0.5, 1.5)
        m.bias.data.uniform_(-0.2, 0.2)
x = torch.randn(2, 1, 24, 320)
targets = torch.tensor([1, 3])
initial = {f"weights.{k}": v.detach().clone() for k, v in model.state_dict().items() if "num_batches" not in k}
logits = model(x)
loss = torch.nn.functional.cross_entropy(logits, targets)
loss.backward()

tensors = dict(initial)
tensors["input"] = x
tensors["targets"] = targets.to(torch.float32)
tensors["logits"] = logits.detach()
tensors["loss"] = loss.detach().reshape(1)
for name, p in model.named_parameters():
    tensors[f"grad.{name}"] = p.grad.detach().clone()
for name, b in model.state_dict().items():
    if "running" in name:
        tensors[f"after.{name}"] = b.detach().clone()

for label, make in [("adam", lambda ps: torch.optim.Adam(ps, lr=1e-3, betas=(0.9, 0.99), eps=1e-5, weight_decay=0.01)),
                    ("adamw", lambda ps: torch.optim.AdamW(ps, lr=1e-3, betas=(0.9, 0.99), eps=1e-5, weight_decay=0.01))]:
    params = [p.detach().clone().requires_grad_(True) for p in model.parameters()]
    for p, q in zip(params, model.parameters()):
        p.grad = q.grad.detach().clone()
    optimiser = make(params)
    optimiser.step()
    optimiser.step()  # a second step with the same gradients exercises the bias corrections
    for (name, _), p in zip(model.named_parameters(), params):
        tensors[f"{label}.{name}"] = p.detach().clone()
save_file({k: v.contiguous().to(torch.float32) for k, v in tensors.items()}, os.path.join(out, "torch-moodcnn.safetensors"))

# fastai's fit_one_cycle defaults: div 25, div_final 1e5, pct_start 0.25, moms (0.95, 0.85, 0.95), cosine.
p = torch.nn.Parameter(torch.zeros(1))
optimiser = torch.optim.Adam([p], lr=1e-2, betas=(0.95, 0.99))
schedule = torch.optim.lr_scheduler.OneCycleLR(optimiser, max_lr=1e-2, total_steps=100, pct_start=0.25,
                                               div_factor=25, final_div_factor=1e5, base_momentum=0.85, max_momentum=0.95)
lrs, moms = [], []
for _ in range(100):
    lrs.append(optimiser.param_groups[0]["lr"])
    moms.append(optimiser.param_groups[0]["betas"][0])
    optimiser.step()
    schedule.step()
save_file({"lr": torch.tensor(lrs, dtype=torch.float64), "momentum": torch.tensor(moms, dtype=torch.float64)},
          os.path.join(out, "torch-onecycle.safetensors"))
print("torch", torch.__version__, "loss", loss.item())
