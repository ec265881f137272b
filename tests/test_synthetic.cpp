// The synthetic feature cache: IEMOCAP's shape, ids, times and labels, each conversation's atmosphere,
// determinism, refused options, and that conversation context measurably helps a classifier.
#include <algorithm>
#include <filesystem>
#include <fstream>
#include <map>
#include <regex>
#include <set>

#include "corpora/synthetic.h"
#include "data/dataset.h"
#include "test_util.h"

using namespace erc;
using erc::test::temp_path;
using namespace erc::data;
using namespace erc::corpora;

namespace {

int64_t label_index(const std::string& label) { return ClassSet::paper().index(label); }

constexpr int64_t kDim = 16;

// 15 dialogues of 20-30 utterances at F = 16, stored in f32: big enough for the classifier test, written in
// about a tenth of a second.
SyntheticOptions small_options() {
  SyntheticOptions o;
  o.seed = 7;
  o.dialogues_per_session = 3;
  o.min_utterances = 20;
  o.max_utterances = 30;
  o.feature_dim = kDim;
  o.dtype = DType::f32;
  return o;
}

// Written once, shared by the tests that only read it.
const std::string& small_cache() {
  static const std::string path = [] {
    std::string p = temp_path("erc_synthetic_small.h5");
    corpora::write_synthetic_cache(small_options(), p);
    return p;
  }();
  return path;
}

std::vector<std::vector<float>> read_all(const FeatureCacheReader& cache) {
  std::vector<std::vector<float>> out;
  for (size_t i = 0; i < cache.utterances().size(); ++i) out.push_back(cache.read(i).to_vector<float>());
  return out;
}

// Each utterance's features averaged over its frames: [U][F].
std::vector<std::vector<double>> utterance_means(const FeatureCacheReader& cache) {
  std::vector<std::vector<double>> out;
  for (size_t i = 0; i < cache.utterances().size(); ++i) {
    const Tensor x = cache.read(i);
    const float* p = x.data<float>();
    std::vector<double> m(size_t(x.size(1)), 0.0);
    for (int64_t t = 0; t < x.size(0); ++t)
      for (int64_t f = 0; f < x.size(1); ++f) m[f] += p[t * x.size(1) + f] / double(x.size(0));
    out.push_back(m);
  }
  return out;
}

// Leave-one-session-out nearest-class-mean accuracy over the labelled utterances, pooled over the five folds.
double nearest_class_mean_accuracy(const std::vector<std::vector<double>>& features,
                                   const std::vector<UtteranceInfo>& utterances) {
  int64_t correct = 0, scored = 0;
  for (int64_t test_session = 1; test_session <= synth::kSessions; ++test_session) {
    const size_t dim = features[0].size();
    std::vector<std::vector<double>> means(kPaperEmotions.size(), std::vector<double>(dim, 0.0));
    std::vector<int64_t> counts(kPaperEmotions.size(), 0);
    for (size_t i = 0; i < utterances.size(); ++i) {
      const int64_t c = label_index(utterances[i].label);
      if (c == kIgnoreLabel || utterances[i].session == test_session) continue;
      for (size_t f = 0; f < dim; ++f) means[c][f] += features[i][f];
      ++counts[c];
    }
    for (size_t c = 0; c < means.size(); ++c)
      for (double& v : means[c]) v /= double(std::max<int64_t>(counts[c], 1));
    for (size_t i = 0; i < utterances.size(); ++i) {
      const int64_t label = label_index(utterances[i].label);
      if (label == kIgnoreLabel || utterances[i].session != test_session) continue;
      int64_t best = -1;
      double best_distance = 0;
      for (size_t c = 0; c < means.size(); ++c) {
        if (counts[c] == 0) continue;
        double d = 0;
        for (size_t f = 0; f < dim; ++f) d += (features[i][f] - means[c][f]) * (features[i][f] - means[c][f]);
        if (best < 0 || d < best_distance) best = int64_t(c), best_distance = d;
      }
      correct += best == label;
      ++scored;
    }
  }
  return double(correct) / double(scored);
}

}  // namespace

