"""WavLM-Large forward up to layer 21 in Hugging Face transformers on the CPU: the same run as bench/bench_wavlm.cpp.

transformers' WavLMModel with microsoft/wavlm-large's config (tests/fixtures/wavlm_large.json) but
num_hidden_layers=21, so that it runs exactly the 21 blocks erc runs (it adds the encoder's final layer_norm, one
LayerNorm over [T, 1024]: noise). Random init (torch.manual_seed(0)), eval(), torch.inference_mode(), float32.
WavLM supports only the eager attention: F.multi_head_attention_forward with need_weights=True and a float
attn_mask, the gated relative-position bias [H, T, T] that every layer builds. The clip is tests/fixtures/speech.wav
(int16 / 32768) tiled to 160,000 samples and normalised (x - mean) / sqrt(var + 1e-7).

The per-stage split comes from forward hooks in the timed pass itself: feature_extractor; then up to the first
block (feature_projection, the positional conv); then the blocks, within them each layer's attention and
feed_forward modules. Each repetition also times F.linear of the FFN's
shape, the attainable GEMM rate under the same load. Ends with a `RESULT torch ...` line with bench_wavlm's keys.
Usage: torch_wavlm.py [--reps N] [--threads K] [--clip WAV]
"""
import argparse
import json
import os
import resource
import time
import wave

import numpy as np
import torch
import torch.nn.functional as F
import transformers
from transformers import WavLMConfig, WavLMModel

ROOT = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
LAYER = 21
SAMPLE_RATE = 16000
SAMPLES = 10 * SAMPLE_RATE
SGEMM_PER_REP = 5


def peak_rss_mib():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0  # Linux reports KiB


def median(values):
    values = sorted(values)
    mid = len(values) // 2
    return values[mid] if len(values) % 2 else 0.5 * (values[mid - 1] + values[mid])


def load_clip(path):
    with wave.open(path, "rb") as f:
        if f.getnchannels() != 1 or f.getsampwidth() != 2 or f.getframerate() != SAMPLE_RATE:
            raise SystemExit(f"{path}: expected 16-bit mono {SAMPLE_RATE} Hz WAV, got {f.getparams()}")
        return np.frombuffer(f.readframes(f.getnframes()), dtype="<i2").astype(np.float64) / 32768.0


