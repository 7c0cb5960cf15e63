"""Writes the musicnn reference fixtures the pretrained-model tests compare against.

Two deterministic synthetic clips (seeded numpy, 6.5 s, 16 kHz mono, 16-bit WAV), musicnn's
input log-mel for each, and the outputs of the four pretrained musicnn 0.1.0 checkpoints
(Pons & Serra 2019, ISC licence) run by TensorFlow exactly as musicnn's extractor.py does.

Run once by a developer (Python is a development tool, never a runtime dependency; the
weights stay in the cache and are never copied into the repository):
    scripts/setup-peers tensorflow      # .venv-tf: tensorflow-cpu, tf_keras, librosa, ...
    nice -n 10 .venv-tf/bin/python Tests/Scripts/musicnn_reference.py
The unpacked wheel is looked for in .cache/mooddex/pretrained/musicnn-0.1.0 (the folder that
holds `musicnn/`); pass --musicnn DIR to use another. It overwrites
Tests/MoodPretrainedTests/Fixtures/{clip-*.wav, mel-*.npy, taggram-*, penultimate-*, ...}.

TensorFlow >= 2.16 ships Keras 3, which drops tf.compat.v1.layers; musicnn's models.py needs
them, so this script sets TF_USE_LEGACY_KERAS=1 (and needs the tf_keras package).
"""
import argparse
import os
import sys

os.environ.setdefault("TF_USE_LEGACY_KERAS", "1")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import librosa
import numpy as np
import soundfile as sf

ROOT = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
parser = argparse.ArgumentParser()
parser.add_argument("--musicnn", default=os.path.join(ROOT, ".cache", "mooddex", "pretrained", "musicnn-0.1.0"))
parser.add_argument("--threads", type=int, default=2)
args = parser.parse_args()
sys.path.insert(0, args.musicnn)

import tensorflow as tf  # noqa: E402

tf.compat.v1.disable_eager_execution()
tf.compat.v1.logging.set_verbosity(tf.compat.v1.logging.ERROR)
from musicnn import configuration as config  # noqa: E402
from musicnn import models  # noqa: E402

OUT = os.path.join(ROOT, "Tests", "MoodPretrainedTests", "Fixtures")
SR = 16000
LENGTH = int(6.5 * SR)  # 104000 samples -> 407 frames -> 2 patches of 187 frames, 33 frames dropped
N_FRAMES = 187          # librosa.time_to_frames(3, sr=16000, n_fft=512, hop_length=256) + 1
MODELS = ["MSD_musicnn", "MSD_vgg", "MTT_musicnn", "MTT_vgg"]


# --- 1. The clips -------------------------------------------------------------------------------

def adsr(t, attack, release, length):
    """A linear-attack, exponential-release envelope for a note of `length` seconds."""
    env = np.clip(t / attack, 0.0, 1.0)
    return env * np.where(t < length, 1.0, np.exp(-(t - length) / release)) * (t >= 0)


def clip_a(rng):
    """Slow, soft, sustained chords (C - Am - F - G, two-second changes) with a little noise."""
    t = np.arange(LENGTH) / SR
    y = np.zeros(LENGTH)
    chords = [[261.63, 329.63, 392.00], [220.00, 261.63, 329.63], [174.61, 220.00, 261.63], [196.00, 246.94, 293.66]]
    for k, chord in enumerate(chords):
        start = 1.8 * k
        local = t - start
        env = adsr(local, 0.6, 0.8, 1.8)
        for f in chord + [chord[0] / 2]:
            detune = 1.0 + 0.002 * rng.standard_normal()
            for h, a in [(1, 1.0), (2, 0.3), (3, 0.1)]:
                y += 0.035 * a * env * np.sin(2 * np.pi * f * h * detune * local + rng.uniform(0, 2 * np.pi))
    y *= 1.0 + 0.1 * np.sin(2 * np.pi * 0.3 * t)  # slow swell
    y += 0.004 * rng.standard_normal(LENGTH)
    return y


