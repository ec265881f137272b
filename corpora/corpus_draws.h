// What the two generated corpora share (corpora/synthetic.cpp's features, corpora/demo_corpus.cpp's speech): a class
// drawn with IEMOCAP's frequencies, its time rounding and its ids. Internal to corpora/; the draws themselves are the
// Generator's (tensor/random.h).
#pragma once
#include <cmath>
#include <cstdio>
#include <string>

#include "data/dataset.h"
#include "corpora/synthetic.h"
#include "tensor/random.h"

namespace erc::corpora::draws {

// A class drawn with IEMOCAP's frequencies, `excluded` left out (-1: none).
inline int64_t draw_class(Generator& gen, int64_t excluded) {
  const int64_t classes = int64_t(data::kPaperEmotions.size());
  double total = 0;
  for (int64_t c = 0; c < classes; ++c)
    if (c != excluded) total += synth::kClassWeights[c];
  double r = gen.next_uniform() * total;
  int64_t last = -1;
  for (int64_t c = 0; c < classes; ++c) {
    if (c == excluded) continue;
    last = c;
    if ((r -= synth::kClassWeights[c]) < 0) return c;
  }
  return last;
}

// IEMOCAP writes times to a tenth of a millisecond.
inline double round_time(double t) { return std::round(t * 1e4) / 1e4; }

// prefix + n with `width` digits, zero-padded: "Ses01F_impro" + 3 -> "Ses01F_impro03" at width 2.
inline std::string numbered(const std::string& prefix, int64_t n, int width) {
  char digits[32];
  std::snprintf(digits, sizeof digits, "%0*lld", width, static_cast<long long>(n));
  return prefix + digits;
}

}  // namespace erc::corpora::draws
