"""The reference the Swift musicnn transfer experiment should reproduce: MSD_musicnn embeddings
of the 4Q clips and a standardised logistic regression over artist-grouped folds.

Run once by a developer with the data at hand (TensorFlow and scikit-learn from pip, e.g. the
venv of Tests/Scripts/musicnn_reference.py; the musicnn 0.1.0 wheel unpacked in the cache):
    nice -n 10 .venv-tf/bin/python Tests/Scripts/musicnn_embedding_baseline.py [/work/shared/data/4q]
It caches the features in .cache/mooddex/musicnn-4q-features.npz (not committed; delete it to
recompute) and writes experiments/ch3-four-moods/musicnn-embedding-reference.json (numbers only).

Per clip, as musicnn's extractor.py does: librosa.load at 16 kHz mono, mel power (n_fft 512, hop 256,
96 Slaney bands, pad_mode "reflect"), rounded to float16, log10(10000 x + 1) in float32 (what
extractor.py computes under NumPy 1.x), non-overlapping 187-frame patches (remainder dropped);
the 200-d `penultimate` output of MSD_musicnn averaged over the clip's patches.
The "numpy2_extractor" variant shows what extractor.py computes under NumPy >= 2 (NEP 50): the
log stays in float16 and overflows to inf wherever a mel band's power exceeds 6.55.
Classifier: StandardScaler + LogisticRegression (lbfgs, C 1, max_iter 5000), fitted per fold;
GroupKFold(5) by artist (deterministic); Q1 happy, Q2 energetic, Q3 sad, Q4 calm (FourQ.swift).
Deterministic: no randomness beyond TensorFlow's float arithmetic.
"""
import csv
import json
import os
import sys
import time

os.environ.setdefault("TF_USE_LEGACY_KERAS", "1")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import librosa
import numpy as np
import sklearn
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GroupKFold
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

ROOT = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
DATA = sys.argv[1] if len(sys.argv) > 1 else "/work/shared/data/4q"
MUSICNN = os.path.join(ROOT, ".cache", "mooddex", "pretrained", "musicnn-0.1.0")
CACHE = os.path.join(ROOT, ".cache", "mooddex", "musicnn-4q-features.npz")
OUT = os.path.join(ROOT, "experiments", "ch3-four-moods", "musicnn-embedding-reference.json")
MOODS = ["happy", "sad", "calm", "energetic"]                 # FourQ.moods
QUADRANT_MOOD = {"Q1": 0, "Q2": 3, "Q3": 1, "Q4": 2}          # FourQ.quadrantMood
sys.path.insert(0, MUSICNN)

import tensorflow as tf  # noqa: E402

tf.compat.v1.disable_eager_execution()
tf.compat.v1.logging.set_verbosity(tf.compat.v1.logging.ERROR)
from musicnn import models  # noqa: E402


