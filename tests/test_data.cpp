// The feature cache (HDF5), conversations, folds, shuffle conditions, batches and metrics.
#include <filesystem>
#include <fstream>
#include <set>

#include "data/dataset.h"
#include "eval/metrics.h"
#include "test_util.h"

using namespace erc;
using namespace erc::data;
using namespace erc::eval;

namespace {

// Two sessions; dialogue A of session 1 has 3 utterances written out of time order, B and C one speaker pair each.
// A fixed split beside them: A and C train, B dev, D test.
std::vector<UtteranceInfo> toy_index() {
  return {{"A_F001", "A", 1, "F", "neu", 2.0, 3.0, 3, "train"}, {"A_M000", "A", 1, "M", "ang", 0.0, 1.0, 2, "train"},
          {"A_F002", "A", 1, "F", "xxx", 4.0, 5.0, 4, "train"}, {"B_F000", "B", 1, "F", "sad", 0.5, 1.0, 2, "dev"},
          {"B_M001", "B", 1, "M", "hap", 1.5, 2.0, 5, "dev"},   {"C_F000", "C", 2, "F", "exc", 0.0, 1.0, 1, "train"},
          {"C_M001", "C", 2, "M", "fru", 1.0, 2.0, 2, "train"}, {"D_M000", "D", 2, "M", "neu", 0.0, 1.0, 3, "test"}};
}

CacheAttributes toy_attributes(DType dtype) {
  CacheAttributes a;
  a.extractor = "test";
  a.feature_dim = 4;
  a.dtype = dtype;
  return a;
}

Tensor toy_features(const UtteranceInfo& u, int64_t dim) {
  Tensor t = Tensor::empty({u.n_frames, dim});
  float* p = t.data<float>();
  for (int64_t i = 0; i < t.numel(); ++i) p[i] = float(u.utt_id[0] - 'A') + 0.25f * float(i);  // exact in f16
  return t;
}

std::string write_toy_cache(const std::string& name, DType dtype) {
  const std::string path = ::testing::TempDir() + name;
  std::filesystem::remove(path);
  std::filesystem::remove(path + ".partial");
  FeatureCacheWriter w(path, toy_attributes(dtype));
  std::vector<std::string> order;
  for (const UtteranceInfo& u : toy_index()) {
    w.write(u, toy_features(u, 4));
    order.push_back(u.utt_id);
  }
  w.finish(order);
  return path;
}

}  // namespace

TEST(FeatureCache, RoundTripF16AndF32) {
  for (DType dtype : {DType::f16, DType::f32}) {
    const std::string path = write_toy_cache("erc_cache_roundtrip.h5", dtype);
    EXPECT_FALSE(std::filesystem::exists(path + ".partial"));
    FeatureCacheReader r(path);
    EXPECT_EQ(r.attributes(), toy_attributes(dtype));
    const std::vector<UtteranceInfo> index = toy_index();
    ASSERT_EQ(r.utterances().size(), index.size());
    for (size_t i = 0; i < index.size(); ++i) {
      const UtteranceInfo& want = index[i];
      const UtteranceInfo& got = r.utterances()[i];
      EXPECT_EQ(got.utt_id, want.utt_id);
      EXPECT_EQ(got.dialogue, want.dialogue);
      EXPECT_EQ(got.session, want.session);
      EXPECT_EQ(got.speaker, want.speaker);
      EXPECT_EQ(got.label, want.label);
      EXPECT_EQ(got.start, want.start);
      EXPECT_EQ(got.n_frames, want.n_frames);
      EXPECT_EQ(got.split, want.split);
      EXPECT_TRUE(test::allclose(r.read(i), toy_features(want, 4), 0, 0)) << want.utt_id;
    }
  }
}