def count_flops(config, n_samples, layers):
    """bench_wavlm.cpp's count: GEMM-shaped work only, a multiply-add as 2 FLOP."""
    length, c_in, encoder = n_samples, 1, 0.0
    for c_out, k, s in zip(config.conv_dim, config.conv_kernel, config.conv_stride):
        length = (length - k) // s + 1
        encoder += 2.0 * c_out * c_in * k * length
        c_in = c_out
    t, h, e, k = length, config.hidden_size, config.intermediate_size, config.num_conv_pos_embeddings
    pos_frames = length + 2 * (k // 2) - k + 1
    projection = 2.0 * t * c_in * h + 2.0 * pos_frames * h * (h / config.num_conv_pos_embedding_groups) * k
    attention = layers * (4 * 2.0 * t * h * h + 2.0 * t * h * 8 + 2 * 2.0 * t * t * h)
    ffn = layers * 2 * 2.0 * t * h * e
    return length, encoder, projection, attention, ffn


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reps", type=int, default=3)
    parser.add_argument("--threads", type=int, default=len(os.sched_getaffinity(0)))
    parser.add_argument("--clip", default=os.path.join(ROOT, "tests", "fixtures", "speech.wav"))
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)

    with open(os.path.join(ROOT, "tests", "fixtures", "wavlm_large.json")) as f:
        fields = json.load(f)
    fields["num_hidden_layers"] = LAYER
    config = WavLMConfig(**fields)
    model = WavLMModel(config).float().eval()

    clip = load_clip(args.clip)
    x = np.resize(clip, SAMPLES)  # repeats the clip to exactly SAMPLES
    x = (x - x.mean()) / np.sqrt(x.var() + 1e-7)
    waveform = torch.from_numpy(x.astype(np.float32))[None]  # [1, n_samples]

    frames, encoder_flop, projection_flop, attention_flop, ffn_flop = count_flops(config, SAMPLES, LAYER)
    blocks_flop = attention_flop + ffn_flop
    total_flop = encoder_flop + projection_flop + blocks_flop
    print(f"torch WavLM: transformers {transformers.__version__} WavLMModel, microsoft/wavlm-large config with "
          f"num_hidden_layers={LAYER} ({sum(p.numel() for p in model.parameters())} parameters), random init, float32, "
          f"CPU, PyTorch {torch.__version__}, attention implementation {config._attn_implementation}")
    print(f"clip: {args.clip} ({len(clip) / SAMPLE_RATE:.2f} s) tiled to {SAMPLES} samples "
          f"({SAMPLES / SAMPLE_RATE:.1f} s), normalised -> {frames} frames")
    print(f"FLOP (GEMM-shaped work): feature encoder {encoder_flop * 1e-9:.2f} G, projection + pos conv "
          f"{projection_flop * 1e-9:.2f} G, {LAYER} blocks {blocks_flop * 1e-9:.2f} G (attention "
          f"{attention_flop * 1e-9:.2f} G + feed-forward {ffn_flop * 1e-9:.2f} G); total {total_flop * 1e-9:.2f} GFLOP")
    print(f"threads: torch {torch.get_num_threads()}", flush=True)

    marks, spent = {}, {}
    model.feature_extractor.register_forward_hook(lambda *_: marks.__setitem__("encoder", time.perf_counter()))
    model.encoder.layers[0].register_forward_pre_hook(lambda *_: marks.__setitem__("projection", time.perf_counter()))
    model.encoder.layers[-1].register_forward_hook(lambda *_: marks.__setitem__("blocks", time.perf_counter()))

    def time_module(module, key):
        """Adds the module's forward time to spent[key]."""
        module.register_forward_pre_hook(lambda *_: marks.__setitem__(key, time.perf_counter()))
        module.register_forward_hook(
            lambda *_: spent.__setitem__(key, spent.get(key, 0.0) + time.perf_counter() - marks[key]))

    for layer in model.encoder.layers:
        time_module(layer.attention, "attention")
        time_module(layer.feed_forward, "ffn")

    # The FFN's intermediate_dense shape: x [T, H] W^T with W [E, H].
    gemm_x = torch.randn(frames, config.hidden_size)
    gemm_w = torch.randn(config.intermediate_size, config.hidden_size)
    sgemm_flop = 2.0 * frames * config.hidden_size * config.intermediate_size

    rows = []
    with torch.inference_mode():
        for rep in range(args.reps + 1):  # repetition 0 warms up
            spent.clear()
            start = time.perf_counter()
            out = model(waveform).last_hidden_state
            total = 1e3 * (time.perf_counter() - start)
            assert out.shape == (1, frames, config.hidden_size)
            encoder = 1e3 * (marks["encoder"] - start)
            projection = 1e3 * (marks["projection"] - marks["encoder"])
            blocks = 1e3 * (marks["blocks"] - marks["projection"])
            attention, ffn = 1e3 * spent["attention"], 1e3 * spent["ffn"]
            sgemm = []
            for _ in range(SGEMM_PER_REP):
                t0 = time.perf_counter()
                F.linear(gemm_x, gemm_w)
                sgemm.append(1e3 * (time.perf_counter() - t0))
            print(f"  {'rep' if rep else 'warm-up'} {rep}: forward {total:.1f} ms  (encoder {encoder:.1f} + "
                  f"projection/pos conv {projection:.1f} + blocks {blocks:.1f} ms)  sgemm {median(sgemm):.1f} ms",
                  flush=True)
            if rep:
                rows.append((total, encoder, projection, blocks, attention, ffn, sgemm))

    total, encoder, projection, blocks, attention, ffn = (median([r[i] for r in rows]) for i in range(6))
    sgemm = median([t for r in rows for t in r[-1]])
    rtf = total / (1e3 * SAMPLES / SAMPLE_RATE)

    def gflops(flop, ms):
        return flop / (ms * 1e-3) * 1e-9

    rate, sgemm_rate = gflops(total_flop, total), gflops(sgemm_flop, sgemm)
    print(f"median of {args.reps} after 1 warm-up:")
    print(f"  WavLMModel forward      {total:10.1f} ms   real-time factor {rtf:.3f}   {rate:.1f} GFLOP/s")
    print(f"    feature encoder       {encoder:10.1f} ms   {gflops(encoder_flop, encoder):5.1f} GFLOP/s")
    print(f"    projection + pos conv {projection:10.1f} ms   {gflops(projection_flop, projection):5.1f} GFLOP/s")
    print(f"    {LAYER} blocks             {blocks:10.1f} ms   {gflops(blocks_flop, blocks):5.1f} GFLOP/s "
          f"({blocks / LAYER:.1f} ms per block)")
    print(f"      attention           {attention:10.1f} ms   {gflops(attention_flop, attention):5.1f} GFLOP/s "
          "(q/k/v, bias [H, T, T], gate, scores, softmax, p v, out_proj)")
    print(f"      feed-forward        {ffn:10.1f} ms   {gflops(ffn_flop, ffn):5.1f} GFLOP/s")
    print(f"      layer norms, adds   {blocks - attention - ffn:10.1f} ms")
    print(f"  plain F.linear [{frames}, {config.hidden_size}] x [{config.intermediate_size}, {config.hidden_size}]^T "
          f"{sgemm:.1f} ms   {sgemm_rate:.1f} GFLOP/s; forward at {100 * rate / sgemm_rate:.1f}% of it")
    print(f"  peak RSS                {peak_rss_mib():10.1f} MiB")
    print(f"RESULT torch samples={SAMPLES} frames={frames} layer={LAYER} threads={torch.get_num_threads()} "
          f"total_ms={total:.1f} rtf={rtf:.3f} encoder_ms={encoder:.1f} projection_ms={projection:.1f} "
          f"blocks_ms={blocks:.1f} attention_ms={attention:.1f} ffn_ms={ffn:.1f} gflop={total_flop * 1e-9:.2f} "
          f"gflop_per_s={rate:.1f} sgemm_gflop_per_s={sgemm_rate:.1f} sgemm_fraction={rate / sgemm_rate:.3f} "
          f"peak_rss_mib={peak_rss_mib():.0f}", flush=True)

if __name__ == "__main__":
    main()
