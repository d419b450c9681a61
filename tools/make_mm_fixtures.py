#!/usr/bin/env python3
"""make_mm_fixtures.py -- a tiny random gemma4_unified model WITH the vision embedder and audio projection,
real media run through transformers' own processors, and the model's logits as generate() computes them.

The model keeps the real geometry of the multimodal path: 48-px patches (6912-wide patch vectors), the
[1120, 2, D] position table, 640-sample audio frames; the text decoder is tiny (12 layers, 16:8:1 heads,
sliding window 8, so image blocks are wider than the window).  Special token ids are remapped into the tiny
vocabulary through the config (boi 500, image 501, eoi 502, boa 503, audio 504, eoa 505, video 506).

Inputs (committed next to the fixture): two images decoded and preprocessed by Gemma4UnifiedImageProcessor
(torchcodec decode, bicubic antialias resize) at a budget of 70 soft tokens, one speech clip loaded by
transformers.audio_utils.load_audio (torchcodec, 16 kHz mono) and chunked by the feature extractor, and a
two-frame "video" through the video processor.  The prompt interleaves text, image, audio and video blocks.

Reference: Gemma4UnifiedForConditionalGeneration as generate() runs it (DynamicCache): the model's forward with
mm_token_type_ids, which ORs the image/video blocks into BOTH the causal (full layers) and the sliding-window mask.
(The class's create_masks_for_generate -- blocks in sliding layers only, window applied, what spec §2.5 describes --
is used only for static-cache/compiled generation; the default path is checked against generate() below.)
fp32; then 16 greedy decode steps (causal).
Writes tests/data/mm/tiny-mm/: config.json, model.safetensors, expected.json, expected.bin (f32 logits:
prefill [T, V] then decode [16, V]), img*.u8 (patches as bytes: value = byte * float32(1/255)), img*.pos
(int32 x, y), audio.f32 (frames), vid.u8/vid.pos, embd_*.f32 (soft-token embeddings from the reference).
Usage: python tools/make_mm_fixtures.py  (pinned versions: tools/requirements.txt)
"""
import json
import os
import shutil
import sys

import numpy as np
import torch
from transformers.audio_utils import load_audio
from transformers.models.gemma4_unified import (Gemma4UnifiedAudioConfig, Gemma4UnifiedConfig,
                                                Gemma4UnifiedForConditionalGeneration, Gemma4UnifiedTextConfig,
                                                Gemma4UnifiedVisionConfig)
from transformers.models.gemma4_unified.feature_extraction_gemma4_unified import Gemma4UnifiedAudioFeatureExtractor
from transformers.models.gemma4_unified.image_processing_gemma4_unified import Gemma4UnifiedImageProcessor
from transformers.models.gemma4_unified.video_processing_gemma4_unified import Gemma4UnifiedVideoProcessor

HERE = os.path.dirname(os.path.abspath(__file__))
DATA = os.path.join(HERE, "..", "tests", "data", "mm")
OUT = os.path.join(DATA, "tiny-mm")
# the ids of these tokens in tests/data/tokenizer/small-512.json, which becomes the model's tokenizer.json
IDS = dict(boi_token_id=16, eoi_token_id=17, image_token_id=18, boa_token_id=19, eoa_token_index=20, audio_token_id=21,
           video_token_id=22)
TOKENIZER = os.path.join(HERE, "..", "tests", "data", "tokenizer", "small-512.json")
TEMPLATE = os.path.join(HERE, "..", "..", "shared", "fixtures", "chat", "google-gemma-4-31B-it.jinja")
N_GEN = 8
N_DECODE = 16
BUDGET = 70