TEST(Synthetic, CacheHasIemocapShape) {
  FeatureCacheReader cache(small_cache());
  EXPECT_FALSE(std::filesystem::exists(small_cache() + ".partial"));
  const CacheAttributes& a = cache.attributes();
  EXPECT_EQ(a.extractor, "synthetic");
  EXPECT_EQ(a.layer, 21);
  EXPECT_EQ(a.feature_dim, kDim);
  EXPECT_EQ(a.dtype, DType::f32);

  const std::vector<Conversation> conversations = group_conversations(cache.utterances());
  ASSERT_EQ(conversations.size(), 15u);
  std::map<int64_t, int64_t> per_session;
  for (const Conversation& c : conversations) {
    ++per_session[c.session];
    EXPECT_GE(c.utterances.size(), 20u) << c.dialogue;
    EXPECT_LE(c.utterances.size(), 30u) << c.dialogue;
  }
  EXPECT_EQ(per_session, (std::map<int64_t, int64_t>{{1, 3}, {2, 3}, {3, 3}, {4, 3}, {5, 3}}));

  // The index is the plan's, in the plan's order.
  size_t i = 0;
  for (const SyntheticDialogue& d : synthetic_plan(small_options()))
    for (const UtteranceInfo& u : d.utterances) {
      ASSERT_LT(i, cache.utterances().size());
      const UtteranceInfo& got = cache.utterances()[i++];
      EXPECT_EQ(got.utt_id, u.utt_id);
      EXPECT_EQ(got.label, u.label);
      EXPECT_EQ(got.n_frames, u.n_frames);
      EXPECT_EQ(cache.read(i - 1).size(0), u.n_frames);
    }
  EXPECT_EQ(i, cache.utterances().size());
}

TEST(Synthetic, IdsAgreeWithDialogueSessionAndSpeaker) {
  FeatureCacheReader cache(small_cache());
  const std::regex dialogue_form(R"(Ses0([1-5])([FM])_impro(\d\d))");
  std::map<std::string, std::map<std::string, int64_t>> next_turn;  // dialogue -> speaker -> next number
  for (const Conversation& c : group_conversations(cache.utterances())) {
    std::smatch m;
    ASSERT_TRUE(std::regex_match(c.dialogue, m, dialogue_form)) << c.dialogue;
    EXPECT_EQ(std::stoll(m[1]), c.session) << c.dialogue;
    EXPECT_EQ(cache.utterances()[c.utterances.front()].speaker, m[2].str()) << c.dialogue << " opens with its letter";
    std::set<std::string> speakers;
    for (size_t i : c.utterances) {
      const UtteranceInfo& u = cache.utterances()[i];
      speakers.insert(u.speaker);
      ASSERT_TRUE(u.speaker == "F" || u.speaker == "M") << u.utt_id;
      // Ses01F_impro01_M003: the dialogue, the speaker's letter, its turn number counted per speaker.
      const std::string expected = c.dialogue + "_" + u.speaker;
      ASSERT_EQ(u.utt_id.substr(0, expected.size()), expected) << u.utt_id;
      EXPECT_EQ(u.utt_id.size(), expected.size() + 3) << u.utt_id;
      EXPECT_EQ(std::stoll(u.utt_id.substr(expected.size())), next_turn[c.dialogue][u.speaker]++) << u.utt_id;
      EXPECT_EQ(u.dialogue, c.dialogue);
    }
    EXPECT_EQ(speakers.size(), 2u) << c.dialogue;
  }
}

TEST(Synthetic, TimesIncreaseWithinADialogue) {
  FeatureCacheReader cache(small_cache());
  for (const Conversation& c : group_conversations(cache.utterances())) {
    double last_end = 0;
    for (size_t k = 0; k < c.utterances.size(); ++k) {
      const UtteranceInfo& u = cache.utterances()[c.utterances[k]];
      if (k > 0) {
        EXPECT_LT(cache.utterances()[c.utterances[k - 1]].start, u.start) << u.utt_id;
      }
      EXPECT_GT(u.start, last_end) << u.utt_id << " starts after the previous one ends";
      EXPECT_NEAR(u.end - u.start, double(u.n_frames) / 50.0, 1e-3) << u.utt_id;  // 50 frames per second
      EXPECT_GE(u.n_frames, synth::kMinFrames) << u.utt_id;
      last_end = u.end;
    }
    // Written in time order: the index order is the conversation's.
    EXPECT_TRUE(std::is_sorted(c.utterances.begin(), c.utterances.end())) << c.dialogue;
  }
}

