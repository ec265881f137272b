// conv1d, causal_conv1d, segment_mean and flip_sequences against PyTorch (tools/fixtures/conv.py), forward and
// gradients. The packed references are computed sequence by sequence with F.conv1d, mean and flip.
#include <nlohmann/json.hpp>

#include "golden_util.h"
#include "ops/causal_conv1d.h"
#include "ops/conv1d.h"
#include "ops/packed.h"
#include "ops/segment_mean.h"
#include "test_util.h"

using namespace erc;
using Inputs = std::vector<Tensor>;
using Op = std::function<Tensor(const Inputs&)>;

static const test::GoldenFixture golden{"conv"};

static void check_conv1d(const std::string& name) {
  auto p = golden.params(name);
  const int64_t stride = p["stride"], padding = p["padding"], groups = p["groups"];
  if (test::fixture("conv").has(name + ".in.bias")) {
    golden.check(name, {"x", "weight", "bias"},
               [&](const Inputs& in) { return ops::conv1d(in[0], in[1], in[2], stride, padding, groups); });
  } else {
    golden.check(name, {"x", "weight"},
               [&](const Inputs& in) { return ops::conv1d(in[0], in[1], Tensor(), stride, padding, groups); });
  }
}

TEST(Golden, Conv1dPlain) { check_conv1d("conv1d_plain"); }
TEST(Golden, Conv1dStridePadding) { check_conv1d("conv1d_stride_padding"); }
TEST(Golden, Conv1dGroupsNoBias) { check_conv1d("conv1d_groups_no_bias"); }
TEST(Golden, Conv1dDepthwiseChannelMultiplier) { check_conv1d("conv1d_depthwise_x2"); }
TEST(Golden, Conv1dWavLMEncoderLike) { check_conv1d("conv1d_encoder_like"); }
TEST(Golden, Conv1dWavLMPositionalLike) { check_conv1d("conv1d_positional_like"); }

static void check_causal_conv1d(const std::string& name) {
  const ops::SeqOffsets offsets = golden.params(name)["seq_offsets"].get<ops::SeqOffsets>();
  golden.check(name, {"x", "weight", "bias"},
             [&](const Inputs& in) { return ops::causal_conv1d(in[0], in[1], in[2], offsets); });
}

TEST(Golden, CausalConv1dPackedLengths1_4_7) { check_causal_conv1d("causal_conv1d_packed"); }
TEST(Golden, CausalConv1dOneSequence) { check_causal_conv1d("causal_conv1d_one"); }
TEST(Golden, CausalConv1dKernel2) { check_causal_conv1d("causal_conv1d_k2"); }

TEST(Golden, SegmentMean) {
  const ops::SeqOffsets offsets = golden.params("segment_mean")["utt_offsets"].get<ops::SeqOffsets>();
  golden.check("segment_mean", {"x"}, [&](const Inputs& in) { return ops::segment_mean(in[0], offsets); });
}

TEST(Golden, FlipSequences) {
  for (const std::string name : {"flip_sequences", "flip_sequences_2d"}) {
    const ops::SeqOffsets offsets = golden.params(name)["seq_offsets"].get<ops::SeqOffsets>();
    golden.check(name, {"x"}, [&](const Inputs& in) { return ops::flip_sequences(in[0], offsets); });
  }
}
