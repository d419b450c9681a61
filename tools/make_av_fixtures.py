#!/usr/bin/env python3
"""make_av_fixtures.py -- oracle fixtures for tests/test_audio.c and tests/test_video.c.

Two steps:

1. Media (only with --media, or for files that are missing): small clips made with espeak-ng and the
   ffmpeg CLI into tests/data/media/av/.  They are committed, so the expected values below stay tied
   to exact bytes; re-making them changes the bytes (encoders are not bit-stable across versions), so
   step 2 must be re-run after it.

2. Expected values from the reference:
   audio: transformers.audio_utils.load_audio(path) (backend torchcodec = torchcodec's
          AudioDecoder(path, sample_rate=16000, num_channels=1).get_all_samples().data[0]).
          audio.txt: one line per case
            NAME PATH ok N SUM SUMSQ HEAD TAIL     (float64 sum / sum of squares of all samples,
                                                    HEAD/TAIL = samples stored in NAME.f32)
            NAME PATH error                         (the reference raised)
          NAME.f32: float32 little-endian, the first HEAD then the last TAIL samples.
   video: transformers' Gemma4UnifiedVideoProcessor decode path: fetch_videos(path) with
          sample_frames(num_frames=..., fps=...) (torchcodec VideoDecoder, seek_mode exact,
          get_frames_at(indices)), uint8 RGB frames.
          video.txt: one line per case
            NAME PATH NUM_FRAMES FPS MAX_FRAMES ok N W H AVG_FPS DURATION  (then N frame lines:)
            frame INDEX TIMESTAMP SUM SUMSQ WSUM
            NAME PATH NUM_FRAMES FPS MAX_FRAMES error
          SUM/SUMSQ = sums of the uint8 HWC values and of their squares, WSUM = sum of
          v[i] * (i % 65521 + 1) over the HWC byte index i (catches moved pixels);
          NAME.u8: per frame the 8x8 RGB crop at (w/2-4, h/2-4), raw HWC bytes.
          AVG_FPS is the metadata fps the labels use (24 when unknown); TIMESTAMP = INDEX / AVG_FPS.
          MAX_FRAMES (our g4_video_params.max_frames) has no reference kwarg: the case is produced by
          calling the reference with num_frames = min(NUM_FRAMES or 32, MAX_FRAMES), which is what
          we promise.  A case whose NUM_FRAMES exceeds the frame count is run with num_frames =
          the frame count: the reference raises there, we take every frame (see video.c).
          FPS cases use Gemma4UnifiedVideoProcessor(num_frames=None): the stock processor has
          num_frames=32 and its sample_frames() then ignores `fps` (it returns 32 frames).

Debian-provided media (/usr/share/sounds/alsa/Front_Center.wav from alsa-utils and
/usr/share/doc/opencv-doc/examples/data/Megamind.avi) are used in place; the tests skip them when absent.

Usage: /work/pyenv/bin/python tools/make_av_fixtures.py [--media]   (from the repo root)
"""
import os
import subprocess
import sys

import numpy as np

OUT = "tests/data/media/av"
FRONT = "/usr/share/sounds/alsa/Front_Center.wav"
MEGAMIND = "/usr/share/doc/opencv-doc/examples/data/Megamind.avi"
HEAD = 1000
TAIL = 1000


def ff(*args):
    cmd = ["ffmpeg", "-hide_banner", "-loglevel", "error", "-y", "-bitexact"] + list(args)
    subprocess.run(cmd, check=True)


def p(name):
    return os.path.join(OUT, name)


