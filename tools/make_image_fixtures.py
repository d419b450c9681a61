#!/usr/bin/env python3
"""make_image_fixtures.py -- reference results for tests/test_image.c (src/media/image*.c).

Reference: transformers 5.23 Gemma4UnifiedImageProcessor fed with image_processor.fetch_images(path), i.e.
torchcodec 0.17 decode_image(path, mode=RGB) (libjpeg-turbo / libpng / libwebp / giflib, EXIF orientation
applied), torchvision's bicubic antialiased resize of the uint8 tensor, rescale by 1/255, patchify + 3x3 merge.
BMP (and TIFF, PPM) are not torchcodec formats (fetch_images raises), so for those the oracle is PIL's
Image.open(p).convert("RGB") -- transformers' load_image path -- fed to the same processor.

Writes tests/data/media/image/:
  small synthetic inputs (PNG/JPEG/WebP/GIF/BMP variants, EXIF orientations, edge sizes, corrupt files,
  headers that declare huge images),
  resized/*.png   the reference's resized uint8 image per processed case (lossless PNG),
  expected.json   decode: dims + CRC-32 of the decoded RGB (HWC) bytes, or "ok": false where the reference
                  fails; target: (w, h, budget) -> (tw, th) from get_aspect_ratio_preserving_size;
                  process: per (image, budget) target size, token count, positions, CRC-32 of the resized
                  image, sampled pixel_values entries and per-token sums.
Real photos from Debian packages (python3-skimage, opencv-doc; tools/fetch-media.sh) are read in place, not
copied; the C test skips them when absent.
Usage: /work/pyenv/bin/python tools/make_image_fixtures.py
"""
import io
import json
import math
import os
import struct
import sys
import zlib

import numpy as np
import PIL
import torch
import torchcodec
import torchvision
import transformers
from PIL import Image
from torchcodec.decoders import ImageReadMode, decode_image
from torchvision.transforms.v2 import functional as tvF
from transformers.models.gemma4_unified.image_processing_gemma4_unified import (
    Gemma4UnifiedImageProcessor, get_aspect_ratio_preserving_size)

PINNED = {"torch": (torch, "2.15.0"), "torchvision": (torchvision, "0.29.2"), "torchcodec": (torchcodec, "0.17.0"),
          "transformers": (transformers, "5.23.0"), "pillow": (PIL, "13.0.0")}
for name, (mod, want) in PINNED.items():
    if not mod.__version__.startswith(want):
        sys.exit(f"{name} {mod.__version__} != pinned {want}")

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.normpath(os.path.join(HERE, ".."))
REL = "tests/data/media/image"
OUT = os.path.join(ROOT, REL)
SKIMAGE = "/usr/lib/python3/dist-packages/skimage/data"
OPENCV = "/usr/share/doc/opencv-doc/examples/data"
rng = np.random.default_rng(20260)


def smooth(h, w, c=3):
    """a smooth random image (compresses well, resamples like a photo)"""
    a = np.cumsum(np.cumsum(rng.integers(-3, 4, (h, w, c)), axis=0), axis=1).astype(np.float64)
    a -= a.min()
    a *= 255.0 / max(a.max(), 1.0)
    return a.astype(np.uint8)


def pil_bytes(img, fmt, **kw):
    b = io.BytesIO()
    img.save(b, fmt, **kw)
    return b.getvalue()


def chunk(t, d):
    return struct.pack(">I", len(d)) + t + d + struct.pack(">I", zlib.crc32(t + d) & 0xFFFFFFFF)


