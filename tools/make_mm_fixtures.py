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

Reference: Gemma4UnifiedForConditionalGeneration with the masks of create_masks_for_generate (image/video
blocks bidirectional in sliding layers only, spec §2.5), fp32; then 16 greedy decode steps (causal).
Writes tests/data/mm/tiny-mm/: config.json, model.safetensors, expected.json, expected.bin (f32 logits:
prefill [T, V] then decode [16, V]), img*.u8 (patches as bytes: value = byte * float32(1/255)), img*.pos
(int32 x, y), audio.f32 (frames), vid.u8/vid.pos, embd_*.f32 (soft-token embeddings from the reference).
Usage: python tools/make_mm_fixtures.py  (pinned versions: tools/requirements.txt)
"""
import json
import os
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
IDS = dict(boi_token_id=500, image_token_id=501, eoi_token_id=502, boa_token_id=503, audio_token_id=504,
           eoa_token_index=505, video_token_id=506)
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
    return a, b, c


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
    img_a, img_b, wav = make_inputs()
    model, tc = build()
    os.makedirs(OUT, exist_ok=True)
    model.save_pretrained(OUT, safe_serialization=True)
    gp = os.path.join(OUT, "generation_config.json")
    if os.path.exists(gp):
        os.remove(gp)
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
    txt = lambda n: [int(x) for x in rng.integers(3, 480, size=n)]
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
        # prefill with generate()'s masks (bidirectional image/video blocks in sliding layers only)
        embeds = model.get_input_embeddings()(input_ids)
        pos = torch.arange(len(ids))[None]
        masks = model.create_masks_for_generate(model.config, embeds, None, None, pos, mm_token_type_ids=mm_types)
        out = model(input_ids=input_ids, attention_mask=masks, mm_token_type_ids=mm_types, use_cache=True, **kw)
        prefill = out.logits[0].numpy()
        causal = model(input_ids=input_ids, use_cache=False, **kw).logits[0].numpy()  # bare forward: other masks
        past = out.past_key_values
        tok = int(out.logits[0, -1].argmax())
        dec, greedy = [], []
        for _ in range(N_DECODE):
            greedy.append(tok)
            o = model(input_ids=torch.tensor([[tok]]), past_key_values=past, use_cache=True)
            past = o.past_key_values
            dec.append(o.logits[0].numpy())
            tok = int(o.logits[0, -1].argmax())
        # the same through generate() itself, to be sure the hand-made masks are generate()'s
        gen = model.generate(input_ids=input_ids, attention_mask=torch.ones_like(input_ids), mm_token_type_ids=mm_types,
                             max_new_tokens=N_DECODE, do_sample=False, **kw)
        assert gen[0, len(ids):].tolist() == greedy, (gen[0, len(ids):].tolist(), greedy)
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


if __name__ == "__main__":
    main()