TEST(FeatureCache, ResumesAPartialFileAndRefusesOtherSettings) {
  const std::string path = ::testing::TempDir() + "erc_cache_resume.h5";
  std::filesystem::remove(path);
  std::filesystem::remove(path + ".partial");
  auto index = toy_index();
  {
    FeatureCacheWriter w(path, toy_attributes(DType::f16));
    w.write(index[0], toy_features(index[0], 4));
    w.write(index[1], toy_features(index[1], 4));
  }  // interrupted: no finish()
  EXPECT_FALSE(std::filesystem::exists(path));
  EXPECT_THROW(FeatureCacheWriter(path, toy_attributes(DType::f32)), Error);  // other settings: refused
  FeatureCacheWriter w(path, toy_attributes(DType::f16));
  EXPECT_EQ(w.n_written(), 2);
  EXPECT_TRUE(w.has(index[1].utt_id));
  EXPECT_THROW(w.write(index[0], toy_features(index[0], 4)), Error);  // already there
  std::vector<std::string> order;
  for (size_t i = 0; i < index.size(); ++i) {
    if (!w.has(index[i].utt_id)) w.write(index[i], toy_features(index[i], 4));
    order.push_back(index[i].utt_id);
  }
  w.finish(order);
  FeatureCacheReader r(path);
  EXPECT_EQ(r.utterances().size(), index.size());
  EXPECT_EQ(r.utterances()[1].n_frames, index[1].n_frames);
  EXPECT_EQ(r.utterances()[3].split, "dev");  // written before the interruption: kept on the dataset
}

TEST(FeatureCache, BadInputIsAClearError) {
  const std::string path = ::testing::TempDir() + "erc_cache_bad.h5";
  std::filesystem::remove(path + ".partial");
  FeatureCacheWriter w(path, toy_attributes(DType::f32));
  Tensor nan = Tensor::zeros({2, 4});
  nan.data<float>()[5] = std::numeric_limits<float>::quiet_NaN();
  const std::vector<UtteranceInfo> index = toy_index();
  EXPECT_THROW(w.write(index[0], nan), Error);
  EXPECT_EQ(w.n_written(), 0);  // nothing half-written
  EXPECT_THROW(w.write(index[0], Tensor::zeros({2, 5})), Error);
  EXPECT_THROW(FeatureCacheReader(::testing::TempDir() + "does-not-exist.h5"), Error);
  const std::string junk = ::testing::TempDir() + "erc_not_hdf5.h5";
  std::ofstream(junk) << "not an HDF5 file";
  try {
    FeatureCacheReader r(junk);
    FAIL();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("not an HDF5 file"), std::string::npos) << e.what();
  }
  // A truncated cache: cut the end off a good one.
  const std::string good = write_toy_cache("erc_cache_truncate.h5", DType::f32);
  std::filesystem::resize_file(good, std::filesystem::file_size(good) / 2);
  EXPECT_THROW(
      {
        FeatureCacheReader r(good);
        for (size_t i = 0; i < r.utterances().size(); ++i) r.read(i);
      },
      Error);
}

TEST(Dataset, ConversationsAreOrderedByStartTime) {
  auto convs = group_conversations(toy_index());
  ASSERT_EQ(convs.size(), 4u);
  EXPECT_EQ(convs[0].dialogue, "A");
  EXPECT_EQ(convs[0].utterances, (std::vector<size_t>{1, 0, 2}));  // starts 0.0, 2.0, 4.0
}

TEST(Dataset, LeaveOneSessionOutFolds) {
  auto convs = group_conversations(toy_index());
  Fold f = make_fold(convs, 2, 0.0, 0);
  EXPECT_EQ(f.test, (std::vector<size_t>{2, 3}));
  EXPECT_EQ(f.train, (std::vector<size_t>{0, 1}));
  Fold v = make_fold(convs, 2, 0.5, 7);
  EXPECT_EQ(v.val.size(), 1u);
  EXPECT_EQ(v.train.size(), 1u);
  EXPECT_THROW(make_fold(convs, 3, 0.0, 0), Error);  // no session 3: nothing to test on
}

