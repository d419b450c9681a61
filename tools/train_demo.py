#!/usr/bin/env python3
"""train_demo.py -- trains the bundled demo model: transformers' own gemma4_unified classes at a small size,
on the toy world of tools/demo_data.py, and saves a Hugging Face checkpoint `gemma4 convert` reads.

Why: issue 6 wants a model of the exact Gemma 4 12B architecture (5 sliding : 1 full layers, k=v full
layers with one KV head and twice the head size, proportional RoPE, the 48-px vision embedder and the
640-sample audio projection, logit softcap 30) that gives right answers, so a newcomer sees the engine
work.  Only the sizes are small.  Inputs are made by the model's own processor classes (image, audio
feature extractor, video) with the chat template the C engine renders, so what PyTorch trains on is
what `gemma4 run` computes from the same files.  Loss is on the answer tokens only.

Presets: `tiny` (for a quick check of the whole path) and `demo` (the issue's 12 layers, hidden 256).

Usage:
  python tools/train_demo.py --out /work/demo-out/ckpt [--preset demo] [--minutes 15] [--steps N]
         [--micro image=8,speech=8,video=3,text=12] [--lr 1e-3] [--threads 1] [--seed 0] [--vocab 1024] [--init CKPT]
         [--device cpu|cuda] [--save-every MINUTES]
Writes OUT/: config.json, model.safetensors, generation_config.json, tokenizer.json, chat_template.jinja,
processor files, and train_log.jsonl (step, loss per kind and mean, seconds).
"""
import argparse
import json
import math
import os
import shutil
import sys
import time

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import demo_data  # noqa: E402
import demo_tokenizer  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
TEMPLATE = os.path.join(HERE, "..", "..", "shared", "fixtures", "chat", "google-gemma-4-31B-it.jinja")
IMAGE_TOKENS = 70   # soft tokens per image (gemma4 run --image-tokens 70); video frames use 70 as well
VIDEO_FPS = 1.0     # demo videos are 4 frames at 1 fps (timestamps 00:00 .. 00:03)

PRESETS = {
    # 12 layers: full attention at 5 and 11, as the 12B's (i+1) % 6 rule; heads 16:8:1 -> 4:2:1
    "demo": dict(hidden_size=256, intermediate_size=1024, num_hidden_layers=12, num_attention_heads=4,
                 num_key_value_heads=2, num_global_key_value_heads=1, head_dim=64, global_head_dim=128),
    "tiny": dict(hidden_size=128, intermediate_size=512, num_hidden_layers=6, num_attention_heads=4,
                 num_key_value_heads=2, num_global_key_value_heads=1, head_dim=32, global_head_dim=64),
}


def make_config(preset, n_vocab, sliding_window=128):
    from transformers.models.gemma4_unified import (Gemma4UnifiedAudioConfig, Gemma4UnifiedConfig,
                                                    Gemma4UnifiedTextConfig, Gemma4UnifiedVisionConfig)
    p = PRESETS[preset]
    ids = demo_tokenizer.SPECIAL_IDS
    tc = Gemma4UnifiedTextConfig(vocab_size=n_vocab, sliding_window=sliding_window, attention_k_eq_v=True,
                                 final_logit_softcapping=30.0, max_position_embeddings=4096, rms_norm_eps=1e-6,
                                 hidden_activation="gelu_pytorch_tanh", tie_word_embeddings=True,
                                 pad_token_id=ids["pad"], bos_token_id=ids["bos"],
                                 eos_token_id=[ids["eos"], ids["turn_end"], ids["tool_response"]], **p)
    vc = Gemma4UnifiedVisionConfig(mm_embed_dim=p["hidden_size"], output_proj_dims=p["hidden_size"])
    return Gemma4UnifiedConfig(text_config=tc, vision_config=vc, audio_config=Gemma4UnifiedAudioConfig(),
                               eos_token_id=[ids["eos"], ids["turn_end"], ids["tool_response"]],
                               **demo_tokenizer.MM_IDS)


def make_processor(tokenizer_path):
    from transformers.models.gemma4_unified.feature_extraction_gemma4_unified import Gemma4UnifiedAudioFeatureExtractor
    from transformers.models.gemma4_unified.image_processing_gemma4_unified import Gemma4UnifiedImageProcessor
    from transformers.models.gemma4_unified.processing_gemma4_unified import Gemma4UnifiedProcessor
    from transformers.models.gemma4_unified.video_processing_gemma4_unified import Gemma4UnifiedVideoProcessor
    tok = demo_tokenizer.hf_tokenizer(tokenizer_path)
    return Gemma4UnifiedProcessor(Gemma4UnifiedAudioFeatureExtractor(), Gemma4UnifiedImageProcessor(max_soft_tokens=IMAGE_TOKENS), tok,
                                  Gemma4UnifiedVideoProcessor(), chat_template=open(TEMPLATE).read())


