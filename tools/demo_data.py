#!/usr/bin/env python3
"""demo_data.py -- the toy world the bundled demo model is trained on, generated on the fly and seeded.

Why: the demo model (issue 6) must show that pixels and raw waveforms go straight into the Gemma 4
decoder and come out as right answers.  Its training data is drawn here, from a small task set a
tiny model can learn within an hour on two cores:

  images  (PIL, varied sizes/aspects)  the colour or the shape of one big shape, the number of dots,
                                       a number or word written in large type;
  speech  (espeak-ng, 16 kHz mono)     one to three digits/words, varied voice/speed/pitch/noise;
  video   (4 frames at 1 fps)          which way a shape moves, or what changed (colour/shape/size);
  text    (chat format)                small sums, copying words, a get_weather(city) tool call and
                                       the answer after its result.

A sample is a dict: task, messages (transformers chat-template form; media items carry the decoded
media: a PIL image, int16 samples at 16 kHz, or uint8 frames [F, H, W, 3]), tools (or None), answer
(the model's reply text after the generation prompt, closing token included).  `write_media` saves a
sample's media as files the C engine reads (PNG, 16-bit WAV, lossless PNG-in-MKV video) holding exactly the
values the PyTorch side sees.  Everything depends only on the seed given.

Usage: python tools/demo_data.py [--seed 1] [--n 8] [--out DIR]   (prints samples, writes media to DIR)
"""
import argparse
import io
import json
import os
import subprocess
import wave

import numpy as np
from PIL import Image, ImageDraw, ImageFont

SR = 16000
COLORS = {"red": (220, 30, 30), "green": (30, 170, 50), "blue": (40, 70, 220), "yellow": (235, 200, 20),
          "purple": (140, 50, 170), "orange": (245, 130, 20), "black": (20, 20, 20)}
SHAPES = ["circle", "square", "triangle"]
NUMBER_WORDS = ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine"]
SPOKEN = NUMBER_WORDS + ["red", "blue", "green", "cat", "dog", "yes", "no", "stop", "go", "left", "right"]
READ_WORDS = ["cat", "dog", "sun", "tree", "fish", "bird", "home", "star", "moon", "book", "car", "red"]
COPY_WORDS = SPOKEN + READ_WORDS + ["apple", "river", "stone", "cloud", "music", "paper", "light", "water"]
CITIES = ["Paris", "London", "Tokyo", "Berlin", "Madrid", "Rome", "Oslo", "Cairo", "Lima", "Sydney", "Toronto",
          "Dublin"]
WEATHER = ["sunny", "rainy", "cloudy", "windy", "snowy", "foggy"]
VOICES = ["en", "en-us", "en+f3", "en+m3", "en-us+f2", "en+m7", "en-gb-x-rp", "en+f4", "en-029", "en-us+m5"]
DIRECTIONS = ["left", "right", "up", "down"]
TOOLS = [{"type": "function", "function": {
    "name": "get_weather", "description": "Get the current weather in a city.",
    "parameters": {"type": "object", "properties": {"city": {"type": "string", "description": "The city name."}},
                   "required": ["city"]}}}]
END = "<turn|>"             # closes a model turn
TOOL_END = "<|tool_response>"  # the model stops here after a tool call (an end id of Gemma 4)
BG = [(255, 255, 255), (240, 240, 230), (225, 235, 245), (200, 200, 200)]


def _font(size):
    return ImageFont.load_default(size=size)  # Pillow's bundled scalable font: no system font needed


def _canvas(rng, lo=64, hi=320):
    w, h = int(rng.integers(lo, hi + 1)), int(rng.integers(lo, hi + 1))
    bg = BG[int(rng.integers(len(BG)))]
    return Image.new("RGB", (w, h), bg), w, h


def _draw_shape(d, shape, cx, cy, r, fill):
    if shape == "circle":
        d.ellipse([cx - r, cy - r, cx + r, cy + r], fill=fill)
    elif shape == "square":
        d.rectangle([cx - r, cy - r, cx + r, cy + r], fill=fill)
    else:
        d.polygon([(cx, cy - r), (cx - r, cy + r), (cx + r, cy + r)], fill=fill)


def _pick(rng, seq):
    return seq[int(rng.integers(len(seq)))]


def _user(media, text):
    """A user message: media items first, then the question."""
    return [{"role": "user", "content": media + [{"type": "text", "text": text}]}]


