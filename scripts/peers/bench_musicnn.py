"""TensorFlow peer for the pretrained musicnn networks: forward throughput and musicnn's own tagger.

Prints one JSON object. Development tool only, never a runtime dependency: it needs a venv with
tensorflow-cpu, tf_keras and librosa (.venv-tf, made by `scripts/setup-peers tensorflow`) and the unpacked musicnn 0.1.0 wheel
(.cache/mooddex/pretrained/musicnn-0.1.0, the folder that holds `musicnn/`).
    python bench_musicnn.py [--threads 2] [--batch 32] [--repeats 5] [AUDIO_FILE]

(a) TensorFlow forward passes of MSD_musicnn and MSD_vgg, graph mode as musicnn's extractor.py
    builds them, on random [batch, 187, 96] patches: intra-op threads --threads, inter-op 1,
    one warm-up run, median of --repeats runs, reported in patches per second.
(b) With AUDIO_FILE: the wall time of a fresh `python -c` process calling
    musicnn.tagger.top_tags(AUDIO_FILE, model="MSD_musicnn"), start-up included, as a user
    running it would see it (one untimed run, then the median of --tagger-repeats runs).
TensorFlow >= 2.16 needs TF_USE_LEGACY_KERAS=1 for musicnn's tf.compat.v1.layers; set here.
"""
import argparse
import json
import os
import statistics
import subprocess
import sys
import time
import warnings

# musicnn's tf.compat.v1.layers calls each print a deprecation warning; they say nothing about speed.
warnings.filterwarnings("ignore", category=UserWarning)
os.environ.setdefault("TF_USE_LEGACY_KERAS", "1")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

ROOT = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
parser = argparse.ArgumentParser()
parser.add_argument("--musicnn", default=os.path.join(ROOT, ".cache", "mooddex", "pretrained", "musicnn-0.1.0"))
parser.add_argument("--threads", type=int, default=2)
parser.add_argument("--batch", type=int, default=32)
parser.add_argument("--repeats", type=int, default=5)
parser.add_argument("--tagger-repeats", type=int, default=3)
parser.add_argument("--models", default="MSD_musicnn,MSD_vgg")
parser.add_argument("audio", nargs="?")
args = parser.parse_args()
sys.path.insert(0, args.musicnn)

import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

tf.compat.v1.disable_eager_execution()
tf.compat.v1.logging.set_verbosity(tf.compat.v1.logging.ERROR)
from musicnn import models  # noqa: E402


def forward_throughput(model):
    tf.compat.v1.reset_default_graph()
    with tf.name_scope("model"):
        x = tf.compat.v1.placeholder(tf.float32, [None, 187, 96])
        is_training = tf.compat.v1.placeholder(tf.bool)
        y = tf.nn.sigmoid(models.define_model(x, is_training, model, 50)[0])
    config = tf.compat.v1.ConfigProto(intra_op_parallelism_threads=args.threads, inter_op_parallelism_threads=1)
    with tf.compat.v1.Session(config=config) as sess:
        tf.compat.v1.train.Saver().restore(sess, os.path.join(args.musicnn, "musicnn", model) + "/")
        # Random log-mel-like patches: musicnn's inputs lie in about [0, 5].
        batch = np.random.default_rng(0).uniform(0, 4, (args.batch, 187, 96)).astype(np.float32)
        feed = {x: batch, is_training: False}
        sess.run(y, feed)  # warm-up
        times = []
        for _ in range(args.repeats):
            t = time.perf_counter(); sess.run(y, feed); times.append(time.perf_counter() - t)
    return args.batch / statistics.median(times)


def tagger_seconds(path):
    code = ("import sys; sys.path.insert(0, %r); from musicnn.tagger import top_tags; "
            "top_tags(%r, model='MSD_musicnn', topN=3, print_tags=False)" % (args.musicnn, path))
    env = dict(os.environ)
    # One untimed run first, as MoodDex's side gets (files and libraries in the page cache).
    subprocess.run([sys.executable, "-c", code], env=env, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    times = []
    for _ in range(args.tagger_repeats):
        t = time.perf_counter()
        subprocess.run([sys.executable, "-c", code], env=env, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        times.append(time.perf_counter() - t)
    return statistics.median(times)


result = {"version": tf.__version__, "threads": args.threads, "batch": args.batch}
for model in args.models.split(","):
    result[f"{model}_patches_per_s"] = forward_throughput(model)
if args.audio:
    import soundfile as sf

    info = sf.info(args.audio)
    result["tagger_file"] = os.path.basename(args.audio)
    result["tagger_audio_s"] = info.frames / info.samplerate
    result["tagger_s"] = tagger_seconds(args.audio)
print(json.dumps(result))
