"""Peer timings for `mooddex bench audio`: librosa and ffmpeg on the same files.

Called by the Swift benchmark with the file list; prints one JSON object. Development
tool only (scripts/setup-peers makes its venv); never a runtime dependency.
    python bench_audio.py --repeats 5 FILE...
"""
import argparse
import json
import shutil
import statistics
import subprocess
import time

import numpy as np

parser = argparse.ArgumentParser()
parser.add_argument("--repeats", type=int, default=5)
parser.add_argument("files", nargs="+")
args = parser.parse_args()

result = {}
try:
    import librosa

    result["librosa_version"] = librosa.__version__
    librosa.load(args.files[0], sr=22050, mono=True)  # warm-up: imports, resampler set-up
    load, logmel = [], []
    for path in args.files:
        for _ in range(args.repeats):
            t = time.perf_counter()
            y, _ = librosa.load(path, sr=22050, mono=True)
            load.append(time.perf_counter() - t)
        y = librosa.util.fix_length(y, size=30 * 22050)
        for _ in range(args.repeats):
            t = time.perf_counter()
            S = librosa.feature.melspectrogram(y=y, sr=22050, n_fft=1024, hop_length=512, n_mels=96, pad_mode="reflect")
            librosa.power_to_db(S, ref=1.0, top_db=80.0)
            logmel.append(time.perf_counter() - t)
    result["librosa_load_ms"] = 1000 * statistics.median(load)
    result["librosa_logmel_ms"] = 1000 * statistics.median(logmel)
except ImportError as error:
    result["librosa_error"] = str(error)

ffmpeg = shutil.which("ffmpeg")
if ffmpeg:
    version = subprocess.run([ffmpeg, "-version"], capture_output=True, text=True).stdout.split("\n")[0]
    result["ffmpeg_version"] = version.split(" ")[2] if version else "?"
    times = []
    for path in args.files:
        for _ in range(args.repeats):
            t = time.perf_counter()
            out = subprocess.run([ffmpeg, "-v", "error", "-threads", "1", "-i", path, "-ac", "1", "-ar", "22050",
                                  "-f", "f32le", "-"], capture_output=True, check=True).stdout
            times.append(time.perf_counter() - t)
            assert len(out) > 0
    result["ffmpeg_decode_ms"] = 1000 * statistics.median(times)
print(json.dumps(result))