def png_raw(arr, depth, ctype, extra=b"", interlace=False, idat=None):
    """PNG writer for what PIL cannot write: 16-bit, Adam7, custom chunks, lying headers"""
    h, w = arr.shape[:2]

    def row(r):
        if depth == 16:
            return r.astype(">u2").tobytes()
        if depth == 8:
            return r.astype(np.uint8).tobytes()
        v = r.reshape(-1).astype(np.uint8)  # 1/2/4-bit samples, packed MSB first
        per = 8 // depth
        v = np.concatenate([v, np.zeros((-len(v)) % per, np.uint8)]).reshape(-1, per)
        return bytes(sum((v[:, k].astype(np.int64) << (8 - depth * (k + 1))) for k in range(per)).astype(np.uint8))

    def rows(a):
        return b"".join(b"\x00" + row(a[y]) for y in range(a.shape[0]))
    if idat is None:
        if interlace:  # Adam7: seven sub-images, each with its own filtered rows
            raw = b""
            for x0, y0, dx, dy in [(0, 0, 8, 8), (4, 0, 8, 8), (0, 4, 4, 8), (2, 0, 4, 4), (0, 2, 2, 4), (1, 0, 2, 2),
                                   (0, 1, 1, 2)]:
                sub = arr[y0::dy, x0::dx]
                if sub.shape[0] and sub.shape[1]:
                    raw += rows(sub)
        else:
            raw = rows(arr)
        idat = zlib.compress(raw, 9)
    ihdr = struct.pack(">IIBBBBB", w, h, depth, ctype, 0, 0, 1 if interlace else 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + extra + chunk(b"IDAT", idat) + chunk(b"IEND", b"")


def gif_bytes(sw, sh, frames, gpal=None, bg=0):
    """GIF writer with full control (offsets, local palettes, transparency); LZW kept 'uncompressed' by
    emitting a clear code every 254 literals so the code width stays 9 bits"""
    def lzw(idx):
        codes = []
        for i, v in enumerate(idx):
            if i % 254 == 0:
                codes.append(256)
            codes.append(int(v))
        codes.append(257)
        out, acc, nb = bytearray(), 0, 0
        for c in codes:
            acc |= c << nb
            nb += 9
            while nb >= 8:
                out.append(acc & 255)
                acc >>= 8
                nb -= 8
        if nb:
            out.append(acc & 255)
        blocks = b"".join(bytes([len(out[i:i + 255])]) + out[i:i + 255] for i in range(0, len(out), 255))
        return b"\x08" + blocks + b"\x00"

    def pal(p):
        return b"".join(bytes(c) for c in p)
    out = bytearray(b"GIF89a")
    flags = (0x80 | 0x70 | (len(gpal).bit_length() - 2)) if gpal is not None else 0
    out += struct.pack("<HHBBB", sw, sh, flags, bg, 0)
    if gpal is not None:
        out += pal(gpal)
    for f in frames:
        t = f.get("trans")
        out += b"\x21\xf9\x04" + bytes([1 if t is not None else 0]) + struct.pack("<H", 10) + bytes([t or 0, 0])
        lp = f.get("lpal")
        fl = (0x80 | (len(lp).bit_length() - 2)) if lp is not None else 0
        out += b"\x2c" + struct.pack("<HHHHB", f["x"], f["y"], f["w"], f["h"], fl)
        if lp is not None:
            out += pal(lp)
        out += lzw(np.asarray(f["idx"]).reshape(-1))
    return bytes(out + b"\x3b")


def bmp_bytes(w, h, bpp, rows, compression=0, masks=None):
    """BMP writer for 16/32-bit variants PIL does not write; rows bottom-up, unpadded"""
    stride = ((w * bpp + 31) // 32) * 4
    data = b"".join(r + b"\0" * (stride - len(r)) for r in rows)
    ih = struct.pack("<IiiHHIIiiII", 40, w, h, 1, bpp, compression, len(data), 2835, 2835, 0, 0)
    if masks:
        ih += b"".join(struct.pack("<I", m) for m in masks)
    off = 14 + len(ih)
    return b"BM" + struct.pack("<IHHI", off + len(data), 0, 0, off) + ih + data


def exif_bytes(orientation):
    ex = Image.Exif()
    ex[0x0112] = orientation
    return ex.tobytes()


def write(name, data):
    with open(os.path.join(OUT, name), "wb") as f:
        f.write(data)
    return f"{REL}/{name}"


def crc(b):
    return zlib.crc32(bytes(b)) & 0xFFFFFFFF


# ---------------------------------------------------------------- inputs
os.makedirs(os.path.join(OUT, "resized"), exist_ok=True)
for f in os.listdir(os.path.join(OUT, "resized")):
    os.remove(os.path.join(OUT, "resized", f))
inputs = {}  # name -> repo-relative path
a4 = smooth(90, 120, 4)
inputs["rgba"] = write("rgba.png", pil_bytes(Image.fromarray(a4, "RGBA"), "PNG"))
inputs["la"] = write("la.png", pil_bytes(Image.fromarray(a4[..., :2], "LA"), "PNG"))
P = Image.fromarray(smooth(70, 100)).convert("P", palette=Image.ADAPTIVE, colors=64)
inputs["pal_trns"] = write("pal_trns.png", pil_bytes(P, "PNG", transparency=bytes(range(0, 256, 4))))
inputs["pal2bit"] = write("pal2bit.png", pil_bytes(Image.fromarray(smooth(21, 33)).convert(
    "P", palette=Image.ADAPTIVE, colors=4), "PNG", bits=2))
inputs["gray_png"] = write("gray.png", pil_bytes(Image.fromarray(smooth(40, 50, 1)[..., 0], "L"), "PNG"))
inputs["gray4bit"] = write("gray4bit.png", png_raw(rng.integers(0, 16, (11, 19, 1)), 4, 0))
inputs["rgb16"] = write("rgb16.png", png_raw((smooth(30, 40).astype(np.uint16) * 257 +
                                               rng.integers(0, 257, (30, 40, 3))).astype(np.uint16), 16, 2))
inputs["g16_all"] = write("g16_all.png", png_raw(np.arange(65536, dtype=np.uint16).reshape(256, 256, 1), 16, 0))
inputs["interlaced"] = write("interlaced.png", png_raw(smooth(37, 29), 8, 2, interlace=True))
inputs["gray_jpg"] = write("gray.jpg", pil_bytes(Image.fromarray(smooth(100, 140, 1)[..., 0], "L"), "JPEG",
                                                 quality=90))
inputs["cmyk"] = write("cmyk.jpg", pil_bytes(Image.fromarray(smooth(80, 110, 4), "CMYK"), "JPEG", quality=90))
inputs["prog"] = write("progressive.jpg", pil_bytes(Image.fromarray(smooth(64, 96)), "JPEG", quality=85,
                                                    progressive=True, subsampling=1))
base = Image.fromarray(smooth(24, 40))
for o in range(2, 9):
    inputs[f"exif{o}"] = write(f"exif{o}.jpg", pil_bytes(base, "JPEG", quality=90, exif=exif_bytes(o)))
inputs["exif6_png"] = write("exif6.png", pil_bytes(base, "PNG", exif=exif_bytes(6)))
inputs["exif8_webp"] = write("exif8.webp", pil_bytes(base, "WEBP", lossless=True, exif=exif_bytes(8)))
tiff_mm = b"MM\x00\x2a\x00\x00\x00\x08" + struct.pack(">H", 1) + struct.pack(">HHIHH", 0x0112, 3, 1, 5, 0) + b"\0" * 4
inputs["exif5_mm"] = write("exif5_mm.jpg", pil_bytes(base, "JPEG", quality=90, exif=b"Exif\x00\x00" + tiff_mm))
jb = pil_bytes(base, "JPEG", quality=90, exif=exif_bytes(6))
xmp = b"http://ns.adobe.com/xap/1.0/\x00<x:xmpmeta/>"
inputs["xmp_first"] = write("xmp_first.jpg", jb[:2] + b"\xff\xe1" + struct.pack(">H", len(xmp) + 2) + xmp + jb[2:])
inputs["webp_lossy"] = write("lossy.webp", pil_bytes(Image.fromarray(smooth(75, 101)), "WEBP", quality=75))
inputs["webp_lossless"] = write("lossless.webp", pil_bytes(Image.fromarray(smooth(60, 80)), "WEBP", lossless=True))
inputs["webp_alpha"] = write("alpha.webp", pil_bytes(Image.fromarray(smooth(60, 80, 4), "RGBA"), "WEBP",
                                                     quality=80))
fr = [Image.fromarray(smooth(40, 50, 4), "RGBA") for _ in range(3)]
inputs["webp_anim"] = write("anim.webp", pil_bytes(fr[0], "WEBP", save_all=True, append_images=fr[1:],
                                                   lossless=True, exact=True))
gpal = [tuple(int(v) for v in rng.integers(0, 256, 3)) for _ in range(256)]
inputs["gif"] = write("plain.gif", pil_bytes(Image.fromarray(smooth(50, 70)).convert("P"), "GIF"))
inputs["gif_sub_trans"] = write("sub_trans.gif", gif_bytes(60, 50, [dict(
    x=10, y=5, w=30, h=20, idx=rng.integers(0, 32, 600), trans=3)], gpal=gpal, bg=9))
inputs["gif_local"] = write("local.gif", gif_bytes(40, 30, [dict(x=3, y=4, w=30, h=20, idx=rng.integers(
    0, 16, 600), lpal=gpal[:16])]))
inputs["gif_anim"] = write("anim.gif", gif_bytes(30, 20, [dict(x=0, y=0, w=30, h=20, idx=rng.integers(0, 256, 600)),
                                                    dict(x=2, y=2, w=10, h=10, idx=rng.integers(0, 256, 100))],
                                                 gpal=gpal, bg=1))
inputs["bmp24"] = write("rgb24.bmp", pil_bytes(Image.fromarray(smooth(30, 45)), "BMP"))
inputs["bmp8"] = write("pal8.bmp", pil_bytes(Image.fromarray(smooth(30, 45)).convert("P"), "BMP"))
inputs["bmp565"] = write("rgb565.bmp", bmp_bytes(21, 13, 16, [bytes(rng.integers(0, 256, 42, dtype=np.uint8))
                                                             for _ in range(13)], 3, [0xF800, 0x7E0, 0x1F]))
inputs["bmp32"] = write("bgrx32.bmp", bmp_bytes(21, 13, 32, [bytes(rng.integers(0, 256, 84, dtype=np.uint8))
                                                            for _ in range(13)]))
inputs["ppm"] = write("rgb.ppm", pil_bytes(Image.fromarray(smooth(17, 23)), "PPM"))
inputs["tiff"] = write("lzw.tif", pil_bytes(Image.fromarray(smooth(17, 23)), "TIFF", compression="tiff_lzw"))
inputs["s20"] = write("20x20.png", pil_bytes(Image.fromarray(smooth(20, 20)), "PNG"))
inputs["wide"] = write("3000x400.jpg", pil_bytes(Image.fromarray(smooth(400, 3000)), "JPEG", quality=80))
inputs["one"] = write("1x1.png", pil_bytes(Image.fromarray(np.array([[[200, 30, 90]]], np.uint8)), "PNG"))
inputs["thin_h"] = write("600x2.png", pil_bytes(Image.fromarray(smooth(2, 600)), "PNG"))
inputs["thin_w"] = write("2x600.png", pil_bytes(Image.fromarray(smooth(600, 2)), "PNG"))
# corrupt, truncated, unknown
full = open(os.path.join(ROOT, inputs["prog"]), "rb").read()
inputs["trunc_jpg"] = write("truncated.jpg", full[:len(full) // 2])
full = open(os.path.join(ROOT, inputs["rgba"]), "rb").read()
inputs["trunc_png"] = write("truncated.png", full[:len(full) * 2 // 3])
full = open(os.path.join(ROOT, inputs["webp_lossy"]), "rb").read()
inputs["trunc_webp"] = write("truncated.webp", full[:len(full) // 2])
full = open(os.path.join(ROOT, inputs["gif"]), "rb").read()
inputs["trunc_gif"] = write("truncated.gif", full[:len(full) // 2])
bad = bytearray(open(os.path.join(ROOT, inputs["s20"]), "rb").read())
bad[40] ^= 0xFF  # inside IDAT: CRC mismatch on a critical chunk
inputs["badcrc_png"] = write("badcrc.png", bytes(bad))
inputs["garbage"] = write("garbage.bin", bytes(rng.integers(0, 256, 300, dtype=np.uint8)))
inputs["empty"] = write("empty.bin", b"")
# headers declaring huge images: refused before decoding (the reference would try to allocate them)
tiny_idat = zlib.compress(b"\x00" * 64)
inputs["huge_png"] = write("huge50000.png", png_raw(np.zeros((1, 1, 3), np.uint8), 8, 2, idat=tiny_idat)
                           .replace(struct.pack(">II", 1, 1), struct.pack(">II", 50000, 50000), 1))
inputs["side_png"] = write("side50001.png", png_raw(np.zeros((1, 1, 3), np.uint8), 8, 2, idat=tiny_idat)
                           .replace(struct.pack(">II", 1, 1), struct.pack(">II", 50001, 16), 1))
inputs["mp_png"] = write("pixels20000.png", png_raw(np.zeros((1, 1, 3), np.uint8), 8, 2, idat=tiny_idat)
                         .replace(struct.pack(">II", 1, 1), struct.pack(">II", 20000, 20000), 1))
jb = bytearray(pil_bytes(Image.fromarray(smooth(8, 8)), "JPEG", quality=50))
sof = jb.index(b"\xff\xc0")
jb[sof + 5:sof + 9] = struct.pack(">HH", 30000, 30000)  # SOF0 height, width
inputs["huge_jpg"] = write("huge30000.jpg", bytes(jb))
jb[sof + 5:sof + 9] = struct.pack(">HH", 40, 72)  # data for 8x8, header says 72x40: libjpeg pads, a warning only
inputs["lying_jpg"] = write("lying.jpg", bytes(jb))
vp8x = b"VP8X" + struct.pack("<I", 10) + b"\x00\x00\x00\x00" + (15999).to_bytes(3, "little") * 2
inputs["huge_webp"] = write("huge16000.webp", b"RIFF" + struct.pack("<I", 4 + len(vp8x)) + b"WEBP" + vp8x)
inputs["huge_gif"] = write("huge60000.gif", gif_bytes(60000, 10, [dict(x=0, y=0, w=2, h=2, idx=[0, 1, 2, 3])],
                                                     gpal=gpal[:4]))
inputs["huge_bmp"] = write("huge.bmp", bmp_bytes(2, 2, 24, [b"\0" * 6] * 2)[:18] + struct.pack("<ii", 20000, 20000)
                           + bmp_bytes(2, 2, 24, [b"\0" * 6] * 2)[26:])

system = {
    "astronaut": f"{SKIMAGE}/astronaut.png", "chelsea": f"{SKIMAGE}/chelsea.png", "coffee": f"{SKIMAGE}/coffee.png",
    "baboon": f"{OPENCV}/baboon.jpg", "happyfish": f"{OPENCV}/HappyFish.jpg", "aero1": f"{OPENCV}/aero1.jpg",
}


def path_of(key):
    return system[key] if key in system else os.path.join(ROOT, inputs[key])


ip = Gemma4UnifiedImageProcessor()


def ref_decode(key):
    """CHW uint8 tensor as the reference loads it, or None where it fails"""
    p = path_of(key)
    if p.endswith((".bmp", ".ppm", ".tif")):  # not torchcodec formats: PIL, as transformers' load_image
        return torch.from_numpy(np.array(Image.open(p).convert("RGB"))).permute(2, 0, 1).contiguous()
    try:
        t = ip.fetch_images(p)
    except Exception:  # noqa: BLE001 -- any failure of the reference is an expected failure for us
        return None
    if t.ndim == 4:  # animated: the processor would treat each frame as an image; we take the first
        t = t[0]
    return t


# ---------------------------------------------------------------- decode expectations
decode = []
for key in list(inputs) + list(system):
    p = path_of(key)
    if key in system and not os.path.exists(p):
        sys.exit(f"{p} missing: run tools/fetch-media.sh first")
    rel = system[key] if key in system else inputs[key]
    e = {"key": key, "file": rel, "system": key in system}
    if key.startswith("huge_") or key in ("side_png", "mp_png"):
        e.update(ok=False, refuse=True)  # our limits; the reference would try (and may manage) to decode these
        decode.append(e)
        continue
    t = ref_decode(key)
    if t is None:
        e["ok"] = False
    else:
        hwc = t.permute(1, 2, 0).contiguous().numpy()
        e.update(ok=True, w=int(hwc.shape[1]), h=int(hwc.shape[0]), crc=crc(hwc.tobytes()))
        if key == "g16_all":  # torchcodec's 16 -> 8 bit: round(v / 257) for every value
            assert (hwc[..., 0].reshape(-1) == np.round(np.arange(65536) / 257)).all()
        if key == "pal_trns":  # alpha dropped, not composited
            assert (hwc == np.array(P.convert("RGB"))).all()
    decode.append(e)
    print("decode", key, "ok" if e["ok"] else "FAILS (reference)")
for key in ["trunc_jpg", "trunc_png", "trunc_webp", "trunc_gif", "badcrc_png", "garbage", "empty"]:
    assert not next(e for e in decode if e["key"] == key)["ok"], key

# ---------------------------------------------------------------- target sizes
target = []
sizes = [(1, 1), (2, 3), (20, 20), (48, 48), (768, 768), (1024, 1024), (1920, 1080), (1080, 1920), (4000, 3000),
         (3000, 400), (400, 3000), (600, 2), (2, 600), (1, 50000), (50000, 1), (50000, 50000), (10000, 10),
         (10, 10000), (333, 777), (12345, 6789), (641, 480), (5000, 17), (17, 5000)]
sizes += [(int(w), int(h)) for w, h in rng.integers(1, 6000, (40, 2))]
for w, h in sizes:
    for b in (70, 140, 280, 560, 1120):
        th, tw = get_aspect_ratio_preserving_size(height=h, width=w, patch_size=16, max_patches=b * 9,
                                                  pooling_kernel_size=3)
        target.append([w, h, b, tw, th])

# ---------------------------------------------------------------- processor cases
cases = [("rgba", 280), ("la", 280), ("pal_trns", 280), ("gray_jpg", 280), ("cmyk", 280), ("exif6", 70),
         ("exif6_png", 70), ("webp_lossy", 280), ("webp_alpha", 70), ("webp_anim", 70), ("gif_sub_trans", 70),
         ("bmp24", 70), ("s20", 280), ("s20", 70), ("s20", 1120), ("wide", 280), ("wide", 70), ("wide", 1120),
         ("one", 280), ("thin_h", 280), ("thin_w", 70), ("interlaced", 140), ("rgb16", 560),
         ("astronaut", 280), ("astronaut", 1120), ("chelsea", 280), ("chelsea", 70), ("coffee", 280),
         ("baboon", 280), ("baboon", 560), ("happyfish", 280), ("aero1", 280), ("aero1", 70)]
process = []
for key, budget in cases:
    t = ref_decode(key)
    out = ip(images=[t], max_soft_tokens=budget, return_tensors="pt")
    n = int(out["num_soft_tokens_per_image"][0])
    pv = out["pixel_values"][0, :n].numpy()
    pos = out["image_position_ids"][0, :n].numpy()
    rs = ip.aspect_ratio_preserving_resize(image=t, patch_size=16, max_patches=budget * 9, pooling_kernel_size=3,
                                           resample=tvF.InterpolationMode.BICUBIC)
    rs = rs.permute(1, 2, 0).contiguous().numpy()
    th, tw = rs.shape[:2]
    gh, gw = th // 48, tw // 48
    assert n == gh * gw
    # the processor's patch vectors are the resized pixels, 48x48 blocks row-major, (y, x, c), times float32(1/255)
    blocks = rs.reshape(gh, 48, gw, 48, 3).transpose(0, 2, 1, 3, 4).reshape(n, -1)
    assert (pv == (torch.from_numpy(blocks) * (1 / 255)).numpy()).all(), key
    assert (pos == np.stack([np.arange(n) % gw, np.arange(n) // gw], 1)).all(), key
    # two corners of the resized image (top-left, bottom-right; <= 96x96 each, side by side) kept losslessly
    # so the test can count 1-level differences; the whole image is covered by its CRC and block sums
    ch, cw = min(96, th), min(96, tw)
    name = f"{key}-{budget}.png"
    Image.fromarray(np.concatenate([rs[:ch, :cw], rs[th - ch:, tw - cw:]], axis=1)).save(
        os.path.join(OUT, "resized", name), optimize=True)
    idx = sorted(set(int(i) for i in rng.integers(0, n * 6912, 24)) | {0, n * 6912 - 1})
    process.append({
        "key": key, "file": system[key] if key in system else inputs[key], "system": key in system,
        "budget": budget, "w": int(t.shape[2]), "h": int(t.shape[1]), "tw": tw, "th": th, "n": n,
        "pos": pos.reshape(-1).tolist(), "resized_crc": crc(rs.tobytes()),
        "corners": f"{REL}/resized/{name}", "corner_w": cw, "corner_h": ch,
        "block_sums": [int(v) for v in blocks.astype(np.int64).sum(1)],
        "samples": [[i // 6912, i % 6912, float(pv.reshape(-1)[i])] for i in idx],
        "token_sums": [float("%.12g" % v) for v in pv.astype(np.float64).sum(1)],
    })
    print("process", key, budget, f"{t.shape[2]}x{t.shape[1]} -> {tw}x{th}", n, "tokens")

with open(os.path.join(OUT, "expected.json"), "w") as f:
    json.dump({"versions": {k: m.__version__ for k, (m, _) in PINNED.items()}, "decode": decode,
               "target": target, "process": process}, f, separators=(",", ":"))
total = sum(os.path.getsize(os.path.join(dp, fn)) for dp, _, fns in os.walk(OUT) for fn in fns)
print(f"wrote {OUT}: {total / 1e6:.2f} MB")