TEST(Dataset, TheFixedSplitIsTrainDevAndTestWhateverTheSessions) {
  auto convs = group_conversations(toy_index());
  const Fold f = make_fold(convs, kFixedSplit, 0.0, 0);
  EXPECT_EQ(f.train, (std::vector<size_t>{0, 2}));  // A and C, across both sessions
  EXPECT_EQ(f.val, (std::vector<size_t>{1}));       // B, dev
  EXPECT_EQ(f.test, (std::vector<size_t>{3}));      // D
  std::vector<UtteranceInfo> index = toy_index();
  index[7].split = "";
  convs = group_conversations(index);
  EXPECT_TRUE(test::mentions(test::error_of([&] { make_fold(convs, kFixedSplit, 0.0, 0); }),
                             "conversation D is in no split (none given)"));
  index[7].split = "test";
  index[0].split = "dev";
  EXPECT_TRUE(test::mentions(test::error_of([&] { group_conversations(index); }),
                             "dialogue A spans the splits 'dev' and 'train'"));
}

TEST(Dataset, ShuffleConditionsKeepWhatTheyPromise) {
  auto index = toy_index();
  auto convs = group_conversations(index);
  std::vector<size_t> ids = {0, 1, 2, 3};
  Generator gen(3);
  auto none = shuffled_conversations(convs, ids, index, Shuffle::none, gen);
  for (Shuffle s : {Shuffle::intra, Shuffle::inter_speaker, Shuffle::inter}) {
    auto out = shuffled_conversations(convs, ids, index, s, gen);
    std::multiset<size_t> all_before, all_after;
    for (size_t c = 0; c < out.size(); ++c) {
      ASSERT_EQ(out[c].size(), none[c].size()) << shuffle_name(s);  // lengths kept
      all_before.insert(none[c].begin(), none[c].end());
      all_after.insert(out[c].begin(), out[c].end());
      if (s == Shuffle::intra) {
        EXPECT_EQ(std::multiset<size_t>(out[c].begin(), out[c].end()),
                  std::multiset<size_t>(none[c].begin(), none[c].end()));
      }
      if (s == Shuffle::inter_speaker)
        for (size_t k = 0; k < out[c].size(); ++k) {  // same actor in every slot
          EXPECT_EQ(index[out[c][k]].speaker, index[none[c][k]].speaker);
          EXPECT_EQ(index[out[c][k]].session, index[none[c][k]].session);
        }
    }
    EXPECT_EQ(all_before, all_after) << shuffle_name(s);  // every utterance used exactly once
  }
  EXPECT_THROW(parse_shuffle("sideways"), Error);
  EXPECT_EQ(parse_shuffle("inter-speaker"), Shuffle::inter_speaker);
}

TEST(Dataset, BatchesPackSequencesAndUtterances) {
  const std::string path = write_toy_cache("erc_cache_batches.h5", DType::f32);
  FeatureCacheReader cache(path);
  auto convs = group_conversations(cache.utterances());
  std::vector<Sequence> seqs = {convs[0].utterances, convs[1].utterances};
  auto conv_plans = plan_batches(seqs, Mode::conversation, 128, nullptr);
  ASSERT_EQ(conv_plans.size(), 2u);
  Batch b = load_batch(cache, conv_plans[0], ClassSet::paper());
  EXPECT_EQ(b.seq_offsets, (std::vector<int64_t>{0, 9}));
  EXPECT_EQ(b.utt_offsets, (std::vector<int64_t>{0, 2, 5, 9}));
  EXPECT_EQ(b.labels.to_vector<int64_t>(), (std::vector<int64_t>{0, 4, kIgnoreLabel}));
  // The targets are the run's classes: here neu first, ang merged with sad.
  EXPECT_EQ(load_batch(cache, conv_plans[0], ClassSet::parse("neu,ang+sad")).labels.to_vector<int64_t>(),
            (std::vector<int64_t>{1, 0, kIgnoreLabel}));
  EXPECT_TRUE(test::allclose(b.features.narrow(0, 2, 3), toy_features(cache.utterances()[0], 4), 0, 0));
  auto utt_plans = plan_batches(seqs, Mode::utterance, 2, nullptr);
  ASSERT_EQ(utt_plans.size(), 3u);  // 5 utterances, 2 per batch
  Batch u = load_batch(cache, utt_plans[0], ClassSet::paper());
  EXPECT_EQ(u.seq_offsets, u.utt_offsets);  // each utterance its own sequence
  Generator gen(1);
  auto shuffled = plan_batches(seqs, Mode::utterance, 2, &gen);
  std::multiset<size_t> seen;
  for (auto& plan : shuffled)
    for (auto& s : plan) seen.insert(s.begin(), s.end());
  EXPECT_EQ(seen, (std::multiset<size_t>{0, 1, 2, 3, 4}));
}

