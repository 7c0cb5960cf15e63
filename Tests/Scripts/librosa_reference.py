"""Writes the librosa reference values the spectrogram tests compare against.

Run once by a developer (Python is a development tool, never a runtime dependency):
    .venv-peers/bin/python Tests/Scripts/librosa_reference.py
It overwrites Tests/MoodSpectrogramTests/Fixtures/librosa-*.npy.
"""
import os

import librosa
import numpy as np

from test_signal import SAMPLE_RATE, test_signal

out = os.path.join(os.path.dirname(__file__), "..", "MoodSpectrogramTests", "Fixtures")
y = test_signal()

# 1. The project's defaults: 96 Slaney bands, nFFT 1024, hop 512, reflect padding, ref 1.0, top_db 80.
S = librosa.feature.melspectrogram(y=y, sr=SAMPLE_RATE, n_fft=1024, hop_length=512, n_mels=96,
                                   pad_mode="reflect", power=2.0)
np.save(os.path.join(out, "librosa-logmel-default.npy"),
        librosa.power_to_db(S, ref=1.0, amin=1e-10, top_db=80.0).astype(np.float32))

# 2. Other values of every parameter: zero padding, ref=max, no top_db, a band-limited filterbank.
S2 = librosa.feature.melspectrogram(y=y, sr=SAMPLE_RATE, n_fft=512, hop_length=256, n_mels=64,
                                    fmin=50.0, fmax=8000.0, pad_mode="constant", power=2.0)
np.save(os.path.join(out, "librosa-logmel-variant.npy"),
        librosa.power_to_db(S2, ref=np.max, amin=1e-10, top_db=None).astype(np.float32))

# 3. The filterbank itself.
np.save(os.path.join(out, "librosa-mel-filters.npy"),
        librosa.filters.mel(sr=SAMPLE_RATE, n_fft=1024, n_mels=96).astype(np.float32))

print("librosa", librosa.__version__, "shapes", S.shape, S2.shape)
