"""WavLM-Large's forward up to layer 21 in Hugging Face transformers on the GPU: the reference erc_profile's WavLM
section is judged by (tools/gpu_check.sh runs both on the same GPU).

transformers' WavLMModel with microsoft/wavlm-large's config (tests/fixtures/wavlm_large.json) and
num_hidden_layers=21, random init (torch.manual_seed(0)), eval(), torch.inference_mode(), on cuda. Precision as
erc's `--precision`: fp32 (GEMMs in FP32), tf32 (torch.backends.cuda.matmul.allow_tf32 and cudnn's) or bf16 (the
model and input in bfloat16). Two inputs, as erc_profile's: one 10 s clip, and a dialogue of eight utterances (2, 3,
4, 6, 7, 8, 9 and 10 s: 49 s) as one padded batch with its attention_mask (transformers' way to batch; erc packs).
The clip is tests/fixtures/speech.wav tiled and normalised. Times are CUDA-event medians after warm-up; the peak
device memory is torch's max_memory_allocated over the timed runs. Ends with one `RESULT torch_wavlm ...` line per
input. Usage: torch_cuda_wavlm.py [--precision fp32|tf32|bf16] [--reps N] [--warmup W]
"""
import argparse
import json
import os
import wave

import numpy as np
import torch
import transformers
from transformers import WavLMConfig, WavLMModel

ROOT = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
LAYER = 21
SAMPLE_RATE = 16000
DIALOGUE_SECONDS = (2, 3, 4, 6, 7, 8, 9, 10)


def clip_samples(n):
    with wave.open(os.path.join(ROOT, "tests", "fixtures", "speech.wav"), "rb") as f:
        x = np.frombuffer(f.readframes(f.getnframes()), dtype="<i2").astype(np.float64) / 32768.0
    x = np.resize(x, n)
    return ((x - x.mean()) / np.sqrt(x.var() + 1e-7)).astype(np.float32)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--precision", choices=("fp32", "tf32", "bf16"), default="fp32")
    parser.add_argument("--reps", type=int, default=20)
    parser.add_argument("--warmup", type=int, default=3)
    args = parser.parse_args()
    if not torch.cuda.is_available():
        raise SystemExit("torch_cuda_wavlm: no CUDA device answers")
    torch.backends.cuda.matmul.allow_tf32 = args.precision == "tf32"
    torch.backends.cudnn.allow_tf32 = args.precision == "tf32"
    dtype = torch.bfloat16 if args.precision == "bf16" else torch.float32
    torch.manual_seed(0)
    with open(os.path.join(ROOT, "tests", "fixtures", "wavlm_large.json")) as f:
        fields = json.load(f)
    fields["num_hidden_layers"] = LAYER
    model = WavLMModel(WavLMConfig(**fields)).to("cuda", dtype).eval()
    print(f"torch WavLM on {torch.cuda.get_device_name()}: transformers {transformers.__version__}, PyTorch "
          f"{torch.__version__}, {args.precision}, layer {LAYER}", flush=True)

    inputs = {"one utterance": [10 * SAMPLE_RATE], "one dialogue's batch": [s * SAMPLE_RATE for s in DIALOGUE_SECONDS]}
    for name, lengths in inputs.items():
        longest = max(lengths)
        batch = torch.zeros(len(lengths), longest)
        mask = torch.zeros(len(lengths), longest, dtype=torch.long)
        for b, n in enumerate(lengths):
            batch[b, :n] = torch.from_numpy(clip_samples(n))
            mask[b, :n] = 1
        batch, mask = batch.to("cuda", dtype), mask.to("cuda")
        kwargs = {} if len(lengths) == 1 else {"attention_mask": mask}
        times = []
        with torch.inference_mode():
            for rep in range(args.warmup + args.reps):
                if rep == args.warmup:
                    torch.cuda.reset_peak_memory_stats()
                start, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
                start.record()
                model(batch, **kwargs)
                end.record()
                torch.cuda.synchronize()
                if rep >= args.warmup:
                    times.append(start.elapsed_time(end))
        ms = float(np.median(times))
        seconds = sum(lengths) / SAMPLE_RATE
        peak = torch.cuda.max_memory_allocated() / 2**20
        print(f"RESULT torch_wavlm input='{name}' precision={args.precision} audio_seconds={seconds:.1f} "
              f"ms={ms:.3f} real_time_factor={ms / 1e3 / seconds:.5f} peak_mib={peak:.0f}", flush=True)


if __name__ == "__main__":
    main()
