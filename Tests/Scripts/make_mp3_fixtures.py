"""Makes the small MP3 (lame) and Ogg Vorbis (ffmpeg) fixtures of the decoder tests from known signals.

Run once by a developer (needs `lame` and numpy; scripts/setup-peers installs both):
    .venv-peers/bin/python Tests/Scripts/make_mp3_fixtures.py
The outputs are committed under Tests/MoodAudioTests/Fixtures (a few KB each).
"""
import os
import subprocess
import tempfile
import wave

import numpy as np

out = os.path.join(os.path.dirname(__file__), "..", "MoodAudioTests", "Fixtures")


def write_wav(path, channels, rate):
    data = np.clip(np.stack(channels, axis=1), -1, 1)
    pcm = (data * 32767).round().astype("<i2")
    with wave.open(path, "wb") as w:
        w.setnchannels(len(channels))
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(pcm.tobytes())


def encode(name, channels, rate, bitrate):
    with tempfile.TemporaryDirectory() as tmp:
        wav = os.path.join(tmp, "in.wav")
        write_wav(wav, channels, rate)
        mode = ["-m", "m"] if len(channels) == 1 else ["-m", "s"]  # plain stereo: L and R coded apart
        # --resample keeps the rate: lame would otherwise pick a lower one for the bitrate.
        subprocess.run(["lame", "--quiet", "--noreplaygain", "--resample", str(rate / 1000), "-b", str(bitrate), *mode, wav,
                        os.path.join(out, name)], check=True)


def sine(freq, seconds, rate, amplitude=0.5):
    t = np.arange(int(round(seconds * rate))) / rate
    return amplitude * np.sin(2 * np.pi * freq * t)


# One second of 1 kHz at every rate the 4Q clips use, and 48 kHz. At 16 kHz and 32 kbps a
# frame (144 bytes) is too small for lame's Info tag, so that file has no gapless
# information: the decoder then keeps the encoder delay, as with such real files.
encode("sine1k-16000-mono.mp3", [sine(1000, 1, 16000)], 16000, 32)
encode("sine1k-22050-stereo.mp3", [sine(1000, 1, 22050)] * 2, 22050, 64)
encode("sine1k-32000-stereo.mp3", [sine(1000, 1, 32000)] * 2, 32000, 64)
encode("sine1k-44100-stereo.mp3", [sine(1000, 1, 44100)] * 2, 44100, 96)
encode("sine1k-48000-stereo.mp3", [sine(1000, 1, 48000)] * 2, 48000, 96)

# Different signals left and right, for the mono mix: 440 Hz left, 1500 Hz right.
encode("left440-right1500-44100.mp3", [sine(440, 1, 44100, 0.6), sine(1500, 1, 44100, 0.3)], 44100, 96)

# Eight seconds whose pitch steps up every second (300, 600, ... 2400 Hz), for segments and seeking.
steps = np.concatenate([sine(300 * (k + 1), 1, 22050, 0.4) for k in range(8)])
encode("steps-8s-22050-mono.mp3", [steps], 22050, 64)
print("\n".join(f"{n}: {os.path.getsize(os.path.join(out, n))} bytes" for n in sorted(os.listdir(out)) if n.endswith(".mp3")))

# The same steps as Ogg Vorbis at 44.1 kHz stereo (ffmpeg's libvorbis encoder), for the Ogg decoder.
with tempfile.TemporaryDirectory() as tmp:
    wav = os.path.join(tmp, "steps.wav")
    steps44 = np.concatenate([sine(300 * (k + 1), 1, 44100, 0.4) for k in range(8)])
    write_wav(wav, [steps44, steps44], 44100)
    subprocess.run(["ffmpeg", "-v", "error", "-y", "-i", wav, "-c:a", "libvorbis", "-q:a", "2",
                    os.path.join(out, "steps-8s-44100-stereo.ogg")], check=True)
print("steps-8s-44100-stereo.ogg:", os.path.getsize(os.path.join(out, "steps-8s-44100-stereo.ogg")), "bytes")
