// ops/attention against tools/fixtures/attention.py: the bucket of every relative position in -3000..3000 as
// transformers computes it, and the attention (output and every input gradient) on one and on packed sequences.
#include "golden_util.h"
#include "ops/attention.h"
#include "test_util.h"

using namespace erc;

namespace {

const test::GoldenFixture kAttention{"attention"};

TEST(Golden, RelativeBucketsMatchTransformers) {
  for (const char* name : {"wavlm", "small"}) {
    SCOPED_TRACE(name);
    const auto params = kAttention.params(std::string("buckets.") + name);
    const ops::RelativeBuckets buckets{params.at("num_buckets"), params.at("max_distance")};
    const auto rel = test::fixture("attention").at(std::string("buckets.") + name + ".rel").to_vector<int64_t>();
    const auto want = test::fixture("attention").at(std::string("buckets.") + name + ".value").to_vector<int64_t>();
    int64_t wrong = 0;
    for (size_t i = 0; i < rel.size(); ++i)
      if (ops::relative_bucket(rel[i], buckets) != want[i] && wrong++ < 5)
        ADD_FAILURE() << "bucket(" << rel[i] << ") = " << ops::relative_bucket(rel[i], buckets) << ", transformers "
                      << want[i];
    EXPECT_EQ(wrong, 0);
  }
}

TEST(Golden, RelativePositionAttention) {
  for (const char* name : {"one", "packed"}) {
    const auto params = kAttention.params(name);
    const ops::SeqOffsets offsets = params.at("seq_offsets").get<ops::SeqOffsets>();
    const ops::RelativeBuckets buckets{params.at("num_buckets"), params.at("max_distance")};
    kAttention.check(name, {"q", "k", "v", "gate", "rel_embed"}, [&](const std::vector<Tensor>& in) {
      return ops::relative_position_attention(in[0], in[1], in[2], in[3], in[4], offsets, buckets);
    });
  }
}

}  // namespace
