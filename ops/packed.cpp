#include "ops/packed.h"

namespace erc::ops {

void check_seq_offsets(const SeqOffsets& seq_offsets, int64_t n_frames, const char* op) {
  ERC_CHECK(seq_offsets.size() >= 2, op, ": seq_offsets needs at least 2 entries {0, T}, got ", seq_offsets.size());
  ERC_CHECK(seq_offsets.front() == 0 && seq_offsets.back() == n_frames, op, ": seq_offsets must run from 0 to T = ",
            n_frames, ", got ", seq_offsets.front(), " .. ", seq_offsets.back());
  for (size_t s = 0; s + 1 < seq_offsets.size(); ++s)
    ERC_CHECK(seq_offsets[s] < seq_offsets[s + 1], op, ": sequence ", s, " is empty or reversed (offsets ",
              seq_offsets[s], ", ", seq_offsets[s + 1], ")");
}

}  // namespace erc::ops