def clip_b(rng):
    """Fast and percussive: 150 bpm sixteenth-note clicks, kick and snare, a bass line, a bright saw synth."""
    t = np.arange(LENGTH) / SR
    y = np.zeros(LENGTH)
    sixteenth = 60.0 / 150.0 / 4.0
    for i in range(int(6.5 / sixteenth)):
        start = i * sixteenth
        n0 = int(start * SR)
        seg = np.arange(LENGTH - n0) / SR
        hat = rng.standard_normal(LENGTH - n0) * np.exp(-seg / 0.012)
        y[n0:] += 0.05 * np.diff(hat, prepend=0.0)                 # high-passed click
        if i % 4 == 0:                                             # kick: falling sine
            y[n0:] += 0.05 * np.sin(2 * np.pi * (50 * seg + 60 * 0.03 * (1 - np.exp(-seg / 0.03)))) * np.exp(-seg / 0.08)
        if i % 8 == 4:                                             # snare: noise burst + tone
            y[n0:] += (0.08 * rng.standard_normal(LENGTH - n0) + 0.05 * np.sin(2 * np.pi * 190 * seg)) * np.exp(-seg / 0.05)
        if i % 2 == 0:                                             # bass on eighth notes
            f = [55.0, 55.0, 65.41, 73.42][(i // 8) % 4]
            y[n0:] += 0.045 * np.tanh(3 * np.sin(2 * np.pi * f * seg)) * np.exp(-seg / 0.15)
        if i % 3 == 0:                                             # saw synth stabs
            f = [523.25, 659.25, 783.99, 1046.5][(i // 3) % 4]
            saw = sum(np.sin(2 * np.pi * f * h * seg) / h for h in range(1, 12) if f * h < 7800)
            y[n0:] += 0.02 * saw * np.exp(-seg / 0.1)
    return y


def write_wav(path, y):
    """16-bit PCM, no dither: the file the Swift tests read."""
    peak = np.max(np.abs(y))
    assert peak < 1.0, f"clip clips: peak {peak}"
    sf.write(path, np.round(y * 32767.0).astype(np.int16), SR, subtype="PCM_16")


# --- 2. musicnn's input -------------------------------------------------------------------------

def musicnn_input(path):
    """extractor.py's batch_data: librosa.load at 16 kHz, mel power (Slaney, n_fft 512, hop 256,
    96 bands), rounded to float16, then log10(10000 x + 1), frames as rows.

    extractor.py writes `np.log10(10000 * audio_rep + 1)` on a float16 array. Under NumPy 1.x,
    which musicnn 0.1.0 was written for, value-based casting makes `10000 * audio_rep` float32;
    under NumPy >= 2 (NEP 50) it stays float16 and overflows to inf wherever the power exceeds
    6.55, which is most real music (623 of the 628 4Q clips). The reference is the NumPy 1.x
    result, written out explicitly here so it does not depend on the NumPy version.
    pad_mode is pinned to "reflect", librosa's default when musicnn was trained (< 0.10);
    today's default ("constant") changes frame 0 and the last frame only."""
    audio, sr = librosa.load(path, sr=config.SR)
    rep = librosa.feature.melspectrogram(y=audio, sr=sr, hop_length=config.FFT_HOP, n_fft=config.FFT_SIZE,
                                         n_mels=config.N_MELS, pad_mode="reflect").T
    rep16 = rep.astype(np.float16).astype(np.float32)
    log = np.log10(np.float32(10000) * rep16 + np.float32(1))
    assert log.dtype == np.float32 and np.all(np.isfinite(log))
    return log, np.log10(10000 * rep.astype(np.float32) + 1)


def patches(mel):
    """Non-overlapping 187-frame patches; the remainder shorter than a patch is dropped."""
    starts = range(0, mel.shape[0] - N_FRAMES + 1, N_FRAMES)
    return np.stack([mel[s:s + N_FRAMES] for s in starts])


# --- 3. The networks ----------------------------------------------------------------------------

def run_model(model, batches):
    """Builds extractor.py's graph for `model`, restores the checkpoint, runs every batch."""
    tf.compat.v1.reset_default_graph()
    with tf.name_scope("model"):
        x = tf.compat.v1.placeholder(tf.float32, [None, N_FRAMES, config.N_MELS])
        is_training = tf.compat.v1.placeholder(tf.bool)
        outs = models.define_model(x, is_training, model, 50)
        if "vgg" in model:
            y, pool1, pool2, pool3, pool4, pool5 = outs
            fetch = {"pool3": pool3, "pool5": pool5, "penultimate": tf.compat.v1.layers.flatten(pool5)}
        else:
            y, timbral, temporal, cnn1, cnn2, cnn3, mean_pool, max_pool, penultimate = outs
            graph = tf.compat.v1.get_default_graph()
            frontend = graph.get_tensor_by_name("model/concat:0")  # tf.concat(frontend_features_list, 2)
            assert frontend.shape[1:] == (N_FRAMES, 561), frontend.shape
            fetch = {"frontend": frontend, "mean_pool": mean_pool, "max_pool": max_pool, "penultimate": penultimate,
                     "timbral": timbral, "temporal": temporal, "cnn1": cnn1, "cnn2": cnn2, "cnn3": cnn3}
        fetch["taggram"] = tf.nn.sigmoid(y)
        fetch["logits"] = y
    session_config = tf.compat.v1.ConfigProto(intra_op_parallelism_threads=args.threads, inter_op_parallelism_threads=1)
    with tf.compat.v1.Session(config=session_config) as sess:
        tf.compat.v1.train.Saver().restore(sess, os.path.join(args.musicnn, "musicnn", model) + "/")
        variables = {v.name: sess.run(v) for v in tf.compat.v1.global_variables()}
        results = [sess.run(fetch, feed_dict={x: b, is_training: False}) for b in batches]
    return results, variables


def save(name, array):
    np.save(os.path.join(OUT, name), np.ascontiguousarray(array, dtype=np.float32))


# --- 4. A numpy re-implementation: proves the conventions a port must follow -------------------

def conv(x, kernel, bias, pad_time=(0, 0), pad_freq=(0, 0)):
    """NHWC convolution (cross-correlation), height = time, width = frequency; zero padding."""
    x = np.pad(x, [(0, 0), pad_time, pad_freq, (0, 0)])
    kh, kw = kernel.shape[:2]
    windows = np.lib.stride_tricks.sliding_window_view(x, (kh, kw), axis=(1, 2))  # [B, H', W', C, kh, kw]
    return np.einsum("bhwcij,ijco->bhwo", windows, kernel, optimize=True) + bias


def same(k):
    """TensorFlow's "same" padding for a kernel of size k at stride 1: the extra zero goes after."""
    return ((k - 1) // 2, k - 1 - (k - 1) // 2)


def max_pool(x, size, stride):
    """TensorFlow "valid" max pooling over (time, frequency)."""
    windows = np.lib.stride_tricks.sliding_window_view(x, size, axis=(1, 2))
    return windows[:, ::stride[0], ::stride[1]].max(axis=(-2, -1))


def numpy_forward(model, batch, v):
    def bn(z, name):  # inference: moving statistics, epsilon 0.001 (tf.compat.v1.layers default)
        g, b = v[f"{name}/gamma:0"], v[f"{name}/beta:0"]
        m, var = v[f"{name}/moving_mean:0"], v[f"{name}/moving_variance:0"]
        return (z - m) / np.sqrt(var + 1e-3) * g + b

    def block(z, layer, norm, **pad):  # conv -> ReLU -> batch norm (ReLU before BN)
        return bn(np.maximum(conv(z, v[f"{layer}/kernel:0"], v[f"{layer}/bias:0"], **pad), 0), norm)

    x = bn(batch[..., None], "batch_normalization")  # padding below is applied after this BN
    out = {}
    if "musicnn" in model:
        f74 = block(x, "conv2d", "batch_normalization_1", pad_time=(3, 3)).max(axis=2)    # kernel 7x38, valid in freq
        f77 = block(x, "conv2d_1", "batch_normalization_2", pad_time=(3, 3)).max(axis=2)  # kernel 7x67
        temporal = [block(x, f"conv2d_{i}", f"batch_normalization_{i + 1}", pad_time=same(k)).max(axis=2)
                    for i, k in [(2, 128), (3, 64), (4, 32)]]                             # kernel kx1, "same"
        front = np.concatenate([f74, f77] + temporal, axis=2)                            # [B, 187, 561]
        c1 = block(front[..., None], "conv2d_5", "batch_normalization_6", pad_time=(3, 3))[:, :, 0, :]
        c2 = block(c1[..., None], "conv2d_6", "batch_normalization_7", pad_time=(3, 3))[:, :, 0, :] + c1
        c3 = block(c2[..., None], "conv2d_7", "batch_normalization_8", pad_time=(3, 3))[:, :, 0, :] + c2
        mid = np.concatenate([front, c1, c2, c3], axis=2)                                # [B, 187, 753]
        # flatten(concat([max, mean], axis 2)) of [B, 753, 2]: max0, mean0, max1, mean1, ...
        flat = np.stack([mid.max(axis=1), mid.mean(axis=1)], axis=2).reshape(len(batch), 1506)
        dense = np.maximum(bn(flat, "batch_normalization_9") @ v["dense/kernel:0"] + v["dense/bias:0"], 0)
        out["frontend"] = front
        out["penultimate"] = bn(dense, "batch_normalization_10")
        out["logits"] = out["penultimate"] @ v["dense_1/kernel:0"] + v["dense_1/bias:0"]
    else:
        z = max_pool(block(x, "1CNN", "batch_normalization_1", pad_time=(1, 1), pad_freq=(1, 1)), (4, 1), (2, 2))
        for i in range(2, 6):
            z = block(z, f"{i}CNN", f"batch_normalization_{i}", pad_time=(1, 1), pad_freq=(1, 1))
            z = max_pool(z, (4, 4), (4, 4)) if i == 5 else max_pool(z, (2, 2), (2, 2))
            if i == 3:
                out["pool3"] = z
        out["penultimate"] = z.reshape(len(batch), -1)                                   # NHWC (h, w, c) order
        out["logits"] = out["penultimate"] @ v["dense/kernel:0"] + v["dense/bias:0"]
    return out


def check_conventions(model, batch, r, v):
    ours = numpy_forward(model, batch, v)
    for key, value in ours.items():
        err = np.abs(value - r[key]).max() / max(1.0, np.abs(r[key]).max())
        assert err < 1e-4, f"{model} {key}: numpy and TensorFlow differ by {err}"
    return max(np.abs(value - r[key]).max() for key, value in ours.items())


def main():
    os.makedirs(OUT, exist_ok=True)
    rng = np.random.default_rng(20190101)
    clips = {"a": clip_a(rng), "b": clip_b(rng)}
    batches = {}
    for name, y in clips.items():
        path = os.path.join(OUT, f"clip-{name}.wav")
        write_wav(path, y)
        mel, mel32 = musicnn_input(path)
        save(f"mel-{name}.npy", mel)
        batches[name] = patches(mel)
        print(f"clip {name}: mel {mel.shape}, patches {batches[name].shape}, "
              f"float16 rounding of the mel power changes the input by at most {np.abs(mel - mel32).max():.4f}")
    for model in MODELS:
        labels = config.MSD_LABELS if "MSD" in model else config.MTT_LABELS
        results, variables = run_model(model, [batches["a"], batches["b"]])
        for name, r in zip(["a", "b"], results):
            err = check_conventions(model, batches[name], r, variables)
            save(f"taggram-{model}-{name}.npy", r["taggram"])
            save(f"penultimate-{model}-{name}.npy", r["penultimate"])
            top = np.argsort(-r["taggram"].mean(axis=0))[:5]
            print(f"{model} clip {name}: numpy re-implementation within {err:.1e}; top tags", ", ".join(f"{labels[i]} {r['taggram'].mean(axis=0)[i]:.2f}" for i in top))
        r = results[0]
        if model == "MSD_musicnn":
            save("frontend-MSD_musicnn-a.npy", r["frontend"])    # [patches, 187, 561]
            save("meanpool-MSD_musicnn-a.npy", r["mean_pool"])   # [patches, 753]
            save("maxpool-MSD_musicnn-a.npy", r["max_pool"])     # [patches, 753]
        if model == "MSD_vgg":
            save("pool3-MSD_vgg-a.npy", r["pool3"])              # [patches, 23, 12, 128] NHWC
    total = sum(os.path.getsize(os.path.join(OUT, f)) for f in os.listdir(OUT))
    print(f"TensorFlow {tf.__version__}, librosa {librosa.__version__}, numpy {np.__version__}; fixtures {total / 1e6:.2f} MB")


main()