TEST(Synthetic, LabelsCoverSixClassesAndUnlabelled) {
  FeatureCacheReader cache(small_cache());
  std::map<std::string, int64_t> counts;
  for (const UtteranceInfo& u : cache.utterances()) ++counts[u.label];
  for (const char* emotion : kPaperEmotions) EXPECT_GT(counts[emotion], 0) << emotion;
  int64_t unlabelled = 0;
  for (const auto& [label, n] : counts)
    if (label_index(label) == kIgnoreLabel) {
      unlabelled += n;
      EXPECT_TRUE(std::find(corpora::synth::kHiddenLabels.begin(), corpora::synth::kHiddenLabels.end(), label) !=
                  corpora::synth::kHiddenLabels.end())
          << label;
    }
  EXPECT_GT(counts["xxx"], 0);
  const double share = double(unlabelled) / double(cache.utterances().size());
  EXPECT_GT(share, 0.17);  // kHiddenShares sum to 0.27; ~370 utterances give a standard error of 0.023
  EXPECT_LT(share, 0.37);
}

TEST(Synthetic, DominantEmotionIsTheMostFrequentLabel) {
  FeatureCacheReader cache(small_cache());
  const std::vector<corpora::SyntheticDialogue> plan = corpora::synthetic_plan(small_options());
  std::map<std::string, std::map<std::string, int64_t>> counts;  // dialogue -> label -> count
  std::map<std::string, int64_t> labelled;
  for (const UtteranceInfo& u : cache.utterances())
    if (label_index(u.label) != kIgnoreLabel) {
      ++counts[u.dialogue][u.label];
      ++labelled[u.dialogue];
    }
  std::set<std::string> atmospheres;
  for (const SyntheticDialogue& d : plan) {
    atmospheres.insert(d.dominant);
    const int64_t dominant = counts[d.name][d.dominant];
    EXPECT_GT(2 * dominant, labelled[d.name]) << d.name << ": " << d.dominant << " is a strict majority";
    for (const auto& [label, n] : counts[d.name]) {
      if (label == d.dominant) continue;
      EXPECT_LT(n, dominant) << d.name << ": " << label << " vs " << d.dominant;
    }
  }
  EXPECT_GE(atmospheres.size(), 3u) << "the atmosphere varies between conversations";
}

TEST(Synthetic, SameSeedSameFeaturesOtherSeedDiffers) {
  corpora::SyntheticOptions o;
  o.dialogues_per_session = 1;
  o.min_utterances = 3;
  o.max_utterances = 5;
  o.mean_frames = 8;
  o.feature_dim = 8;  // f16, the default storage
  const std::string a = temp_path("erc_synthetic_seed_a.h5"), b = temp_path("erc_synthetic_seed_b.h5"),
                    c = temp_path("erc_synthetic_seed_c.h5");
  o.seed = 3;
  corpora::write_synthetic_cache(o, a);
  write_synthetic_cache(o, b);
  o.seed = 4;
  write_synthetic_cache(o, c);
  FeatureCacheReader ra(a), rb(b), rc(c);
  EXPECT_EQ(ra.attributes().dtype, DType::f16);
  ASSERT_EQ(ra.utterances().size(), rb.utterances().size());
  for (size_t i = 0; i < ra.utterances().size(); ++i) {
    EXPECT_EQ(ra.utterances()[i].utt_id, rb.utterances()[i].utt_id);
    EXPECT_EQ(ra.utterances()[i].label, rb.utterances()[i].label);
    EXPECT_EQ(ra.utterances()[i].start, rb.utterances()[i].start);
  }
  EXPECT_EQ(read_all(ra), read_all(rb));
  EXPECT_NE(read_all(ra), read_all(rc));
}