# ---- images -------------------------------------------------------------------------------------

def image_shape(rng):
    im, w, h = _canvas(rng)
    color, shape = _pick(rng, list(COLORS)), _pick(rng, SHAPES)
    r = int(min(w, h) * rng.uniform(0.25, 0.42))
    cx, cy = int(rng.integers(r, w - r + 1)), int(rng.integers(r, h - r + 1))
    _draw_shape(ImageDraw.Draw(im), shape, cx, cy, r, COLORS[color])
    if rng.random() < 0.5:
        return "img_color", im, _pick(rng, ["What color is the shape?", "Which color is it?"]), color
    return "img_shape", im, _pick(rng, ["What shape is this?", "Which shape do you see?"]), shape


def image_count(rng):
    im, w, h = _canvas(rng, 96, 320)
    n, color = int(rng.integers(1, 6)), _pick(rng, list(COLORS))
    d, r, placed = ImageDraw.Draw(im), max(6, int(min(w, h) * 0.08)), []
    while len(placed) < n:
        cx, cy = int(rng.integers(r, w - r)), int(rng.integers(r, h - r))
        if all((cx - x) ** 2 + (cy - y) ** 2 > (2.6 * r) ** 2 for x, y in placed):
            placed.append((cx, cy))
            d.ellipse([cx - r, cy - r, cx + r, cy + r], fill=COLORS[color])
    return "img_count", im, _pick(rng, ["How many dots are there?", "Count the dots."]), str(n)


def image_read(rng):
    text = str(int(rng.integers(0, 100))) if rng.random() < 0.5 else _pick(rng, READ_WORDS)
    im, w, h = _canvas(rng, 96, 320)
    size = int(min(h * 0.5, w * 0.8 / max(len(text), 1) * 1.6))
    f = _font(max(size, 16))
    d = ImageDraw.Draw(im)
    x0, y0, x1, y1 = d.textbbox((0, 0), text, font=f)
    x = int(rng.integers(0, max(1, w - (x1 - x0)))) - x0
    y = int(rng.integers(0, max(1, h - (y1 - y0)))) - y0
    d.text((x, y), text, font=f, fill=COLORS[_pick(rng, ["black", "blue", "red", "purple"])])
    return "img_read", im, _pick(rng, ["What is written here?", "Read the text."]), text


def sample_image(rng):
    task, im, q, a = [image_shape, image_count, image_read][int(rng.integers(3))](rng)
    return dict(task=task, messages=_user([{"type": "image", "image": im}], q), tools=None, answer=a + END)


# ---- speech -------------------------------------------------------------------------------------

_SPEECH_CACHE = {}


def espeak(text, voice, speed, pitch):
    """int16 samples at 16 kHz mono of espeak-ng saying text (resampled by sox); cached."""
    key = (text, voice, speed, pitch)
    if key not in _SPEECH_CACHE:
        tts = subprocess.run(["espeak-ng", "--stdout", "-v", voice, "-s", str(speed), "-p", str(pitch), text],
                             check=True, capture_output=True).stdout
        raw = subprocess.run(["sox", "-t", "wav", "-", "-r", str(SR), "-c", "1", "-b", "16", "-e", "signed-integer",
                              "-t", "raw", "-"], input=tts, check=True, capture_output=True).stdout
        if len(_SPEECH_CACHE) > 6000:
            _SPEECH_CACHE.clear()
        _SPEECH_CACHE[key] = np.frombuffer(raw, dtype="<i2").copy()
    return _SPEECH_CACHE[key]


def speech_clip(rng, text):
    """A noisy take of text: random voice, speed, pitch, gain, leading/trailing silence and noise level."""
    voice = _pick(rng, VOICES)
    speed, pitch = int(rng.integers(12, 21)) * 10, int(rng.integers(2, 8)) * 10
    x = espeak(text, voice, speed, pitch).astype(np.float32) / 32768.0
    x = x / max(np.abs(x).max(), 1e-4) * rng.uniform(0.2, 0.9)
    pad = lambda: np.zeros(int(rng.integers(0, int(0.25 * SR))), np.float32)
    x = np.concatenate([pad(), x, pad()])
    x = x + rng.normal(0, 1, x.shape).astype(np.float32) * rng.uniform(0.001, 0.03)
    return np.clip(np.round(x * 32767), -32768, 32767).astype(np.int16)