TEST(Metrics, KnownValuesAndMissingClasses) {
  // 3 classes; class 2 has no support but is predicted once. Worked by hand:
  // confusion [[2,1,0],[1,1,1],[0,0,0]]; recall 2/3, 1/3; precision 2/3, 1/2, 0; F1 2/3, 0.4.
  std::vector<int64_t> labels = {0, 0, 0, 1, 1, 1, -100};
  std::vector<int64_t> preds = {0, 0, 1, 0, 1, 2, 2};
  eval::Metrics m = eval::compute_metrics(labels, preds, 3);
  EXPECT_EQ(m.n, 6);
  EXPECT_DOUBLE_EQ(m.wa, 3.0 / 6.0);
  EXPECT_DOUBLE_EQ(m.ua, (2.0 / 3.0 + 1.0 / 3.0) / 2.0);
  EXPECT_DOUBLE_EQ(m.weighted_f1, (3 * (2.0 / 3.0) + 3 * 0.4) / 6.0);
  EXPECT_DOUBLE_EQ(m.macro_f1, (2.0 / 3.0 + 0.4) / 2.0);
  EXPECT_EQ(m.confusion[1], (std::vector<int64_t>{1, 1, 1}));
  EXPECT_EQ(m.per_class[2].support, 0);
  EXPECT_EQ(m.per_class[2].predicted, 2 - 1);  // the unlabelled row's prediction is not scored
  eval::Metrics empty = eval::compute_metrics({-100}, {3}, 3);
  EXPECT_EQ(empty.n, 0);
  EXPECT_EQ(empty.wa, 0.0);
  EXPECT_THROW(eval::compute_metrics({0}, {5}, 3), Error);
}

// Damage on disk is an error, never wrong features: the feature datasets carry Fletcher-32 checksums and the file's
// metadata (its header blocks, the datasets' names and attributes) the checksums of HDF5 1.10's format. A byte
// flipped in an utterance's features, or in any copy of its name, fails the open or the read.
TEST(FeatureCache, DamagedBytesAreAnErrorNotValues) {
  const std::string path = ::testing::TempDir() + "erc_cache_damaged.h5";
  std::filesystem::remove(path);
  const UtteranceInfo u{"Zq_unique_utt", "Zq", 1, "F", "neu", 0.0, 1.0, 6};
  Tensor features = Tensor::empty({6, 4});
  for (int64_t i = 0; i < 24; ++i) features.data<float>()[i] = 1234.5f + float(i);
  {
    FeatureCacheWriter w(path, toy_attributes(DType::f32));
    w.write(u, features);
    w.finish({u.utt_id});
  }
  std::ifstream in(path, std::ios::binary);
  const std::string good((std::istreambuf_iterator<char>(in)), {});
  auto read_back = [](const std::string& file) { return FeatureCacheReader(file).read(0); };
  EXPECT_TRUE(test::allclose(read_back(path), features, 0, 0));

  std::vector<size_t> targets;
  const std::string data(static_cast<const char*>(features.raw_data()), 24 * sizeof(float));
  const size_t data_at = good.find(data);
  ASSERT_NE(data_at, std::string::npos);
  targets.push_back(data_at + 37);
  for (size_t at = good.find(u.utt_id); at != std::string::npos; at = good.find(u.utt_id, at + 1))
    targets.push_back(at + 3);
  ASSERT_GE(targets.size(), 3u) << "the name is stored in the index and as the dataset's link";
  const std::string damaged = ::testing::TempDir() + "erc_cache_damaged_copy.h5";
  for (size_t at : targets) {
    std::string bytes = good;
    bytes[at] = char(bytes[at] ^ 0x04);
    std::ofstream(damaged, std::ios::binary | std::ios::trunc).write(bytes.data(), int64_t(bytes.size()));
    EXPECT_THROW(read_back(damaged), Error) << "a byte flipped at " << at << " of " << bytes.size();
  }
}
