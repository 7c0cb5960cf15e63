"""The deterministic test signal shared by the Swift tests and the reference scripts.

Computed in float64 and rounded to float32 on both sides (Swift: TestSignal.swift), so
both implementations analyse the same samples.
"""
import numpy as np

SAMPLE_RATE = 22050
LENGTH = 2 * SAMPLE_RATE + 1234  # not a multiple of the hop: the last frame is partial


def test_signal(length=LENGTH, sample_rate=SAMPLE_RATE):
    n = np.arange(length, dtype=np.float64)
    t = n / sample_rate
    tone = 0.5 * np.sin(2 * np.pi * 440.0 * t)
    chirp = 0.25 * np.sin(2 * np.pi * (200.0 * t + 1500.0 * t * t))  # 200 Hz rising 3 kHz/s
    buzz = 0.1 * np.sin(2 * np.pi * 5000.0 * t) * np.sin(2 * np.pi * 3.0 * t)
    return (tone + chirp + buzz).astype(np.float32)