def sample_speech(rng):
    words = [_pick(rng, SPOKEN) for _ in range(int(rng.integers(1, 4)))]
    text = " ".join(words)
    q = _pick(rng, ["Transcribe the audio.", "What is said?", "Write down what you hear."])
    return dict(task="speech", messages=_user([{"type": "audio", "audio": speech_clip(rng, text)}], q), tools=None,
                answer=text + END)


# ---- video --------------------------------------------------------------------------------------

def video_frames(rng, n=4):
    """n frames [n, H, W, 3] and the task: a shape moving one way, or changing one attribute once."""
    w, h = int(rng.integers(4, 9)) * 24, int(rng.integers(4, 9)) * 24
    bg = BG[int(rng.integers(len(BG)))]
    color, shape = _pick(rng, list(COLORS)), _pick(rng, SHAPES)
    r = int(min(w, h) * 0.16)
    if rng.random() < 0.5:
        way = _pick(rng, DIRECTIONS)
        dx, dy = {"left": (-1, 0), "right": (1, 0), "up": (0, -1), "down": (0, 1)}[way]
        step = (w - 2 * r) / (n - 1) if dx else (h - 2 * r) / (n - 1)
        x0 = r if dx > 0 else w - r if dx < 0 else int(rng.integers(r, w - r + 1))
        y0 = r if dy > 0 else h - r if dy < 0 else int(rng.integers(r, h - r + 1))
        path = [(int(x0 + dx * step * i), int(y0 + dy * step * i), color, shape, r) for i in range(n)]
        task, q, a = "vid_move", _pick(rng, ["Which way does the shape move?", "Where does it go?"]), way
    else:
        what = _pick(rng, ["color", "shape", "size"])
        cx, cy, k = w // 2, h // 2, int(rng.integers(1, n))
        c2 = _pick(rng, [c for c in COLORS if c != color]) if what == "color" else color
        s2 = _pick(rng, [s for s in SHAPES if s != shape]) if what == "shape" else shape
        r2 = r * 2 if what == "size" else r
        path = [(cx, cy, color, shape, r) if i < k else (cx, cy, c2, s2, r2) for i in range(n)]
        task, q, a = "vid_change", _pick(rng, ["What changed?", "What changes in the video?"]), what
    frames = []
    for x, y, c, s, rr in path:
        im = Image.new("RGB", (w, h), bg)
        _draw_shape(ImageDraw.Draw(im), s, x, y, rr, COLORS[c])
        frames.append(np.asarray(im))
    return task, np.stack(frames), q, a


def sample_video(rng):
    task, frames, q, a = video_frames(rng)
    return dict(task=task, messages=_user([{"type": "video", "video": frames}], q), tools=None, answer=a + END)


# ---- text ---------------------------------------------------------------------------------------

def sample_text(rng):
    k = int(rng.integers(4))
    if k == 0:
        a, b = int(rng.integers(0, 21)), int(rng.integers(0, 21))
        if rng.random() < 0.5:
            q, ans = f"What is {a} + {b}?", str(a + b)
        else:
            a, b = max(a, b), min(a, b)
            q, ans = f"What is {a} - {b}?", str(a - b)
        return dict(task="txt_math", messages=[{"role": "user", "content": q}], tools=None, answer=ans + END)
    if k == 1:
        words = " ".join(_pick(rng, COPY_WORDS) for _ in range(int(rng.integers(2, 5))))
        q = _pick(rng, ["Repeat after me: ", "Copy this: ", "Say again: "]) + words
        return dict(task="txt_copy", messages=[{"role": "user", "content": q}], tools=None, answer=words + END)
    city = _pick(rng, CITIES)
    q = _pick(rng, ["What is the weather in {}?", "How is the weather in {} today?", "Weather in {}, please."])
    msgs = [{"role": "user", "content": q.format(city)}]
    call = '<|tool_call>call:get_weather{city:<|"|>%s<|"|>}<tool_call|>' % city
    if k == 2:
        return dict(task="txt_tool_call", messages=msgs, tools=TOOLS, answer=call + TOOL_END)
    weather = _pick(rng, WEATHER)
    msgs = msgs + [{"role": "assistant", "tool_calls": [{"type": "function", "function": {
        "name": "get_weather", "arguments": {"city": city}}}]},
        {"role": "tool", "name": "get_weather", "content": json.dumps({"weather": weather})}]
    return dict(task="txt_tool_answer", messages=msgs, tools=TOOLS, answer=f"It is {weather} in {city}." + END)


