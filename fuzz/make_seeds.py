#!/usr/bin/env python3
"""Writes the fuzz targets' seed inputs into fuzz/corpus/<target>/ (committed; rerun to remake them). The inputs
fuzzing found (finding_*, each also a regression test) are kept there as they are.

Usage: python3 fuzz/make_seeds.py BUILD_DIR   (BUILD_DIR holds apps/erc_synth, for the feature cache seed)

Standard library only. Each seed is a small valid input (plus a few near misses), so that the fuzzer starts inside
the parser rather than at its first check.
"""
import json
import math
import pathlib
import struct
import subprocess
import sys
import tempfile
import wave
import zipfile

ROOT = pathlib.Path(__file__).resolve().parent.parent
CORPUS = ROOT / "fuzz" / "corpus"


def seed(target, name, data):
    folder = CORPUS / target
    folder.mkdir(parents=True, exist_ok=True)
    (folder / name).write_bytes(data if isinstance(data, bytes) else data.encode())


def wav_bytes(rate, channels, frames, sample_width=2):
    with tempfile.NamedTemporaryFile(suffix=".wav") as f:
        with wave.open(f.name, "wb") as w:
            w.setnchannels(channels)
            w.setsampwidth(sample_width)
            w.setframerate(rate)
            scale = 2 ** (8 * sample_width - 1) - 1
            samples = [int(scale * 0.5 * math.sin(i * 0.3)) for i in range(frames * channels)]
            fmt = {1: "b", 2: "h", 4: "i"}[sample_width]
            if sample_width == 1:  # 8-bit WAV is unsigned
                w.writeframes(bytes((s + 128) & 0xFF for s in samples))
            else:
                w.writeframes(struct.pack("<%d%s" % (len(samples), fmt), *samples))
        return pathlib.Path(f.name).read_bytes()


def safetensors_bytes(tensors, metadata=None):
    header, data = {}, b""
    for name, (dtype, shape, raw) in tensors.items():
        header[name] = {"dtype": dtype, "shape": shape, "data_offsets": [len(data), len(data) + len(raw)]}
        data += raw
    if metadata is not None:
        header["__metadata__"] = metadata
    text = json.dumps(header).encode()
    text += b" " * ((8 - len(text) % 8) % 8)
    return struct.pack("<Q", len(text)) + text + data


