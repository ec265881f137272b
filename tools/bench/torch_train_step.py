"""One training step of the full-size ErcModel in PyTorch eager on the CPU: the same step as bench/bench_train_step.cpp.

The model is tools/fixtures/erc_model.py's (docs/MODEL.md §2 names), built at full size (feature_dim 1024, d_model 256,
d_state 16, 3 layers, dropout 0.1, train mode) in float32; loss cross_entropy(ignore_index=-100); optimiser
schedulefree.RAdamScheduleFree(lr=1e-4) after optimizer.train(). Timed in three parts (forward with the loss,
backward, optimiser step) like the C++ benchmark, ending with a `RESULT torch ...` line.

Its selective scan is erc_model.py's sequential Python loop over time: that is what PyTorch eager gives on a CPU
(mamba_ssm's own CPU reference, selective_scan_ref, is a Python loop over time too). Its backward grows as T^2:
autograd's backward of each x[t] the loop reads (SelectBackward) fills a zeroed copy of the whole [T, E] input, over
90% of the backward time; about 1 min per step at 4,000 frames on 2 cores, some 12 min at 14,776.
Usage: torch_train_step.py [--frames T] [--reps N] [--threads K]
"""
import argparse
import importlib.metadata
import os
import resource
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "fixtures"))

import schedulefree  # noqa: E402
import torch  # noqa: E402
import torch.nn.functional as F  # noqa: E402

import erc_model  # noqa: E402

SLOW_STEP_S = 60.0  # past this a warm-up step, the default is a single timed repetition


def utterance_offsets(frames):
    """The split of bench_train_step.cpp, in the same integer arithmetic: weights 40 + (37 u mod 97) scaled to sum
    to T, the remainder spread one frame each over the first utterances."""
    n_utts = max(1, (frames + 92) // 185)
    weights = [40 + (37 * u) % 97 for u in range(n_utts)]
    lengths = [frames * w // sum(weights) for w in weights]
    for u in range(frames - sum(lengths)):
        lengths[u] += 1
    offsets = [0]
    for n in lengths:
        offsets.append(offsets[-1] + n)
    return offsets


def peak_rss_mib():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0  # Linux reports KiB


def log(message):
    print(message, flush=True)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--frames", type=int, default=14776)
    parser.add_argument("--reps", type=int, default=None,
                        help=f"timed repetitions after one warm-up (default 3, or 1 if the warm-up takes > {SLOW_STEP_S:.0f} s)")
    parser.add_argument("--threads", type=int, default=len(os.sched_getaffinity(0)))
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)

    # The fixture module reads its sizes from module constants when a model is built: set docs/MODEL.md §2's.
    erc_model.F_DIM, erc_model.D_MODEL, erc_model.D_STATE, erc_model.N_CLASSES, erc_model.N_LAYERS = 1024, 256, 16, 6, 3
    model = erc_model.ErcModel(p=0.1).float()  # A_log is built in float64 there
    model.train()
    optimizer = schedulefree.RAdamScheduleFree(model.parameters(), lr=1e-4)
    optimizer.train()

    frames = args.frames
    utt_offsets = utterance_offsets(frames)
    n_utts = len(utt_offsets) - 1
    lengths = [utt_offsets[u + 1] - utt_offsets[u] for u in range(n_utts)]
    labels = torch.tensor([-100 if u % 4 == 3 else u % erc_model.N_CLASSES for u in range(n_utts)])
    features = torch.randn(frames, erc_model.F_DIM)
    seq_offsets = [0, frames]

    # Progress while a step runs: one line per Mamba block finished in the forward pass.
    mambas = [(name, m) for name, m in model.named_modules() if isinstance(m, erc_model.Mamba)]
    started = [0.0]
    for name, module in mambas:
        module.register_forward_hook(
            lambda _m, _i, _o, name=name: log(f"    forward {name} done at {time.perf_counter() - started[0]:.1f} s"))

    log(f"torch train step: erc_model.ErcModel ({sum(p.numel() for p in model.parameters())} parameters, d_model "
        f"{erc_model.D_MODEL}, {erc_model.N_LAYERS} layers, dropout 0.1, train mode), float32, CPU, PyTorch "
        f"{torch.__version__} eager, schedulefree {importlib.metadata.version('schedulefree')}")
    log(f"conversation: T {frames} frames, {n_utts} utterances ({int((labels != -100).sum())} labelled, lengths "
        f"{min(lengths)}..{max(lengths)}), features [{frames}, {erc_model.F_DIM}]")
    log(f"optimiser: schedulefree.RAdamScheduleFree lr 1e-4 (train mode); threads: torch {torch.get_num_threads()}")
    log("scan: erc_model.py's sequential Python loop over time (what PyTorch eager offers on a CPU; mamba_ssm's CPU "
        "reference selective_scan_ref is a Python loop over time as well); its backward grows as T^2")

    def one_step(title):
        log(f"  {title}: forward...")
        started[0] = time.perf_counter()
        loss = F.cross_entropy(model(features, seq_offsets, utt_offsets), labels, ignore_index=-100)
        loss_value = loss.item()
        forward_ms = 1e3 * (time.perf_counter() - started[0])
        log(f"  {title}: forward {forward_ms:.0f} ms; backward...")
        start = time.perf_counter()
        loss.backward()
        backward_ms = 1e3 * (time.perf_counter() - start)
        start = time.perf_counter()
        optimizer.step()
        optimizer.zero_grad()
        step_ms = 1e3 * (time.perf_counter() - start)
        log(f"  {title}: loss {loss_value:.4f}  forward {forward_ms:.1f} ms  backward {backward_ms:.1f} ms  "
            f"step {step_ms:.1f} ms")
        return forward_ms, backward_ms, step_ms

    warm = one_step("warm-up")
    reps = args.reps if args.reps is not None else (1 if sum(warm) > 1e3 * SLOW_STEP_S else 3)
    times = [one_step(f"rep {rep + 1}") for rep in range(reps)]

    def median(values):
        values = sorted(values)
        mid = len(values) // 2
        return values[mid] if len(values) % 2 else 0.5 * (values[mid - 1] + values[mid])

    forward_ms, backward_ms, step_ms = (median([t[i] for t in times]) for i in range(3))
    total_ms = median([sum(t) for t in times])
    frames_per_s = frames / (total_ms * 1e-3)
    log(f"median of {reps} after 1 warm-up:")
    log(f"  forward + loss         {forward_ms:10.1f} ms")
    log(f"  backward               {backward_ms:10.1f} ms")
    log(f"  optimiser step         {step_ms:10.1f} ms")
    log(f"  whole step             {total_ms:10.1f} ms   {frames_per_s:.0f} frames/s")
    log(f"  peak RSS               {peak_rss_mib():10.1f} MiB")
    log(f"RESULT torch frames={frames} threads={torch.get_num_threads()} forward_ms={forward_ms:.1f} "
        f"backward_ms={backward_ms:.1f} step_ms={step_ms:.1f} total_ms={total_ms:.1f} frames_per_s={frames_per_s:.1f} "
        f"peak_rss_mib={peak_rss_mib():.0f}")


if __name__ == "__main__":
    main()