KINDS = {"image": sample_image, "speech": sample_speech, "video": sample_video, "text": sample_text}


def sample(rng, weights=(0.3, 0.3, 0.15, 0.25)):
    """One sample of a kind drawn with the given weights (image, speech, video, text)."""
    kind = list(KINDS)[int(rng.choice(4, p=np.asarray(weights) / sum(weights)))]
    return KINDS[kind](rng)


def heldout(seed, n_per_kind):
    """A fixed evaluation set: n_per_kind samples of every kind from its own seed stream."""
    out = []
    for i, (kind, fn) in enumerate(KINDS.items()):
        rng = np.random.default_rng([seed, 1000 + i])
        out += [fn(rng) for _ in range(n_per_kind)]
    return out


def corpus(seed=0, n=4000):
    """Text for training the tokenizer: every string the tasks put in prompts and answers."""
    rng = np.random.default_rng(seed)
    lines = []
    for _ in range(n):
        s = sample(rng, weights=(0.2, 0.1, 0.1, 0.6)) if rng.random() < 0.5 else sample_text(rng)
        for m in s["messages"]:
            c = m.get("content")
            if isinstance(c, str):
                lines.append(c)
            elif isinstance(c, list):
                lines += [p["text"] for p in c if p["type"] == "text"]
        lines.append(s["answer"].replace(END, "").replace(TOOL_END, ""))
    lines += ["%02d:%02d" % (i // 60, i % 60) for i in range(0, 120)]
    lines += list(SPOKEN) + list(COPY_WORDS) + CITIES + WEATHER
    lines += ["Get the current weather in a city.", "The city name.", "declaration:get_weather", "response:get_weather",
              "description:", "parameters:", "properties:", "required:", "type:", "STRING", "OBJECT", "call:get_weather",
              "model", "user", "system", "thought"]
    return lines


# ---- media files for the C engine -----------------------------------------------------------------

def write_wav(path, samples):
    with wave.open(path, "wb") as f:
        f.setnchannels(1)
        f.setsampwidth(2)
        f.setframerate(SR)
        f.writeframes(samples.astype("<i2").tobytes())


def write_video(path, frames, fps=1):
    """Lossless (PNG frames in Matroska), so FFmpeg decodes exactly these RGB bytes."""
    n, h, w, _ = frames.shape
    subprocess.run(["ffmpeg", "-v", "error", "-y", "-f", "rawvideo", "-pix_fmt", "rgb24", "-s", f"{w}x{h}", "-r",
                    str(fps), "-i", "-", "-c:v", "png", "-pix_fmt", "rgb24", path],
                   input=frames.tobytes(), check=True)


def write_media(s, prefix):
    """Writes the sample's media next to prefix; returns [(kind, path)] in prompt order."""
    out = []
    for m in s["messages"]:
        if not isinstance(m.get("content"), list):
            continue
        for i, p in enumerate(m["content"]):
            if p["type"] == "image":
                path = f"{prefix}-{i}.png"
                p["image"].save(path)
            elif p["type"] == "audio":
                path = f"{prefix}-{i}.wav"
                write_wav(path, p["audio"])
            elif p["type"] == "video":
                path = f"{prefix}-{i}.mkv"
                write_video(path, p["video"])
            else:
                continue
            out.append((p["type"], path))
    return out


def describe(s):
    media = []
    for m in s["messages"]:
        if isinstance(m.get("content"), list):
            for p in m["content"]:
                v = p.get(p["type"])
                media.append(p["type"] + ("" if p["type"] == "text" else str(getattr(v, "shape", getattr(v, "size", "")))))
    return json.dumps(dict(task=s["task"], media=media, last=str(s["messages"][-1].get("content"))[:60],
                           answer=s["answer"]))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--n", type=int, default=8)
    ap.add_argument("--out", default=None)
    a = ap.parse_args()
    rng = np.random.default_rng(a.seed)
    if a.out:
        os.makedirs(a.out, exist_ok=True)
    for i in range(a.n):
        s = sample(rng)
        print(describe(s))
        if a.out:
            print("  ", write_media(s, os.path.join(a.out, "s%03d" % i)))


if __name__ == "__main__":
    main()