def read_metadata():
    with open(os.path.join(DATA, "metadata.csv"), newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    return ([r["Song"] for r in rows], [r["Artist"] for r in rows], [r["Quadrant"] for r in rows])


def log_mel(path):
    audio, sr = librosa.load(path, sr=16000)
    rep = librosa.feature.melspectrogram(y=audio, sr=sr, hop_length=256, n_fft=512, n_mels=96, pad_mode="reflect").T
    rep16 = rep.astype(np.float16)
    reference = np.log10(np.float32(10000) * rep16.astype(np.float32) + np.float32(1))
    with np.errstate(over="ignore"):
        numpy2 = np.log10(np.float16(10000) * rep16 + np.float16(1)).astype(np.float32)
    return reference, numpy2


def patches(mel):
    return np.stack([mel[s:s + 187] for s in range(0, mel.shape[0] - 187 + 1, 187)])


def features():
    if os.path.exists(CACHE):
        return dict(np.load(CACHE))
    ids, _, quadrants = read_metadata()
    tf.compat.v1.reset_default_graph()
    with tf.name_scope("model"):
        x = tf.compat.v1.placeholder(tf.float32, [None, 187, 96])
        is_training = tf.compat.v1.placeholder(tf.bool)
        penultimate = models.define_model(x, is_training, "MSD_musicnn", 50)[-1]
    config = tf.compat.v1.ConfigProto(intra_op_parallelism_threads=2, inter_op_parallelism_threads=1)
    emb, emb2, infs, npatches = [], [], [], []
    start = time.time()
    with tf.compat.v1.Session(config=config) as sess:
        tf.compat.v1.train.Saver().restore(sess, os.path.join(MUSICNN, "musicnn", "MSD_musicnn") + "/")
        for i, (song, q) in enumerate(zip(ids, quadrants)):
            reference, numpy2 = log_mel(os.path.join(DATA, q, song + ".mp3"))
            batch = patches(reference)
            e = sess.run(penultimate, {x: batch, is_training: False}).mean(axis=0)
            n_inf = int(np.isinf(numpy2[:len(batch) * 187]).sum())
            e2 = sess.run(penultimate, {x: patches(numpy2), is_training: False}).mean(axis=0) if n_inf else e
            emb.append(e); emb2.append(e2); infs.append(n_inf); npatches.append(len(batch))
            if i % 50 == 0:
                print(f"{i}/{len(ids)} clips, {time.time() - start:.0f} s", flush=True)
    result = {"ids": np.array(ids), "reference": np.array(emb, np.float32), "numpy2": np.array(emb2, np.float32),
              "inf_cells": np.array(infs), "patches": np.array(npatches), "seconds": np.array(time.time() - start)}
    os.makedirs(os.path.dirname(CACHE), exist_ok=True)
    np.savez(CACHE, **result)
    return result


def evaluate(X, y, groups):
    predicted = np.zeros_like(y)
    fold_accuracy = []
    for train, test in GroupKFold(n_splits=5).split(X, y, groups):
        model = make_pipeline(StandardScaler(), LogisticRegression(C=1.0, max_iter=5000))
        model.fit(X[train], y[train])
        predicted[test] = model.predict(X[test])
        fold_accuracy.append(float(np.mean(predicted[test] == y[test])))
    return {"accuracy": float(np.mean(predicted == y)),
            "fold_accuracy": fold_accuracy,
            "fold_accuracy_mean": float(np.mean(fold_accuracy)), "fold_accuracy_std": float(np.std(fold_accuracy)),
            "recall": {m: float(np.mean(predicted[y == k] == k)) for k, m in enumerate(MOODS)}}


def main():
    ids, artists, quadrants = read_metadata()
    f = features()
    assert list(f["ids"]) == ids
    y = np.array([QUADRANT_MOOD[q] for q in quadrants])
    assert np.all(np.isfinite(f["reference"])) and np.all(np.isfinite(f["numpy2"])), "non-finite embeddings"
    groups = np.array(artists)
    result = {
        "description": "MSD_musicnn penultimate (200-d, mean over non-overlapping 3-s patches) -> "
                       "StandardScaler + LogisticRegression(C=1, lbfgs), GroupKFold(5) by artist, 4Q 628 clips",
        "script": "Tests/Scripts/musicnn_embedding_baseline.py",
        "versions": {"tensorflow": tf.__version__, "sklearn": sklearn.__version__, "librosa": librosa.__version__,
                     "numpy": np.__version__, "musicnn": "0.1.0"},
        "clips": len(ids), "artists": len(set(artists)), "moods": MOODS,
        "patches": int(f["patches"].sum()),
        "numpy2_clips_with_float16_overflow": int(np.sum(f["inf_cells"] > 0)),
        "feature_seconds": float(f["seconds"]),
        "reference": evaluate(f["reference"].astype(np.float64), y, groups),
        "numpy2_extractor": evaluate(f["numpy2"].astype(np.float64), y, groups),
    }
    os.makedirs(os.path.dirname(OUT), exist_ok=True)
    with open(OUT, "w") as out:
        json.dump(result, out, indent=2)
        out.write("\n")
    for variant in ["reference", "numpy2_extractor"]:
        r = result[variant]
        print(f"{variant}: accuracy {r['accuracy']:.3f} (folds {r['fold_accuracy_mean']:.3f} +- {r['fold_accuracy_std']:.3f}); "
              "recall " + ", ".join(f"{m} {v:.3f}" for m, v in r["recall"].items()))
    print(f"under NumPy >= 2, {result['numpy2_clips_with_float16_overflow']} of {len(ids)} clips overflow float16; wrote {OUT}")


main()