def media_of(s):
    """The sample's media in prompt order, as the processor takes them."""
    from transformers.video_utils import VideoMetadata
    imgs, auds, vids, metas = [], [], [], []
    for m in s["messages"]:
        if isinstance(m.get("content"), list):
            for p in m["content"]:
                if p["type"] == "image":
                    imgs.append(p["image"])
                elif p["type"] == "audio":
                    auds.append(p["audio"].astype(np.float32) / 32768.0)
                elif p["type"] == "video":
                    f = p["video"]
                    vids.append(torch.from_numpy(np.ascontiguousarray(f)).permute(0, 3, 1, 2))
                    metas.append(VideoMetadata(total_num_frames=len(f), fps=VIDEO_FPS, width=f.shape[2],
                                               height=f.shape[1], duration=len(f) / VIDEO_FPS,
                                               frames_indices=list(range(len(f)))))
    return imgs, auds, vids, metas


def encode_prompt(proc, s):
    """The generation prompt of sample s as model inputs (batch of 1), made by the processor."""
    text = proc.apply_chat_template(s["messages"], tools=s["tools"], tokenize=False, add_generation_prompt=True)
    imgs, auds, vids, metas = media_of(s)
    kw = dict(text=[text], return_tensors="pt", add_special_tokens=False)
    if imgs:
        kw.update(images=[imgs], images_kwargs=dict(max_soft_tokens=IMAGE_TOKENS))
    if auds:
        kw.update(audio=auds, audio_kwargs=dict(sampling_rate=demo_data.SR))
    if vids:
        kw.update(videos=vids, videos_kwargs=dict(video_metadata=metas, do_sample_frames=False,
                                                  max_soft_tokens=IMAGE_TOKENS))
    return dict(proc(**kw)), text


def encode_train(proc, s):
    """Prompt inputs plus the answer ids appended; labels mark the answer."""
    x, _ = encode_prompt(proc, s)
    ans = proc.tokenizer(s["answer"], add_special_tokens=False, return_tensors="pt")["input_ids"]
    n = x["input_ids"].shape[1]
    x["input_ids"] = torch.cat([x["input_ids"], ans], 1)
    x["attention_mask"] = torch.ones_like(x["input_ids"])
    if "mm_token_type_ids" in x:
        x["mm_token_type_ids"] = torch.cat([x["mm_token_type_ids"], torch.zeros_like(ans)], 1)
    x["labels"] = torch.cat([torch.full((1, n), -100), ans], 1)
    return x


def collate(items):
    """Right-padded batch of encoded samples; media tensors concatenated in sample order."""
    T = max(x["input_ids"].shape[1] for x in items)
    pad = lambda t, v: torch.nn.functional.pad(t, (0, T - t.shape[1]), value=v)
    b = dict(input_ids=torch.cat([pad(x["input_ids"], 0) for x in items]),
             attention_mask=torch.cat([pad(x["attention_mask"], 0) for x in items]),
             mm_token_type_ids=torch.cat([pad(x.get("mm_token_type_ids", torch.zeros_like(x["input_ids"])), 0)
                                          for x in items]),
             labels=torch.cat([pad(x["labels"], -100) for x in items]))
    for k in ["pixel_values", "image_position_ids", "pixel_values_videos", "video_position_ids", "num_frames_per_video"]:
        parts = [x[k] for x in items if k in x]
        if parts:
            b[k] = torch.cat(parts)
    auds = [x for x in items if "input_features" in x]
    if auds:
        F = max(x["input_features"].shape[1] for x in auds)
        b["input_features"] = torch.cat([torch.nn.functional.pad(x["input_features"], (0, 0, 0, F - x["input_features"].shape[1]))
                                         for x in auds])
        b["input_features_mask"] = torch.cat([torch.nn.functional.pad(x["input_features_mask"], (0, F - x["input_features_mask"].shape[1]))
                                              for x in auds])
    return b


def loss_of(model, b, device="cpu"):
    b = {k: v.to(device) for k, v in b.items()}
    labels = b.pop("labels")
    logits = model(**b, use_cache=False).logits
    return torch.nn.functional.cross_entropy(logits[:, :-1].flatten(0, 1).float(), labels[:, 1:].flatten())


