"""scikit-learn's MLPClassifier on the KerasClassifier protocol, the independent check of
the ch3-keras-comparison experiment.

Run once by a developer with the data root at hand (scikit-learn comes from pip):
    .venv-peers/bin/python Tests/Scripts/sklearn_reference.py ../shared/data
It writes experiments/ch3-keras-comparison/sklearn-reference.json (accuracies only, no data).

Configuration (the article's): 10 features, MinMax scaling fitted on all rows, one hidden
layer of 8 ReLU units, softmax output, Adam at 0.001, batch 200, 300 epochs, no weight
decay, no early stopping, 10-fold shuffled cross-validation; seeds 0-4.
"""
import json
import os
import sys
import warnings

import numpy as np
import pandas as pd
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import KFold, cross_val_score
from sklearn.neural_network import MLPClassifier
from sklearn.preprocessing import LabelEncoder, MinMaxScaler

warnings.simplefilter("ignore", ConvergenceWarning)
root = sys.argv[1] if len(sys.argv) > 1 else "../shared/data"
features = ["length", "danceability", "acousticness", "energy", "instrumentalness",
            "liveness", "valence", "loudness", "speechiness", "tempo"]
result = {"configuration": "MLPClassifier(8 relu, adam 1e-3, batch 200, 300 epochs, alpha 0), "
                           "MinMax on all rows, KFold(10, shuffle) per seed, seeds 0-4"}
for name in ["data_moods_800.csv", "data_moods.csv"]:
    table = pd.read_csv(os.path.join(root, "spotify-moods", name))
    x = MinMaxScaler().fit_transform(table[features].values)
    y = LabelEncoder().fit_transform(table["mood"])
    means = []
    for seed in range(5):
        model = MLPClassifier(hidden_layer_sizes=(8,), activation="relu", solver="adam", learning_rate_init=1e-3,
                              batch_size=200, max_iter=300, alpha=0.0, tol=0.0, n_iter_no_change=10**6,
                              random_state=seed)
        scores = cross_val_score(model, x, y, cv=KFold(n_splits=10, shuffle=True, random_state=seed))
        means.append(float(np.mean(scores)))
    result[name] = {"rows": int(len(table)), "seed_means": means, "mean": float(np.mean(means)), "sd": float(np.std(means, ddof=1))}
    print(name, len(table), "mean %.4f sd %.4f" % (np.mean(means), np.std(means, ddof=1)))
import sklearn
result["scikit_learn"] = sklearn.__version__
with open(os.path.join(os.path.dirname(__file__), "..", "..", "experiments", "ch3-keras-comparison", "sklearn-reference.json"), "w") as f:
    json.dump(result, f, indent=2, sort_keys=True)
    f.write("\n")
