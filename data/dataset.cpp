#include "data/dataset.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <map>

namespace erc::data {

std::vector<Conversation> group_conversations(const std::vector<UtteranceInfo>& utterances) {
  std::vector<Conversation> out;
  std::map<std::string, size_t> by_name;
  for (size_t i = 0; i < utterances.size(); ++i) {
    const UtteranceInfo& u = utterances[i];
    auto [it, fresh] = by_name.emplace(u.dialogue, out.size());
    if (fresh) out.push_back({u.dialogue, u.session, u.split, {}});
    ERC_CHECK(out[it->second].session == u.session, "dialogue ", u.dialogue, " spans sessions ",
              out[it->second].session, " and ", u.session);
    ERC_CHECK(out[it->second].split == u.split, "dialogue ", u.dialogue, " spans the splits '", out[it->second].split,
              "' and '", u.split, "'");
    out[it->second].utterances.push_back(i);
  }
  for (Conversation& c : out)
    std::stable_sort(c.utterances.begin(), c.utterances.end(),
                     [&](size_t a, size_t b) { return utterances[a].start < utterances[b].start; });
  return out;
}

std::vector<size_t> permutation(size_t n, Generator& gen) {
  std::vector<size_t> p(n);
  for (size_t i = 0; i < n; ++i) p[i] = i;
  for (size_t i = n; i > 1; --i) std::swap(p[i - 1], p[gen.next_index(i)]);
  return p;
}

Fold make_fold(const std::vector<Conversation>& conversations, int64_t test_session, double val_fraction,
               uint64_t seed) {
  Fold fold;
  fold.test_session = test_session;
  if (test_session == kFixedSplit) {
    for (size_t i = 0; i < conversations.size(); ++i) {
      const std::string& split = conversations[i].split;
      (split == "train" ? fold.train : split == "dev" ? fold.val : fold.test).push_back(i);
      ERC_CHECK(split == "train" || split == "dev" || split == "test", "the fixed split: conversation ",
                conversations[i].dialogue, " is in no split (", split.empty() ? "none given" : split,
                "); a corpus with a split gives every utterance train, dev or test");
    }
    ERC_CHECK(!fold.train.empty() && !fold.test.empty(), "the fixed split: no conversation in ",
              fold.train.empty() ? "train" : "test");
    return fold;
  }
  std::vector<size_t> train;
  for (size_t i = 0; i < conversations.size(); ++i)
    (conversations[i].session == test_session ? fold.test : train).push_back(i);
  ERC_CHECK(!fold.test.empty(), "fold ", test_session, ": no conversation of session ", test_session,
            " in the feature cache (nothing to test on)");
  ERC_CHECK(!train.empty(), "fold ", test_session, ": no conversation outside session ", test_session,
            " (nothing to train on)");
  if (val_fraction > 0) {
    ERC_CHECK(train.size() >= 2, "fold ", test_session, ": a validation split needs at least 2 training conversations");
    Generator gen(seed);
    std::vector<size_t> order = permutation(train.size(), gen);
    size_t n_val = std::clamp<size_t>(size_t(std::lround(val_fraction * double(train.size()))), 1, train.size() - 1);
    for (size_t i = 0; i < order.size(); ++i) (i < n_val ? fold.val : fold.train).push_back(train[order[i]]);
    std::sort(fold.val.begin(), fold.val.end());
    std::sort(fold.train.begin(), fold.train.end());
  } else {
    fold.train = train;
  }
  return fold;
}

Mode parse_mode(const std::string& s) {
  if (s == "conversation") return Mode::conversation;
  if (s == "utterance") return Mode::utterance;
  ERC_CHECK(false, "mode must be conversation or utterance, got '", s, "'");
  __builtin_unreachable();
}

Shuffle parse_shuffle(const std::string& s) {
  if (s == "none") return Shuffle::none;
  if (s == "intra") return Shuffle::intra;
  if (s == "inter-speaker") return Shuffle::inter_speaker;
  if (s == "inter") return Shuffle::inter;
  ERC_CHECK(false, "shuffle must be none, intra, inter-speaker or inter, got '", s, "'");
  __builtin_unreachable();
}

const char* mode_name(Mode m) { return m == Mode::conversation ? "conversation" : "utterance"; }

const char* shuffle_name(Shuffle s) {
  switch (s) {
    case Shuffle::none: return "none";
    case Shuffle::intra: return "intra";
    case Shuffle::inter_speaker: return "inter-speaker";
    case Shuffle::inter: return "inter";
  }
  return "?";
}

std::vector<Sequence> shuffled_conversations(const std::vector<Conversation>& conversations,
                                             const std::vector<size_t>& conversation_ids,
                                             const std::vector<UtteranceInfo>& utterances, Shuffle shuffle,
                                             Generator& gen) {
  std::vector<Sequence> out;
  for (size_t id : conversation_ids) out.push_back(conversations[id].utterances);
  if (shuffle == Shuffle::none) return out;
  if (shuffle == Shuffle::intra) {
    for (Sequence& s : out) {
      std::vector<size_t> p = permutation(s.size(), gen);
      Sequence shuffled(s.size());
      for (size_t i = 0; i < s.size(); ++i) shuffled[i] = s[p[i]];
      s = shuffled;
    }
    return out;
  }
  // inter and inter-speaker: deal utterances from shuffled pools back into the same slots.
  auto pool_key = [&](size_t utt) {
    return shuffle == Shuffle::inter ? std::string()
                                     : std::to_string(utterances[utt].session) + "/" + utterances[utt].speaker;
  };
  std::map<std::string, std::vector<size_t>> pools;
  for (const Sequence& s : out)
    for (size_t utt : s) pools[pool_key(utt)].push_back(utt);
  for (auto& [key, pool] : pools) {
    std::vector<size_t> p = permutation(pool.size(), gen);
    std::vector<size_t> shuffled(pool.size());
    for (size_t i = 0; i < pool.size(); ++i) shuffled[i] = pool[p[i]];
    pool = shuffled;
  }
  std::map<std::string, size_t> next;
  for (Sequence& s : out)
    for (size_t& utt : s) {
      const std::string key = pool_key(utt);
      utt = pools[key][next[key]++];
    }
  return out;
}

std::vector<BatchPlan> plan_batches(const std::vector<Sequence>& sequences, Mode mode, int64_t batch_size,
                                    Generator* gen) {
  std::vector<BatchPlan> plans;
  if (mode == Mode::conversation) {
    std::vector<size_t> order(sequences.size());
    for (size_t i = 0; i < order.size(); ++i) order[i] = i;
    if (gen) order = permutation(sequences.size(), *gen);
    for (size_t i : order) plans.push_back({sequences[i]});
    return plans;
  }
  ERC_CHECK(batch_size > 0, "utterance mode: batch size must be positive, got ", batch_size);
  std::vector<size_t> utts;
  for (const Sequence& s : sequences) utts.insert(utts.end(), s.begin(), s.end());
  if (gen) {
    std::vector<size_t> p = permutation(utts.size(), *gen);
    std::vector<size_t> shuffled(utts.size());
    for (size_t i = 0; i < utts.size(); ++i) shuffled[i] = utts[p[i]];
    utts = shuffled;
  }
  for (size_t i = 0; i < utts.size(); i += size_t(batch_size)) {
    BatchPlan plan;
    for (size_t j = i; j < std::min(utts.size(), i + size_t(batch_size)); ++j) plan.push_back({utts[j]});
    plans.push_back(plan);
  }
  return plans;
}

Batch load_batch(const FeatureCacheReader& cache, const BatchPlan& plan, const ClassSet& classes) {
  const int64_t feature_dim = cache.attributes().feature_dim;
  Batch b;
  b.seq_offsets = {0};
  b.utt_offsets = {0};
  std::vector<int64_t> labels;
  for (const Sequence& seq : plan) {
    for (size_t utt : seq) {
      b.utterances.push_back(utt);
      b.utt_offsets.push_back(b.utt_offsets.back() + cache.utterances()[utt].n_frames);
      labels.push_back(classes.index(cache.utterances()[utt].label));
    }
    b.seq_offsets.push_back(b.utt_offsets.back());
  }
  b.features = Tensor::empty({b.utt_offsets.back(), feature_dim}, DType::f32);
  float* dst = b.features.data<float>();
  for (size_t i = 0; i < b.utterances.size(); ++i) {
    Tensor f = cache.read(b.utterances[i]);
    std::memcpy(dst + b.utt_offsets[i] * feature_dim, f.data<float>(), size_t(f.numel()) * sizeof(float));
  }
  b.labels = Tensor::from_vector(labels, {int64_t(labels.size())});
  return b;
}

}  // namespace erc::data
