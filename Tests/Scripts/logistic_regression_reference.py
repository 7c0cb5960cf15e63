"""scikit-learn's penalised multinomial logistic regression and its grid search over C: the
independent reference of MoodTraining's LogisticRegression and PenaltySearch.

Run once by a developer (scikit-learn from pip, e.g. the venv of musicnn_reference.py):
    python Tests/Scripts/logistic_regression_reference.py
It writes Tests/MoodTensorTests/Fixtures/logistic-regression-reference.json: a small synthetic
data set (written out, so Swift needs no random generator of NumPy's), StandardScaler +
LogisticRegression(lbfgs, multinomial, tol 1e-10) probabilities for C in {0.01, 1, 100}, and the
held-out log loss of every C of the grid over three explicit folds (GridSearchCV, neg_log_loss).
"""
import json
import os

import numpy as np
import sklearn
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

ROOT = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
OUT = os.path.join(ROOT, "Tests", "MoodTensorTests", "Fixtures", "logistic-regression-reference.json")

rng = np.random.default_rng(20221)
rows, features, classes = 90, 6, 3
centres = rng.normal(0, 1.0, (classes, features))
y = np.arange(rows) % classes
x = centres[y] + rng.normal(0, 1.5, (rows, features)) * rng.uniform(0.5, 3, features) + rng.uniform(-5, 5, features)
x = np.round(x, 6)
test = np.round(rng.normal(0, 2, (5, features)), 6)


def model(c):
    return make_pipeline(StandardScaler(), LogisticRegression(C=c, tol=1e-10, max_iter=100000))


fits = []
for c in [0.01, 1.0, 100.0]:
    m = model(c).fit(x, y)
    fits.append({"C": c, "probabilities": m.predict_proba(test).tolist()})

grid = [0.001, 0.003, 0.01, 0.03, 0.1, 0.3, 1, 3, 10]
folds = [[i for i in range(rows) if (i // 3) % 3 == k] for k in range(3)]  # every class in every fold
splits = [(np.setdiff1d(np.arange(rows), f), np.array(f)) for f in folds]
search = GridSearchCV(model(1.0), {"logisticregression__C": grid}, cv=splits, scoring="neg_log_loss").fit(x, y)
result = {
    "script": "Tests/Scripts/logistic_regression_reference.py",
    "sklearn": sklearn.__version__,
    "x": x.tolist(), "y": y.tolist(), "classes": classes, "test": test.tolist(),
    "fits": fits,
    "grid": grid, "folds": folds,
    "mean_log_loss": (-search.cv_results_["mean_test_score"]).tolist(),
    "best_C": search.best_params_["logisticregression__C"],
}
with open(OUT, "w") as f:
    json.dump(result, f, indent=1)
print("wrote", OUT, "best C", result["best_C"])