def main():
    build = pathlib.Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT / "build"
    seed("fuzz_wav", "pcm16_mono_16k.wav", wav_bytes(16000, 1, 320))
    seed("fuzz_wav", "pcm16_stereo_8k.wav", wav_bytes(8000, 2, 100))
    seed("fuzz_wav", "pcm8_mono_44k.wav", wav_bytes(44100, 1, 200, sample_width=1))
    seed("fuzz_wav", "pcm16_empty.wav", wav_bytes(16000, 1, 0))
    # Containers libsndfile refuses, so that the fuzzer starts inside FFmpeg's demuxers and decoders.
    for name, fixture in [("container_alac.m4a", "tone_alac.m4a"), ("container_aac_video.mp4", "tone_aac_video.mp4"),
                          ("container_opus.webm", "tone_opus.webm")]:
        seed("fuzz_wav", name, (ROOT / "tests" / "fixtures" / "containers" / fixture).read_bytes())

    f32 = struct.pack("<6f", 1, 2, 3, 4, 5, 6)
    seed("fuzz_safetensors", "two_tensors.safetensors", safetensors_bytes(
        {"w": ("F32", [2, 3], f32), "step": ("I64", [1], struct.pack("<q", 7))}, {"format": "pt"}))
    seed("fuzz_safetensors", "f16_and_scalar.safetensors", safetensors_bytes(
        {"h": ("F16", [2], b"\x00\x3c\x00\x40"), "s": ("F64", [], struct.pack("<d", 0.5))}))
    seed("fuzz_safetensors", "empty.safetensors", safetensors_bytes({}))

    fixtures = ROOT / "tests" / "fixtures"
    for name in ["torch_checkpoint_state_dict.pt", "torch_checkpoint_legacy.pt"]:
        seed("fuzz_torch_zip", name, (fixtures / name).read_bytes())
    for name in ["torch_checkpoint_state_dict.pt", "torch_checkpoint.pt"]:
        with zipfile.ZipFile(fixtures / name) as z:
            pickle = next(i for i in z.namelist() if i.endswith("/data.pkl"))
            seed("fuzz_torch_pickle", name.replace(".pt", ".pkl"), z.read(pickle))

    seed("fuzz_emo_evaluation", "Ses01F_impro01.txt", (
        "% [START_TIME - END_TIME] TURN_NAME EMOTION [V, A, D]\n\n"
        "[6.2901 - 8.2357]\tSes01F_impro01_F000\tneu\t[2.5000, 2.5000, 2.5000]\n"
        "C-E2:\tNeutral;\t()\nA-E1:\tval 3; act 2; dom  2;\t()\n\n"
        "[10.0100 - 11.3925]\tSes01F_impro01_M000\tfru\t[2.5000, 3.5000, 3.5000]\n"
        "C-E2:\tFrustration;\t()\n\n"
        "[14.8872 - 18.0175]\tSes01F_impro01_F001\txxx\t[2.5000, 2.5000, 2.5000]\n"))

    seed("fuzz_wavlm_config", "demo_wavlm.json", (ROOT / "tools" / "demo_wavlm.json").read_bytes())
    seed("fuzz_wavlm_config", "wavlm_tiny.json", (fixtures / "wavlm_tiny.json").read_bytes())

    seed("fuzz_audio_list", "full.csv",
         "path,utt_id,dialogue,speaker,label,session\na.wav,u1,d1,A,ang,1\na.wav,u2,d1,B,neu,1\n")
    seed("fuzz_audio_list", "path_only.csv", "path\na.wav\n")
    seed("fuzz_audio_list", "spans.csv", "path,speaker,label,start,end\na.wav,A,ang,0,0.05\na.wav,B,neu,0.05,0.1\n")
    seed("fuzz_audio_list", "missing_file.csv", "path,label\nb.wav,sad\n")

    seed("fuzz_csv", "quoted.csv", (
        "\ufeffpath,speaker,note\r\n\"a, b.wav\",\"Doe, Jane\",\"the \"\"loud\"\" one\"\r\n"
        "c.wav,\"two\nlines\",\"\"\n\n d.wav , \"padded\" ,x").encode())

    seed("fuzz_segments", "pyannote.rttm", (
        ";; as pyannote writes it\n"
        "SPEAKER call 1 0.000 2.000 <NA> <NA> SPEAKER_00 <NA> <NA>\n"
        "SPEAKER call 1 2.500 1.250 <NA> <NA> SPEAKER_01 <NA> <NA>\n"
        "SPEAKER call 1 3.000 0.500 <NA> <NA> SPEAKER_00 <NA>\n"))
    seed("fuzz_segments", "turns.csv", "start,end,speaker,utt_id\n0.25,1.5,A,first\n2,3,B,second\n")
    seed("fuzz_segments", "overlap.csv", "start,end,speaker\n0,4,A\n1,1.5,B\n2,3,A\n")

    with tempfile.TemporaryDirectory() as tmp:
        cache = pathlib.Path(tmp) / "features.h5"
        subprocess.run([str(build / "apps" / "erc_synth"), "--out", str(cache),
                        "--dialogues-per-session", "1", "--min-utterances", "2", "--max-utterances", "2",
                        "--mean-frames", "5", "--feature-dim", "6", "--dtype", "f32"],
                       check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        seed("fuzz_feature_cache", "ten_utterances.h5", cache.read_bytes())
    for folder in sorted(CORPUS.iterdir()):
        print(folder.name, sum(f.stat().st_size for f in folder.iterdir()), "bytes")


if __name__ == "__main__":
    main()
