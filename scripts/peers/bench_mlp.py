"""Peers for `mooddex bench mlp`: one 300-epoch fit of the 10-8-4 MLP on the 686-row file,
with scikit-learn's MLPClassifier and a plain PyTorch loop (batch 200, Adam 1e-3).
Prints one JSON object. Development tool only. Keras/TensorFlow is not installed here.
"""
import json
import statistics
import sys
import time
import warnings

import numpy as np

path, repeats = sys.argv[1], int(sys.argv[2]) if len(sys.argv) > 2 else 5
features = ["length", "danceability", "acousticness", "energy", "instrumentalness",
            "liveness", "valence", "loudness", "speechiness", "tempo"]
import csv
rows = list(csv.DictReader(open(path)))
x = np.array([[float(r[f]) for f in features] for r in rows], dtype=np.float32)
x = (x - x.min(0)) / (x.max(0) - x.min(0))
moods = sorted(set(r["mood"] for r in rows))
y = np.array([moods.index(r["mood"]) for r in rows])
result = {}
try:
    import sklearn
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.neural_network import MLPClassifier
    warnings.simplefilter("ignore", ConvergenceWarning)
    times = []
    for seed in range(repeats + 1):
        model = MLPClassifier(hidden_layer_sizes=(8,), solver="adam", learning_rate_init=1e-3, batch_size=200, max_iter=300,
                              alpha=0.0, tol=0.0, n_iter_no_change=10**6, random_state=seed)
        t = time.perf_counter(); model.fit(x, y); times.append(time.perf_counter() - t)
    result["sklearn_s"] = statistics.median(times[1:])
    result["sklearn_version"] = sklearn.__version__
except ImportError:
    pass
try:
    import torch
    torch.set_num_threads(1)
    xt, yt = torch.tensor(x), torch.tensor(y)
    times = []
    for seed in range(repeats + 1):
        torch.manual_seed(seed)
        model = torch.nn.Sequential(torch.nn.Linear(10, 8), torch.nn.ReLU(), torch.nn.Linear(8, 4))
        optimiser = torch.optim.Adam(model.parameters(), lr=1e-3, eps=1e-7)
        t = time.perf_counter()
        for epoch in range(300):
            order = torch.randperm(len(xt))
            for start in range(0, len(xt), 200):
                idx = order[start:start + 200]
                optimiser.zero_grad()
                torch.nn.functional.cross_entropy(model(xt[idx]), yt[idx]).backward()
                optimiser.step()
        times.append(time.perf_counter() - t)
    result["pytorch_s"] = statistics.median(times[1:])
    result["pytorch_version"] = torch.__version__.split("+")[0]
except ImportError:
    pass
print(json.dumps(result))