def make_media(force):
    os.makedirs(OUT, exist_ok=True)

    def want(name):
        return force or not os.path.exists(p(name))

    sp = p("speech_22k.wav")
    if want("speech_22k.wav"):
        subprocess.run(["espeak-ng", "-w", sp, "Hello. This is a short test of the audio path."], check=True)
    enc = {
        "speech.mp3": ["-c:a", "libmp3lame", "-b:a", "32k"],
        "speech.flac": ["-c:a", "flac"],
        "speech.opus.ogg": ["-c:a", "libopus", "-b:a", "24k"],
        "speech.m4a": ["-c:a", "aac", "-b:a", "32k"],
        "speech_16k.wav": ["-t", "1.2", "-ar", "16000", "-c:a", "pcm_s16le"],
    }
    for name, a in enc.items():
        if want(name):
            ff("-i", sp, *a, p(name))
    if want("f32_16k.wav"):  # already FLTP-compatible mono 16 kHz: the reference copies, no swresample
        ff("-i", sp, "-t", "0.5", "-ar", "16000", "-c:a", "pcm_f32le", p("f32_16k.wav"))
    if want("u8_8k.wav"):
        ff("-i", sp, "-t", "0.7", "-ar", "8000", "-c:a", "pcm_u8", p("u8_8k.wav"))
    if want("s24_48k.wav"):
        ff("-i", sp, "-ss", "0.5", "-t", "0.3", "-ar", "48000", "-c:a", "pcm_s24le", p("s24_48k.wav"))
    if want("f32_44k.wav"):
        ff("-i", sp, "-ss", "1", "-t", "0.3", "-ar", "44100", "-c:a", "pcm_f32le", p("f32_44k.wav"))
    if want("stereo_44k.wav"):  # left: speech, right: a 440 Hz tone
        ff("-i", sp, "-f", "lavfi", "-i", "sine=frequency=440:sample_rate=44100:duration=0.5",
           "-filter_complex", "[0]aresample=44100,atrim=0:0.5,aformat=sample_fmts=s16[a];"
           "[1]aformat=sample_fmts=s16[b];[a][b]join=inputs=2:channel_layout=stereo",
           "-c:a", "pcm_s16le", "-t", "0.5", p("stereo_44k.wav"))
    if want("stereo.mp3"):
        ff("-i", p("stereo_44k.wav"), "-c:a", "libmp3lame", "-b:a", "64k", p("stereo.mp3"))
    if want("surround_5.1.flac"):  # six different tones, 5.1 layout: swresample's downmix matrix
        ins = []
        for f in (300, 500, 700, 900, 60, 1300):
            ins += ["-f", "lavfi", "-i", f"sine=frequency={f}:sample_rate=48000:duration=0.4"]
        ff(*ins, "-filter_complex", "join=inputs=6:channel_layout=5.1", "-c:a", "flac",
           p("surround_5.1.flac"))
    if want("silence.wav"):
        ff("-f", "lavfi", "-i", "anullsrc=r=22050:cl=mono", "-t", "0.5", "-c:a", "pcm_s16le", p("silence.wav"))
    if want("tiny.wav"):  # 0.01 s
        ff("-f", "lavfi", "-i", "sine=frequency=1000:sample_rate=44100", "-t", "0.01", "-c:a", "pcm_s16le",
           p("tiny.wav"))
    if want("unsupported_codec.wav"):  # a WAV whose format tag (0x7777) no decoder knows
        b = bytearray(open(p("tiny.wav"), "rb").read())
        i = b.find(b"fmt ")
        b[i + 8:i + 10] = (0x7777).to_bytes(2, "little")
        open(p("unsupported_codec.wav"), "wb").write(bytes(b))
    if want("truncated.mp3"):
        b = open(p("speech.mp3"), "rb").read()
        open(p("truncated.mp3"), "wb").write(b[: len(b) * 2 // 5])
    if want("truncated.m4a"):  # moov atom at the end: cut off
        b = open(p("speech.m4a"), "rb").read()
        open(p("truncated.m4a"), "wb").write(b[: len(b) // 2])
    if want("corrupt.bin"):
        rng = np.random.default_rng(1234)
        open(p("corrupt.bin"), "wb").write(rng.integers(0, 256, 4096, dtype=np.uint8).tobytes())

    # video
    src = "testsrc2=size={s}:rate={r}:duration={d}"
    if want("v_mpeg4_160.mp4"):  # width % 32 == 0: torchcodec's swscale path
        ff("-f", "lavfi", "-i", src.format(s="160x120", r=24, d=2), "-c:v", "mpeg4", "-q:v", "8",
           "-pix_fmt", "yuv420p", p("v_mpeg4_160.mp4"))
    if want("v_h264_176_bt709.mp4"):  # width % 32 != 0: filtergraph path; B-frames; bt709 tags; + audio
        ff("-f", "lavfi", "-i", src.format(s="176x144", r=25, d=2), "-i", sp, "-t", "2",
           "-c:v", "libx264", "-crf", "32", "-preset", "veryfast", "-pix_fmt", "yuv420p",
           "-colorspace", "bt709", "-color_primaries", "bt709", "-color_trc", "bt709",
           "-c:a", "aac", "-b:a", "32k", "-movflags", "+faststart", p("v_h264_176_bt709.mp4"))
    if want("v_vp9_128.webm"):
        ff("-f", "lavfi", "-i", src.format(s="128x72", r=24, d=2), "-c:v", "libvpx-vp9", "-b:v", "100k",
           "-pix_fmt", "yuv420p", "-colorspace", "bt709", p("v_vp9_128.webm"))
    if want("v_vp8_odd.webm"):  # odd height: swscale's general (filtered) path, chroma positions matter
        ff("-f", "lavfi", "-i", src.format(s="100x75", r=20, d=2) + ",format=rgb24", "-c:v", "libvpx", "-b:v", "100k",
           "-pix_fmt", "yuv420p", p("v_vp8_odd.webm"))
    if want("v_ffv1_10bit.mkv"):  # 10-bit, width % 32 != 0: filtered path with the filtergraph's flags
        ff("-f", "lavfi", "-i", src.format(s="72x48", r=12, d=3), "-c:v", "ffv1", "-pix_fmt", "yuv420p10le",
           p("v_ffv1_10bit.mkv"))
    if want("v_ffv1_10bit_64.mkv"):  # 10-bit, width % 32 == 0: swscale path, its default (bicubic) flags
        ff("-f", "lavfi", "-i", src.format(s="64x40", r=12, d=3), "-c:v", "ffv1", "-pix_fmt", "yuv420p10le",
           p("v_ffv1_10bit_64.mkv"))
    if want("v_mjpeg_fullrange.avi"):  # yuvj422p (full range), swscale path
        ff("-f", "lavfi", "-i", src.format(s="96x64", r=10, d=3.3), "-c:v", "mjpeg", "-q:v", "10",
           "-pix_fmt", "yuvj422p", p("v_mjpeg_fullrange.avi"))
    if want("v_yuv444_h264.mkv"):
        ff("-f", "lavfi", "-i", src.format(s="120x90", r=16, d=2.5), "-c:v", "libx264", "-crf", "35",
           "-preset", "veryfast", "-pix_fmt", "yuv444p", p("v_yuv444_h264.mkv"))
    # display matrices (a, b, c, d in 16.16): FFmpeg 5.1's CLI cannot write one, so patch the tkhd box
    for name, m in (("v_rot_a.mp4", (0, 1, -1, 0)), ("v_rot_b.mp4", (0, -1, 1, 0)), ("v_rot180.mp4", (-1, 0, 0, -1))):
        if want(name):  # torchcodec rotates (filtergraph transpose / hflip,vflip) after the RGB conversion
            ff("-f", "lavfi", "-i", src.format(s="96x64", r=16, d=2.5), "-c:v", "mpeg4", "-q:v", "8",
               "-pix_fmt", "yuv420p", p(name))
            b = bytearray(open(p(name), "rb").read())
            i = b.find(b"tkhd")
            assert i > 0 and b[i + 4] == 0  # version 0
            mat = i + 4 + 40
            for j, v in enumerate(m):
                b[mat + 4 * (j if j < 2 else j + 1):mat + 4 * (j if j < 2 else j + 1) + 4] = (v * 65536).to_bytes(
                    4, "big", signed=True)
            open(p(name), "wb").write(bytes(b))
    if want("v_short.mp4"):  # 10 frames < 32
        ff("-f", "lavfi", "-i", src.format(s="64x48", r=10, d=1), "-c:v", "mpeg4", "-q:v", "8",
           "-pix_fmt", "yuv420p", p("v_short.mp4"))
    if want("v_truncated.mp4"):
        b = open(p("v_h264_176_bt709.mp4"), "rb").read()
        open(p("v_truncated.mp4"), "wb").write(b[: len(b) * 3 // 5])


AUDIO_CASES = [
    ("front_center", FRONT),
    ("speech_22k", "speech_22k.wav"),
    ("speech_mp3", "speech.mp3"),
    ("speech_flac", "speech.flac"),
    ("speech_opus", "speech.opus.ogg"),
    ("speech_m4a", "speech.m4a"),
    ("speech_16k", "speech_16k.wav"),
    ("f32_16k", "f32_16k.wav"),
    ("u8_8k", "u8_8k.wav"),
    ("s24_48k", "s24_48k.wav"),
    ("f32_44k", "f32_44k.wav"),
    ("stereo_44k", "stereo_44k.wav"),
    ("stereo_mp3", "stereo.mp3"),
    ("surround", "surround_5.1.flac"),
    ("silence", "silence.wav"),
    ("tiny", "tiny.wav"),
    ("megamind_ac3", MEGAMIND),
    ("h264_aac", "v_h264_176_bt709.mp4"),
    ("unsupported", "unsupported_codec.wav"),
    ("truncated_mp3", "truncated.mp3"),
    ("truncated_m4a", "truncated.m4a"),
    ("corrupt", "corrupt.bin"),
    ("no_audio", "v_mpeg4_160.mp4"),
]

# name, path, num_frames (0 = default 32), fps (0 = off), max_frames (0 = off)
VIDEO_CASES = [
    ("megamind", MEGAMIND, 0, 0, 0),
    ("megamind_fps2", MEGAMIND, 0, 2.0, 0),
    ("megamind_max8", MEGAMIND, 0, 0, 8),
    ("mpeg4_160", "v_mpeg4_160.mp4", 0, 0, 0),
    ("h264_176_bt709", "v_h264_176_bt709.mp4", 0, 0, 0),
    ("h264_176_n7", "v_h264_176_bt709.mp4", 7, 0, 0),
    ("vp9_128", "v_vp9_128.webm", 0, 0, 0),
    ("vp8_odd", "v_vp8_odd.webm", 0, 0, 0),
    ("ffv1_10bit", "v_ffv1_10bit.mkv", 0, 0, 0),
    ("ffv1_10bit_64", "v_ffv1_10bit_64.mkv", 0, 0, 0),
    ("mjpeg_fullrange", "v_mjpeg_fullrange.avi", 0, 0, 0),
    ("yuv444", "v_yuv444_h264.mkv", 0, 0, 0),
    ("rot_a", "v_rot_a.mp4", 0, 0, 0),
    ("rot_b", "v_rot_b.mp4", 0, 1.5, 0),
    ("rot180", "v_rot180.mp4", 0, 0, 0),
    ("short", "v_short.mp4", 0, 0, 0),
    ("truncated", "v_truncated.mp4", 0, 0, 0),
    ("no_video", "speech_22k.wav", 0, 0, 0),
    ("corrupt", "corrupt.bin", 2, 0, 0),
]


def resolve(path):
    return path if os.path.isabs(path) else p(path)


def audio_fixtures():
    from transformers.audio_utils import load_audio

    lines = []
    for name, path in AUDIO_CASES:
        full = resolve(path)
        if not os.path.exists(full):
            print(f"skip {name}: {full} missing")
            continue
        try:
            x = np.asarray(load_audio(full, sampling_rate=16000), dtype=np.float32)
        except Exception as e:  # noqa: BLE001 -- any reference failure is an expected error
            print(f"{name}: reference error: {type(e).__name__}: {str(e)[:120]}")
            lines.append(f"{name} {full} error")
            continue
        n = len(x)
        h, t = min(HEAD, n), min(TAIL, max(0, n - HEAD))
        np.concatenate([x[:h], x[n - t:]]).astype("<f4").tofile(p(name + ".f32"))
        x64 = x.astype(np.float64)
        lines.append(f"{name} {full} ok {n} {float(x64.sum())!r} {float((x64 * x64).sum())!r} {h} {t}")
        print(f"{name}: {n} samples")
    with open(p("audio.txt"), "w") as f:
        f.write("\n".join(lines) + "\n")


def frame_sums(fr):
    v = fr.reshape(-1).astype(np.int64)
    w = np.arange(v.size, dtype=np.int64) % 65521 + 1
    return int(v.sum()), int((v * v).sum()), int((v * w).sum())


def reference_video(full, nf, fps, mx):
    """(uint8 NHWC frames, VideoMetadata) from the reference for one case; raises what it raises."""
    from functools import partial

    from torchcodec.decoders import VideoDecoder
    from transformers.models.gemma4_unified.video_processing_gemma4_unified import Gemma4UnifiedVideoProcessor

    if fps > 0:
        # The stock processor has num_frames=32, and sample_frames() then ignores `fps`; sampling by fps
        # needs a processor built with num_frames=None, which is what g4_video_params.fps means.
        proc = Gemma4UnifiedVideoProcessor(num_frames=None)
        want_n = None
    else:
        proc = Gemma4UnifiedVideoProcessor()
        want_n = nf if nf > 0 else proc.num_frames
        if mx > 0:
            want_n = min(want_n, mx)
        total = VideoDecoder(full, seek_mode="exact").metadata.num_frames
        want_n = min(want_n, total)  # the reference raises when asked for more; we take every frame
    if fps > 0 and mx > 0:
        raise SystemExit("fps + max_frames: no reference case")
    fn = partial(proc.sample_frames, num_frames=want_n, fps=fps if fps > 0 else None)
    video, md = proc.fetch_videos(full, sample_indices_fn=fn)
    return video.permute(0, 2, 3, 1).contiguous().numpy(), md  # NCHW -> NHWC uint8


def video_fixtures():
    lines = []
    for name, path, nf, fps, mx in VIDEO_CASES:
        full = resolve(path)
        head = f"{name} {full} {nf} {float(fps)!r} {mx}"
        if not os.path.exists(full):
            print(f"skip {name}: {full} missing")
            continue
        try:
            frames, md = reference_video(full, nf, fps, mx)
        except SystemExit:
            raise
        except Exception as e:  # noqa: BLE001
            print(f"{name}: reference error: {type(e).__name__}: {str(e)[:120]}")
            lines.append(head + " error")
            continue
        n, h, w, _ = frames.shape
        fps_md = md.fps if md.fps is not None else 24
        lines.append(head + f" ok {n} {w} {h} {float(fps_md)!r} {float(md.duration)!r}")
        crops = []
        for i in range(n):
            s, s2, ws = frame_sums(frames[i])
            lines.append(f"frame {int(md.frames_indices[i])} {float(md.timestamps[i])!r} {s} {s2} {ws}")
            y0, x0 = max(0, h // 2 - 4), max(0, w // 2 - 4)
            crops.append(np.ascontiguousarray(frames[i, y0:y0 + 8, x0:x0 + 8, :]).tobytes())
        open(p(name + ".u8"), "wb").write(b"".join(crops))
        print(f"{name}: {n} frames {w}x{h} fps {fps_md}")
    with open(p("video.txt"), "w") as f:
        f.write("\n".join(lines) + "\n")


def main():
    make_media("--media" in sys.argv)
    audio_fixtures()
    video_fixtures()


if __name__ == "__main__":
    main()