def lr_at(step, total, peak, time_frac=0.0):
    """Linear warm-up, then cosine decay over whichever runs out first: the step schedule or the
    wall-clock budget (time_frac = elapsed / --minutes), so a run cut by --minutes still ends decayed."""
    warm = min(50, max(1, total // 10))
    if step < warm:
        return peak * (step + 1) / warm
    frac = max((step - warm) / max(1, total - warm), time_frac)
    return peak * 0.5 * (1 + math.cos(math.pi * min(1.0, frac)))


def save(model, proc, out, log):
    os.makedirs(out, exist_ok=True)
    model.save_pretrained(out, safe_serialization=True)
    proc.save_pretrained(out)
    shutil.copy(TEMPLATE, os.path.join(out, "chat_template.jinja"))
    with open(os.path.join(out, "train_log.jsonl"), "w") as f:
        f.writelines(json.dumps(r) + "\n" for r in log)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out", required=True)
    ap.add_argument("--preset", default="demo", choices=list(PRESETS))
    ap.add_argument("--minutes", type=float, default=15.0, help="wall-clock budget of the training loop")
    ap.add_argument("--steps", type=int, default=2000, help="schedule length (stops earlier at --minutes)")
    ap.add_argument("--micro", default="image=8,speech=8,video=3,text=12",
                    help="samples per kind in each step (one micro-batch per kind, gradients summed)")
    ap.add_argument("--lr", type=float, default=1e-3)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--vocab", type=int, default=1024)
    ap.add_argument("--sliding-window", type=int, default=128)
    ap.add_argument("--device", default="cpu", help="torch device: cpu, or cuda on the GPU machine")
    ap.add_argument("--save-every", type=float, default=10.0, help="minutes between checkpoint saves (0: only at the end)")
    ap.add_argument("--init", default=None, help="start from this checkpoint (its tokenizer and config) instead of scratch")
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(a.seed)
    rng = np.random.default_rng([a.seed, 7])
    os.makedirs(a.out, exist_ok=True)
    tok_path = os.path.join(a.out, "tokenizer.json")
    if a.init:
        shutil.copy(os.path.join(a.init, "tokenizer.json"), tok_path)
    else:
        with open(tok_path, "w", encoding="utf-8") as f:
            json.dump(demo_tokenizer.build(a.vocab, a.seed), f, ensure_ascii=False)
    proc = make_processor(tok_path)
    from transformers.models.gemma4_unified import Gemma4UnifiedForConditionalGeneration
    if a.init:
        model = Gemma4UnifiedForConditionalGeneration.from_pretrained(a.init, dtype=torch.float32).train()
    else:
        cfg = make_config(a.preset, len(proc.tokenizer), a.sliding_window)
        model = Gemma4UnifiedForConditionalGeneration(cfg).train()
    model.to(a.device)
    print("params %.2fM on %s" % (sum(p.numel() for p in model.parameters()) / 1e6, a.device), file=sys.stderr)
    opt = torch.optim.AdamW(model.parameters(), lr=a.lr, betas=(0.9, 0.98), weight_decay=0.01)
    micro = {k: int(v) for k, v in (kv.split("=") for kv in a.micro.split(","))}
    log, t0, ema = [], time.time(), None
    last_save = t0
    for step in range(a.steps):
        if time.time() - t0 > a.minutes * 60:
            break
        for g in opt.param_groups:
            g["lr"] = lr_at(step, a.steps, a.lr, (time.time() - t0) / (a.minutes * 60))
        opt.zero_grad(set_to_none=True)
        rec, td, ntok = dict(step=step), 0.0, 0
        for kind, n in micro.items():  # one batch per kind: little padding, every kind in every step
            t1 = time.time()
            b = collate([encode_train(proc, demo_data.KINDS[kind](rng)) for _ in range(n)])
            td += time.time() - t1
            ntok += int(b["input_ids"].numel())
            loss = loss_of(model, b, a.device)
            (loss / len(micro)).backward()
            rec[kind] = round(loss.item(), 4)
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        mean = sum(rec[k] for k in micro) / len(micro)
        ema = mean if ema is None else 0.95 * ema + 0.05 * mean
        rec.update(loss=round(mean, 4), ema=round(ema, 4), lr=round(opt.param_groups[0]["lr"], 6), t=round(time.time() - t0, 1), data_s=round(td, 2),
                   tokens=ntok)
        log.append(rec)
        if step % 10 == 0:
            print(json.dumps(rec), file=sys.stderr, flush=True)
        if a.save_every and time.time() - last_save > a.save_every * 60:  # a crash loses little
            model.eval()
            save(model, proc, a.out, log)  # (save_pretrained copies tensors to the CPU itself)
            model.train()
            last_save = time.time()
    model.eval().to("cpu")
    save(model, proc, a.out, log)
    print("saved %s after %d steps, %.0f s, loss ema %.3f" % (a.out, len(log), time.time() - t0, ema), file=sys.stderr)


if __name__ == "__main__":
    main()