TEST(Synthetic, RefusesBadOptionsAndPaths) {
  auto refused = [](SyntheticOptions o, const std::string& needle) {
    const std::string path = temp_path("erc_synthetic_refused.h5");
    try {
      corpora::write_synthetic_cache(o, path);
    } catch (const Error& e) {
      EXPECT_NE(std::string(e.what()).find(needle), std::string::npos) << e.what();
      EXPECT_FALSE(std::filesystem::exists(path));
      return;
    }
    ADD_FAILURE() << "accepted; expected an error naming '" << needle << "'";
  };
  corpora::SyntheticOptions o = small_options();
  o.min_utterances = 31;
  refused(o, "minimum utterances per dialogue (31) exceed the maximum (30)");
  o = small_options();
  o.mean_frames = 4;
  refused(o, "at least 5, got 4");
  o = small_options();
  o.dialogues_per_session = 0;
  refused(o, "dialogues per session must be at least 1, got 0");
  o = small_options();
  o.feature_dim = 5;
  refused(o, "feature_dim must be at least 6");
  o = small_options();
  o.dtype = DType::f64;
  refused(o, "not f64");
  EXPECT_THROW(corpora::synthetic_plan(o), Error);

  const std::string nowhere = ::testing::TempDir() + "erc_no_such_folder/x.h5";
  EXPECT_THROW(corpora::write_synthetic_cache(small_options(), nowhere), Error);
  EXPECT_FALSE(std::filesystem::exists(nowhere));
  EXPECT_THROW(corpora::write_synthetic_cache(small_options(), ::testing::TempDir()), Error);
}

TEST(Synthetic, DiscardsAStalePartialFile) {
  corpora::SyntheticOptions o;
  o.dialogues_per_session = 1;
  o.min_utterances = 2;
  o.max_utterances = 2;
  o.mean_frames = 5;
  o.feature_dim = 6;
  const std::string path = temp_path("erc_synthetic_stale.h5");
  std::ofstream(path + ".partial") << "left by a crash";
  corpora::write_synthetic_cache(o, path);
  EXPECT_FALSE(std::filesystem::exists(path + ".partial"));
  EXPECT_EQ(FeatureCacheReader(path).utterances().size(), 10u);
}

// The design's point: an utterance alone cannot tell its own emotion from its conversation's atmosphere, the
// conversation's mean can. A nearest-class-mean classifier (leave one session out) on the utterance's mean
// feature, against the same classifier given as context the utterance's deviation from its conversation's mean
// (concatenated; the deviation rather than the raw mean, which would mostly add the spread between
// conversations to the distances). Measured at this seed: 0.702 alone, 0.782 in context (+0.080); over seeds
// 0-19 of these options the gain ran from +0.033 to +0.137 (mean +0.086), and at the default options (F = 1024,
// f16) +0.11 and +0.065 for seeds 0 and 1. Half the effect at this seed, +0.04, is asserted.
TEST(Synthetic, ConversationContextHelpsANearestClassMeanClassifier) {
  FeatureCacheReader cache(small_cache());
  const std::vector<UtteranceInfo>& utterances = cache.utterances();
  const std::vector<std::vector<double>> u = utterance_means(cache);
  std::vector<std::vector<double>> with_context = u;
  for (const Conversation& c : group_conversations(utterances)) {
    std::vector<double> conversation_mean(kDim, 0.0);
    for (size_t i : c.utterances)
      for (int64_t f = 0; f < kDim; ++f) conversation_mean[f] += u[i][f] / double(c.utterances.size());
    for (size_t i : c.utterances)
      for (int64_t f = 0; f < kDim; ++f) with_context[i].push_back(u[i][f] - conversation_mean[f]);
  }
  const double alone = nearest_class_mean_accuracy(u, utterances);
  const double in_context = nearest_class_mean_accuracy(with_context, utterances);
  EXPECT_GT(in_context - alone, 0.04) << "alone " << alone << ", in context " << in_context;
}
