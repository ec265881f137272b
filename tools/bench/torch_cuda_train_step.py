"""One training step of the full-size ErcModel in PyTorch on the GPU, the reference erc_profile's step is judged by.

The model is tools/fixtures/erc_model.py's (docs/MODEL.md §2 names) at full size (feature_dim 1024, d_model 256,
d_state 16, 3 layers, dropout 0.1, train mode), float32; loss cross_entropy(ignore_index=-100); optimiser
schedulefree.RAdamScheduleFree(lr=1e-4) after optimizer.train(): the step erc_profile times. Each Mamba block's scan
and causal convolution run through mamba_ssm's official CUDA kernels (selective_scan_fn with the fused softplus,
D skip and z gate; causal_conv1d_fn where the causal-conv1d package is installed, else torch's conv1d) when mamba_ssm
imports; without it the scan is erc_model.py's loop over time, and the RESULT line says which ran. GEMMs in FP32
unless --tf32 (torch.backends.cuda.matmul.allow_tf32), as erc_profile's. Times are CUDA-event medians after warm-up.
Usage: torch_cuda_train_step.py [--frames T] [--reps N] [--warmup W] [--tf32]
"""
import argparse
import importlib.metadata
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "fixtures"))

import schedulefree  # noqa: E402
import torch  # noqa: E402
import torch.nn.functional as F  # noqa: E402

import erc_model  # noqa: E402
from torch_train_step import utterance_offsets  # noqa: E402

try:
    from mamba_ssm.ops.selective_scan_interface import selective_scan_fn
except ImportError:
    selective_scan_fn = None
try:
    from causal_conv1d import causal_conv1d_fn
except ImportError:
    causal_conv1d_fn = None


def mamba_forward_official(self, a, seq_offsets):
    """erc_model.Mamba.forward with mamba_ssm's kernels: one packed sequence at a time, [1, E, L] layout."""
    outs = []
    for s in range(len(seq_offsets) - 1):
        a_s = a[seq_offsets[s]:seq_offsets[s + 1]]
        length = a_s.shape[0]
        x, z = self.in_proj(a_s).chunk(2, dim=-1)
        x = x.T.unsqueeze(0).contiguous()  # [1, E, L]
        if causal_conv1d_fn is not None:
            u = causal_conv1d_fn(x, self.conv1d.weight.squeeze(1), self.conv1d.bias, activation="silu")
        else:
            u = F.silu(self.conv1d(x)[..., :length])
        dt, B, C = self.x_proj(u[0].T).split([self.r, self.n, self.n], dim=-1)
        delta = (dt @ self.dt_proj.weight.T).T.unsqueeze(0).contiguous()  # [1, E, L]; its bias goes into the kernel
        A = -torch.exp(self.A_log.float())
        y = selective_scan_fn(u, delta, A, B.T.unsqueeze(0).contiguous(), C.T.unsqueeze(0).contiguous(),
                              self.D.float(), z=z.T.unsqueeze(0).contiguous(), delta_bias=self.dt_proj.bias.float(),
                              delta_softplus=True)
        outs.append(self.out_proj(y[0].T))
    return torch.cat(outs)


def log(message):
    print(message, flush=True)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--frames", type=int, default=14776)
    parser.add_argument("--reps", type=int, default=20)
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--tf32", action="store_true")
    args = parser.parse_args()
    assert torch.cuda.is_available(), "torch_cuda_train_step.py needs a CUDA GPU"
    torch.backends.cuda.matmul.allow_tf32 = args.tf32
    torch.backends.cudnn.allow_tf32 = args.tf32
    torch.manual_seed(0)
    device = torch.device("cuda")

    if selective_scan_fn is not None:
        erc_model.Mamba.forward = mamba_forward_official
        scan = (f"mamba_ssm {importlib.metadata.version('mamba_ssm')} selective_scan_fn (official CUDA kernel); conv: "
                + (f"causal_conv1d {importlib.metadata.version('causal_conv1d')}" if causal_conv1d_fn else
                   "torch conv1d"))
    else:
        scan = "NO mamba_ssm: erc_model.py's scan loop over time (not the official kernel)"
    erc_model.F_DIM, erc_model.D_MODEL, erc_model.D_STATE, erc_model.N_CLASSES, erc_model.N_LAYERS = 1024, 256, 16, 6, 3
    model = erc_model.ErcModel(p=0.1).float().to(device)
    model.train()
    optimizer = schedulefree.RAdamScheduleFree(model.parameters(), lr=1e-4)
    optimizer.train()

    frames = args.frames
    utt_offsets = utterance_offsets(frames)
    n_utts = len(utt_offsets) - 1
    labels = torch.tensor([-100 if u % 4 == 3 else u % erc_model.N_CLASSES for u in range(n_utts)], device=device)
    features = torch.randn(frames, erc_model.F_DIM, device=device)

    def step():
        loss = F.cross_entropy(model(features, [0, frames], utt_offsets), labels, ignore_index=-100)
        loss.backward()
        optimizer.step()
        optimizer.zero_grad(set_to_none=True)

    log(f"torch cuda train step: {torch.cuda.get_device_name()}, PyTorch {torch.__version__}, CUDA "
        f"{torch.version.cuda}, {'TF32' if args.tf32 else 'FP32'} GEMMs, T {frames}, {n_utts} utterances; scan: {scan}")
    for _ in range(args.warmup):
        step()
    times = []
    for _ in range(args.reps):
        start, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
        start.record()
        step()
        end.record()
        end.synchronize()
        times.append(start.elapsed_time(end))
    times.sort()
    ms = times[len(times) // 2]
    log(f"median of {args.reps} after {args.warmup} warm-up: {ms:.3f} ms per step ({frames / ms * 1e3:.0f} frames/s); "
        f"peak memory {torch.cuda.max_memory_allocated() / 2**20:.0f} MiB")
    log(f"RESULT torch_cuda frames={frames} tf32={int(args.tf32)} official_scan={int(selective_scan_fn is not None)} "
        f"step_ms={ms:.3f}")


if __name__ == "__main__":
    main()