def make_inputs():
    """Small media files, committed: cut from Debian's sample data when present."""
    from PIL import Image
    a = os.path.join(DATA, "cat.png")
    if not os.path.exists(a):
        im = Image.open("/usr/lib/python3/dist-packages/skimage/data/chelsea.png").convert("RGB")
        im.crop((60, 20, 60 + 230, 20 + 150)).save(a)
    b = os.path.join(DATA, "alpha.png")
    if not os.path.exists(b):
        rng = np.random.default_rng(7)
        px = rng.integers(0, 256, size=(37, 90, 4), dtype=np.uint8)
        px[:, :, 3] = np.linspace(0, 255, 90, dtype=np.uint8)[None, :]
        Image.fromarray(px, "RGBA").save(b)
    c = os.path.join(DATA, "speech.wav")
    if not os.path.exists(c):
        os.system(f"espeak-ng -w {c} -s 220 'seven cats' 2>/dev/null")
    small = os.path.join(DATA, "tiny20.png")
    if not os.path.exists(small):  # a 20x20 image: upscaled to the budget
        rng = np.random.default_rng(3)
        Image.fromarray(rng.integers(0, 256, size=(20, 20, 3), dtype=np.uint8), "RGB").save(small)
    wide = os.path.join(DATA, "wide3000x400.png")
    if not os.path.exists(wide):  # 3000x400: a very wide aspect ratio, a smooth pattern so the PNG stays small
        y, x = np.mgrid[0:400, 0:3000]
        px = np.stack([(x * 255 // 2999), (y * 255 // 399), ((x // 50 + y // 50) % 2) * 200 + 20], -1).astype(np.uint8)
        Image.fromarray(px, "RGB").save(wide, optimize=True)
    mp3 = os.path.join(DATA, "speech.mp3")
    if not os.path.exists(mp3):
        os.system(f"ffmpeg -v error -i {c} -c:a libmp3lame -b:a 48k {mp3}")
    v = os.path.join(DATA, "clip.mp4")
    if not os.path.exists(v):  # 4 s, 10 fps, 96x64 test pattern + a 440 Hz tone
        os.system(f"ffmpeg -v error -f lavfi -i testsrc=size=96x64:rate=10 -f lavfi -i sine=frequency=440:sample_rate=22050 "
                  f"-t 4 -c:v mpeg4 -q:v 6 -c:a aac -b:a 32k -shortest {v}")
    return a, b, c, v


def build():
    torch.manual_seed(11)
    tc = Gemma4UnifiedTextConfig(vocab_size=512, hidden_size=64, intermediate_size=96, num_hidden_layers=12,
                                 num_attention_heads=16, num_key_value_heads=8, num_global_key_value_heads=1,
                                 head_dim=16, global_head_dim=32, sliding_window=8, attention_k_eq_v=True,
                                 final_logit_softcapping=30.0, max_position_embeddings=4096)
    cfg = Gemma4UnifiedConfig(text_config=tc, vision_config=Gemma4UnifiedVisionConfig(mm_embed_dim=32, output_proj_dims=32),
                              audio_config=Gemma4UnifiedAudioConfig(), **IDS)
    model = Gemma4UnifiedForConditionalGeneration(cfg).eval()
    g = torch.Generator().manual_seed(111)
    with torch.no_grad():
        for name, p in model.named_parameters():
            if name.endswith("norm.weight") or name.endswith("ln1.weight") or name.endswith("ln2.weight"):
                p.copy_(torch.rand(p.shape, generator=g) * 1.5 + 0.5)
            elif name.endswith(".bias"):
                p.copy_(torch.randn(p.shape, generator=g) * 0.3)
            elif "embed_tokens" in name or "pos_embedding" in name:
                p.copy_(torch.randn(p.shape, generator=g) * 0.5)
            else:
                p.copy_(torch.randn(p.shape, generator=g) * (1.0 / p.shape[-1] ** 0.5))
        for name, b in model.named_buffers():
            if name.endswith("layer_scalar"):
                b.copy_(torch.rand(b.shape, generator=g) * 0.8 + 0.6)
    return model, tc


def main():
    img_a, img_b, wav, clip = make_inputs()
    model, tc = build()
    os.makedirs(OUT, exist_ok=True)
    model.save_pretrained(OUT, safe_serialization=True)
    gp = os.path.join(OUT, "generation_config.json")
    if os.path.exists(gp):
        os.remove(gp)
    shutil.copy(TOKENIZER, os.path.join(OUT, "tokenizer.json"))
    model = Gemma4UnifiedForConditionalGeneration.from_pretrained(OUT, dtype=torch.float32).eval()

    ip = Gemma4UnifiedImageProcessor()
    imgs = ip.fetch_images([img_a, img_b])                       # torchcodec decode, as the processor does
    pix = ip(imgs, max_soft_tokens=BUDGET, return_tensors="pt")
    nsoft = [int(n) for n in pix["num_soft_tokens_per_image"]]
    inv255 = np.float32(1.0 / 255.0)
    for i, n in enumerate(nsoft):
        pv = pix["pixel_values"][i, :n].numpy()
        u8 = np.round(pv / inv255).astype(np.uint8)
        assert np.array_equal(u8.astype(np.float32) * inv255, pv), "pixel values are not byte * f32(1/255)"
        u8.tofile(os.path.join(OUT, f"img{i}.u8"))
        pix["image_position_ids"][i, :n].numpy().astype("<i4").tofile(os.path.join(OUT, f"img{i}.pos"))

    wave = load_audio(wav, sampling_rate=16000)
    fe = Gemma4UnifiedAudioFeatureExtractor()
    af = fe(wave, return_tensors="pt")
    n_audio = int(af["input_features_mask"].sum())
    af["input_features"][0, :n_audio].numpy().astype("<f4").tofile(os.path.join(OUT, "audio.f32"))

    # a two-frame "video": frames cut from the cat picture, through the video processor (budget 70 per frame)
    from PIL import Image
    base = np.asarray(Image.open(img_a).convert("RGB"))
    frames = np.stack([base[:120, :200], base[20:140, 20:220]])  # [F, H, W, 3]
    vp = Gemma4UnifiedVideoProcessor()
    vid = vp(videos=[torch.from_numpy(frames).permute(0, 3, 1, 2)], do_sample_frames=False, return_tensors="pt")
    nf = int(vid["num_frames_per_video"][0])
    vpos = vid["video_position_ids"]
    n_per_frame = int((vpos[0] != -1).all(-1).sum())
    vu8 = np.round(vid["pixel_values_videos"][:, :n_per_frame].numpy() / inv255).astype(np.uint8)
    vu8.tofile(os.path.join(OUT, "vid.u8"))
    vpos[:, :n_per_frame].numpy().astype("<i4").tofile(os.path.join(OUT, "vid.pos"))

    # prompt: text, image a, text, audio, text, image b, text, video (2 frames with timestamp text), text
    rng = np.random.default_rng(5)
    txt = lambda n: [int(x) for x in rng.integers(25, 480, size=n)]  # ordinary tokens, no specials
    segs, ids, types = [], [], []

    def add(kind, toks, t, **kw):
        segs.append(dict(kind=kind, start=len(ids), n=len(toks), **kw))
        ids.extend(toks)
        types.extend([t] * len(toks))

    add("text", [2] + txt(5), 0)
    add("text", [IDS["boi_token_id"]], 0)
    add("image", [IDS["image_token_id"]] * nsoft[0], 1, index=0)
    add("text", [IDS["eoi_token_id"]] + txt(4) + [IDS["boa_token_id"]], 0)
    add("audio", [IDS["audio_token_id"]] * n_audio, 3)
    add("text", [IDS["eoa_token_index"]] + txt(3) + [IDS["boi_token_id"]], 0)
    add("image", [IDS["image_token_id"]] * nsoft[1], 1, index=1)
    add("text", [IDS["eoi_token_id"]] + txt(2), 0)
    for f in range(nf):
        add("text", txt(2) + [IDS["boi_token_id"]], 0)
        add("video", [IDS["video_token_id"]] * n_per_frame, 2, frame=f)
        add("text", [IDS["eoi_token_id"]], 0)
    add("text", txt(4), 0)

    input_ids = torch.tensor([ids])
    mm_types = torch.tensor([types])
    kw = dict(pixel_values=pix["pixel_values"], image_position_ids=pix["image_position_ids"],
              input_features=af["input_features"], input_features_mask=af["input_features_mask"],
              pixel_values_videos=vid["pixel_values_videos"], video_position_ids=vid["video_position_ids"],
              num_frames_per_video=vid["num_frames_per_video"])
    with torch.no_grad():
        feats = model.model.get_image_features(pix["pixel_values"], pix["image_position_ids"]).pooler_output
        for i, f in enumerate(feats):
            f.numpy().astype("<f4").tofile(os.path.join(OUT, f"embd_img{i}.f32"))
        model.model.get_audio_features(af["input_features"], af["input_features_mask"]).pooler_output[0, :n_audio] \
            .numpy().astype("<f4").tofile(os.path.join(OUT, "embd_audio.f32"))
        # prefill as generate() computes it: the forward with mm_token_type_ids (blocks in every layer)
        out = model(input_ids=input_ids, mm_token_type_ids=mm_types, use_cache=True, **kw)
        prefill = out.logits[0].numpy()
        causal = model(input_ids=input_ids, use_cache=False, **kw).logits[0].numpy()  # no blocks: plain causal
        past = out.past_key_values
        tok = int(out.logits[0, -1].argmax())
        dec, greedy = [], []
        for _ in range(N_DECODE):
            greedy.append(tok)
            o = model(input_ids=torch.tensor([[tok]]), past_key_values=past, use_cache=True)
            past = o.past_key_values
            dec.append(o.logits[0].numpy())
            tok = int(o.logits[0, -1].argmax())
        # the same through generate() itself: its first logits must be the prefill's last row
        gen = model.generate(input_ids=input_ids, attention_mask=torch.ones_like(input_ids), mm_token_type_ids=mm_types,
                             max_new_tokens=N_DECODE, do_sample=False, output_logits=True, return_dict_in_generate=True,
                             **kw)
        assert gen.sequences[0, len(ids):].tolist() == greedy, (gen.sequences[0, len(ids):].tolist(), greedy)
        g0 = gen.logits[0][0].numpy()
        assert np.abs(g0 - prefill[-1]).max() <= 1e-5 * np.abs(g0).max(), "generate() computes other masks"
    logits = np.concatenate([prefill] + dec, 0)
    logits.astype("<f4").tofile(os.path.join(OUT, "expected.bin"))
    s = np.sort(logits, -1)
    meta = dict(ids=ids, segments=segs, greedy=greedy, n_prefill=len(ids), n_decode=N_DECODE, n_vocab=tc.vocab_size,
                d_model=tc.hidden_size, budget=BUDGET, n_soft=nsoft, n_audio=n_audio, n_frames=nf,
                n_per_frame=n_per_frame, max_abs_logit=float(np.abs(logits).max()),
                min_top2_margin=float(np.min(s[:, -1] - s[:, -2])),
                mask_effect=float(np.abs(causal - prefill).max() / np.abs(prefill).max()),
                versions=dict(torch=torch.__version__, transformers=__import__("transformers").__version__))
    with open(os.path.join(OUT, "expected.json"), "w") as f:
        json.dump(meta, f, indent=1)
    print("T", len(ids), "soft", nsoft, "audio", n_audio, "video", nf, "x", n_per_frame, "mask effect",
          meta["mask_effect"], "margin", meta["min_top2_margin"], "greedy", greedy, file=sys.stderr)
    end_to_end(model, img_a, img_b, wav, clip)


def end_to_end(model, img_a, img_b, wav, clip):
    """The whole reference pipeline on files: chat template + tokenizer + processor (torchcodec decoding,
    resizing, placeholder expansion) + generate().  tests/cli_mm.sh runs `gemma4 run` on the same files and
    compares the prompt ids and the greedy tokens."""
    from transformers import PreTrainedTokenizerFast
    from transformers.models.gemma4_unified.processing_gemma4_unified import Gemma4UnifiedProcessor
    tok = PreTrainedTokenizerFast(tokenizer_file=TOKENIZER, bos_token="<bos>", eos_token="<eos>", pad_token="<pad>",
                                  unk_token="<unk>", extra_special_tokens={
                                      "image_token": "<|image|>", "boi_token": "<|image>", "eoi_token": "<image|>",
                                      "audio_token": "<|audio|>", "boa_token": "<|audio>", "eoa_token": "<audio|>"})
    proc = Gemma4UnifiedProcessor(Gemma4UnifiedAudioFeatureExtractor(), Gemma4UnifiedImageProcessor(), tok,
                                  Gemma4UnifiedVideoProcessor(), chat_template=open(TEMPLATE).read())
    root = os.path.abspath(os.path.join(HERE, ".."))
    rel = lambda p: os.path.relpath(p, root) if os.path.abspath(p).startswith(root) else p
    SK = "/usr/lib/python3/dist-packages/skimage/data/"   # Debian python3-skimage (used in place, not committed)
    CV = "/usr/share/doc/opencv-doc/examples/data/"        # Debian opencv-doc
    cases = [
        ("image", [("image", img_a), ("text", "What is in the picture?")], {}),
        ("astronaut", [("image", SK + "astronaut.png"), ("text", "Who?")], {}),
        ("coffee-560", [("image", SK + "coffee.png"), ("text", "Drink?")], {"max_soft_tokens": 560}),
        ("camera-gray", [("image", SK + "camera.png"), ("text", "Gray.")], {}),
        ("baboon-jpeg", [("image", CV + "baboon.jpg"), ("text", "Animal?")], {}),
        ("fish-jpeg-1120", [("image", CV + "HappyFish.jpg")], {"max_soft_tokens": 1120}),
        ("tiny20", [("image", os.path.join(DATA, "tiny20.png")), ("text", "Small.")], {}),
        ("wide", [("image", os.path.join(DATA, "wide3000x400.png")), ("text", "Wide.")], {}),
        ("alsa-48k", [("text", "Where?"), ("audio", "/usr/share/sounds/alsa/Front_Center.wav")], {}),
        ("mp3", [("text", "Say:"), ("audio", os.path.join(DATA, "speech.mp3"))], {}),
        ("megamind", [("video", CV + "Megamind.avi"), ("text", "Scene?")], {}),
        # a video's own sound track as an audio block after its frames (gemma4 run --video-audio); torchcodec cannot
        # decode Megamind.avi's AC-3 track ("Invalid data found"), so the reference case uses our clip's AAC track
        ("clip-sound", [("video", clip), ("audio", clip), ("text", "Both.")], {}),
        ("image-70", [("image", img_b), ("text", "Alpha.")], {"max_soft_tokens": 70}),
        ("audio", [("text", "Transcribe:"), ("audio", wav)], {}),
        ("video", [("video", clip), ("text", "What moves?")], {}),
        ("mixed", [("image", img_b), ("text", "and"), ("audio", wav), ("image", img_a), ("text", "compare")], {}),
    ]
    out = []
    for name, parts, kw in cases:
        content = []
        for kind, v in parts:
            if kind == "text":
                content.append({"type": "text", "text": v})
            else:
                content.append({"type": kind, ("url" if kind == "image" else "path"): v})
        msgs = [{"role": "user", "content": content}]
        inputs = proc.apply_chat_template(msgs, tokenize=True, return_dict=True, add_generation_prompt=True,
                                          return_tensors="pt", processor_kwargs={"images_kwargs": kw})
        with torch.no_grad():
            res = model.generate(**inputs, max_new_tokens=N_GEN, do_sample=False, output_logits=True,
                                 return_dict_in_generate=True)
        gen = res.sequences
        n = inputs["input_ids"].shape[1]
        res.logits[0][0].numpy().astype("<f4").tofile(os.path.join(OUT, f"e2e-{name}.f32"))  # after the prompt
        out.append(dict(name=name, parts=[[k, v if k == "text" else rel(v)] for k, v in parts],
                        image_tokens=kw.get("max_soft_tokens", 280), prompt_ids=inputs["input_ids"][0].tolist(),
                        generated=gen[0, n:].tolist()))
        print(name, "prompt", n, "generated", out[-1]["generated"], file=sys.stderr)
    with open(os.path.join(OUT, "e2e.json"), "w") as f:
        json.dump(out, f)


if __name__ == "__main__":
    main()
