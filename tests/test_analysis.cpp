// Run analyses: predictions.csv and the per-conversation "atmosphere" analysis (its chart: test_charts.cpp).

#include <cmath>
#include <filesystem>
#include <fstream>
#include <functional>
#include <sstream>

#include "data/classes.h"
#include "eval/atmosphere.h"
#include "eval/predictions.h"
#include "test_util.h"

using namespace erc;
using erc::test::error_of;
using erc::test::mentions;
using namespace erc::data;
using namespace erc::eval;

namespace {

const ClassSet kPaper = ClassSet::paper();
int64_t label_index(const std::string& label) { return kPaper.index(label); }

std::string read_text(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

std::string write_text(const std::string& name, const std::string& text) {
  const std::string path = ::testing::TempDir() + name;
  std::ofstream(path, std::ios::binary) << text;
  return path;
}

Prediction make_prediction(const std::string& utt_id, const std::string& dialogue, const std::string& label,
                           int64_t prediction) {
  Prediction p;
  p.utt_id = utt_id;
  p.dialogue = dialogue;
  p.session = 5;
  p.speaker = utt_id.back() == 'M' ? "M" : "F";
  p.start = double(utt_id.size());
  p.label = label;
  p.label_index = label_index(label);
  p.prediction = prediction;
  p.probabilities.assign(kPaper.size(), 0.0);
  p.probabilities[size_t(prediction)] = 1.0;
  return p;
}

// The hand-made session: four conversations, given out of name order, with both models' predictions
// (ang 0, exc 1, fru 2, hap 3, neu 4, sad 5). Worked out:
//   d1: ang ang ang neu + one xxx (unlabelled, ignored). Shares ang 3/4, neu 1/4; dominant ang; one emotion > 50%.
//       context right on the 3 ang and wrong on neu; utterance right on 1 ang of 3 and on neu.
//       ang: 1 - 1/3 = +2/3, relative (2/3)/(1/3) = 2.   neu: 0 - 1 = -1, relative -1.
//   d2: fru fru sad sad hap neu. Shares 1/3 1/3 1/6 1/6: fru and sad tie, fru comes first in class order;
//       top one 1/3 (not > 50%), top two 2/3 (> 50%).
//       fru: context 1/2, utterance 0/2: +1/2, relative undefined (utterance accuracy 0).
//       sad: 2/2 vs 1/2: +1/2, relative 1.  hap: 0/1 vs 1/1: -1, relative -1.  neu: 1/1 vs 1/1: 0, relative 0.
//   d3: ang ang exc sad. ang exactly 1/2, so NOT over half; top two 3/4 > 50%. Both models always right: 0.
//   d4: exc fru hap neu sad, 1/5 each: dominant exc (first of the tie); top two 2/5. Both always wrong: changes 0,
//       relative changes undefined.
// Summary: 4 conversations; one emotion > 50% in 1 (d1), the top two in 3 (d1 d2 d3); 19 labelled utterances.
//   dominant pairs (d1 ang, d2 fru, d3 ang, d4 exc): (2/3 + 1/2 + 0 + 0) / 4 = 7/24.
//   other pairs (d1 neu; d2 sad hap neu; d3 exc sad; d4 fru hap neu sad): (-1 + 1/2 - 1) / 10 = -0.15.
//   accuracy: context (3 + 4 + 4 + 0) / 19 = 11/19, utterance (2 + 3 + 4 + 0) / 19 = 9/19.
struct Row {
  const char *utt_id, *dialogue, *label;
  int64_t context, utterance;
};
const std::vector<Row> kSession = {
    {"d2_F0", "d2", "fru", 2, 0}, {"d2_M1", "d2", "fru", 0, 0}, {"d2_F2", "d2", "sad", 5, 5},
    {"d2_M3", "d2", "sad", 5, 4}, {"d2_F4", "d2", "hap", 1, 3}, {"d2_M5", "d2", "neu", 4, 4},
    {"d1_F0", "d1", "ang", 0, 0}, {"d1_M1", "d1", "ang", 0, 4}, {"d1_F2", "d1", "ang", 0, 2},
    {"d1_M3", "d1", "neu", 0, 4}, {"d1_F4", "d1", "xxx", 3, 1}, {"d3_F0", "d3", "ang", 0, 0},
    {"d3_M1", "d3", "ang", 0, 0}, {"d3_F2", "d3", "exc", 1, 1}, {"d3_M3", "d3", "sad", 5, 5},
    {"d4_F0", "d4", "exc", 0, 0}, {"d4_M1", "d4", "fru", 0, 0}, {"d4_F2", "d4", "hap", 0, 0},
    {"d4_M3", "d4", "neu", 0, 0}, {"d4_F4", "d4", "sad", 0, 0},
};

std::vector<eval::Prediction> session_predictions(bool context) {
  std::vector<eval::Prediction> out;
  for (const Row& r : kSession)
    out.push_back(make_prediction(r.utt_id, r.dialogue, r.label, context ? r.context : r.utterance));
  return out;
}

AtmosphereReport session_report() {
  std::vector<Prediction> utterance_model = session_predictions(false);
  std::reverse(utterance_model.begin(), utterance_model.end());  // matched by utt_id, not by position
  return analyse_atmosphere(session_predictions(true), utterance_model, kPaper.names());
}

const EmotionChange& change_of(const ConversationAtmosphere& c, const char* emotion) {
  for (const EmotionChange& e : c.changes)
    if (e.emotion == label_index(emotion)) return e;
  throw std::runtime_error(c.dialogue + " has no " + emotion);
}
}  // namespace

TEST(Predictions, CsvRoundTripKeepsEveryBit) {
  eval::Prediction labelled = make_prediction("Ses05F_impro01_F000", "Ses05F_impro01", "fru", 4);
  labelled.start = 12.3456789;
  labelled.probabilities = {0.1, 1.0 / 3.0, 1e-17, 0.2, 0.3666666666666667 - 1e-17, 0.0};
  eval::Prediction unlabelled = make_prediction("Ses05F_impro01_M001", "Ses05F_impro01", "xxx", 0);
  EXPECT_EQ(unlabelled.label_index, kIgnoreLabel);
  unlabelled.speaker = "Doe, \"Jane\"";  // a name of the user's own corpus: quoted in the file, read back as it is
  const std::string path = ::testing::TempDir() + "erc_predictions.csv";
  eval::write_predictions_csv(path, {labelled, unlabelled}, kPaper);
  EXPECT_FALSE(std::filesystem::exists(path + ".tmp"));
  EXPECT_TRUE(mentions(read_text(path),
                       "utt_id,dialogue,session,speaker,start,label,label_index,prediction,"
                       "p_ang,p_exc,p_fru,p_hap,p_neu,p_sad\nSes05F_impro01_F000,Ses05F_impro01,5,F,"
                       "12.3456789,fru,2,neu,0.1,"));
  const std::vector<eval::Prediction> back = eval::read_predictions_csv(path, kPaper);
  ASSERT_EQ(back.size(), 2u);
  for (size_t i = 0; i < 2; ++i) {
    const Prediction& want = i ? unlabelled : labelled;
    EXPECT_EQ(back[i].utt_id, want.utt_id);
    EXPECT_EQ(back[i].dialogue, want.dialogue);
    EXPECT_EQ(back[i].session, want.session);
    EXPECT_EQ(back[i].speaker, want.speaker);
    EXPECT_EQ(back[i].start, want.start);
    EXPECT_EQ(back[i].label, want.label);
    EXPECT_EQ(back[i].label_index, want.label_index);
    EXPECT_EQ(back[i].prediction, want.prediction);
    EXPECT_EQ(back[i].probabilities, want.probabilities);
  }
}

TEST(Predictions, CsvErrorsNameFileLineAndProblem) {
  const std::string header =
      "utt_id,dialogue,session,speaker,start,label,label_index,prediction,p_ang,p_exc,p_fru,p_hap,p_neu,p_sad\n";
  const std::string good = "a_F0,a,5,F,0.5,neu,4,neu,0,0,0,0,1,0\n";
  const std::string missing = write_text("erc_pred_missing.csv",
                                         "utt_id,dialogue,session,speaker,start,label,"
                                         "label_index,prediction,p_ang,p_exc,p_fru,p_hap,p_neu\n");
  std::string e = error_of([&] { eval::read_predictions_csv(missing, kPaper); });
  EXPECT_TRUE(mentions(e, missing + ":1: missing column 'p_sad'"));

  const std::string bad_number =
      write_text("erc_pred_number.csv", header + good + "a_M1,a,5,M,1.5x,neu,4,neu,0,0,0,0,1,0\n");
  EXPECT_TRUE(mentions(error_of([&] { eval::read_predictions_csv(bad_number, kPaper); }),
                       bad_number + ":3: column start: bad number '1.5x'"));

  const std::string unknown = write_text("erc_pred_class.csv", header + "a_F0,a,5,F,0.5,neu,4,joy,0,0,0,0,1,0\n");
  EXPECT_TRUE(mentions(error_of([&] { eval::read_predictions_csv(unknown, kPaper); }),
                       unknown + ":2: column prediction: 'joy' is no class of the run's (ang,exc,fru,hap,neu,sad)"));

  const std::string short_line = write_text("erc_pred_fields.csv", header + good + good + "a_F0,a,5\n");
  EXPECT_TRUE(mentions(error_of([&] { eval::read_predictions_csv(short_line, kPaper); }),
                       short_line + ":4: 3 fields, the header has 14"));

  const std::string disagree = write_text("erc_pred_index.csv", header + "a_F0,a,5,F,0.5,neu,2,neu,0,0,0,0,1,0\n");
  EXPECT_TRUE(mentions(error_of([&] { eval::read_predictions_csv(disagree, kPaper); }),
                       disagree + ":2: label_index 2 disagrees with label 'neu'"));

  EXPECT_TRUE(mentions(error_of([] { eval::read_predictions_csv(::testing::TempDir() + "erc_no_such.csv", kPaper); }),
                       "cannot open"));
}

TEST(Atmosphere, SharesDominantEmotionsAndChanges) {
  const AtmosphereReport r = session_report();
  ASSERT_EQ(r.conversations.size(), 4u);
  const ConversationAtmosphere &d1 = r.conversations[0], &d2 = r.conversations[1], &d3 = r.conversations[2],
                               &d4 = r.conversations[3];
  EXPECT_EQ(d1.dialogue, "d1");
  EXPECT_EQ(d4.dialogue, "d4");
  EXPECT_EQ(d1.session, 5);

  EXPECT_EQ(d1.n_labelled, 4);
  EXPECT_EQ(d1.counts, (std::vector<int64_t>{3, 0, 0, 0, 1, 0}));
  EXPECT_DOUBLE_EQ(d1.shares[0], 0.75);
  EXPECT_DOUBLE_EQ(d1.shares[4], 0.25);
  EXPECT_EQ(d1.dominant, label_index("ang"));
  EXPECT_TRUE(d1.one_over_half);
  EXPECT_TRUE(d1.two_over_half);
  ASSERT_EQ(d1.changes.size(), 2u);
  const EmotionChange& d1_ang = change_of(d1, "ang");
  EXPECT_TRUE(d1_ang.dominant);
  EXPECT_EQ(d1_ang.count, 3);
  EXPECT_DOUBLE_EQ(d1_ang.accuracy_context, 1.0);
  EXPECT_DOUBLE_EQ(d1_ang.accuracy_utterance, 1.0 / 3);
  EXPECT_DOUBLE_EQ(d1_ang.change, 2.0 / 3);
  EXPECT_DOUBLE_EQ(d1_ang.relative_change, 2.0);
  EXPECT_FALSE(change_of(d1, "neu").dominant);
  EXPECT_DOUBLE_EQ(change_of(d1, "neu").change, -1.0);
  EXPECT_DOUBLE_EQ(change_of(d1, "neu").relative_change, -1.0);

  EXPECT_EQ(d2.dominant, label_index("fru"));  // tied with sad
  EXPECT_DOUBLE_EQ(d2.top1_share, 1.0 / 3);
  EXPECT_DOUBLE_EQ(d2.top2_share, 2.0 / 3);
  EXPECT_FALSE(d2.one_over_half);
  EXPECT_TRUE(d2.two_over_half);
  EXPECT_DOUBLE_EQ(change_of(d2, "fru").change, 0.5);
  EXPECT_TRUE(std::isnan(change_of(d2, "fru").relative_change));
  EXPECT_DOUBLE_EQ(change_of(d2, "sad").relative_change, 1.0);
  EXPECT_DOUBLE_EQ(change_of(d2, "hap").change, -1.0);
  EXPECT_DOUBLE_EQ(change_of(d2, "neu").change, 0.0);

  EXPECT_DOUBLE_EQ(d3.top1_share, 0.5);
  EXPECT_FALSE(d3.one_over_half);  // exactly half is not more than half
  EXPECT_TRUE(d3.two_over_half);
  EXPECT_EQ(d4.dominant, label_index("exc"));
  EXPECT_FALSE(d4.two_over_half);
  EXPECT_TRUE(std::isnan(change_of(d4, "sad").relative_change));

  const AtmosphereSummary& s = r.summary;
  EXPECT_EQ(s.n_conversations, 4);
  EXPECT_EQ(s.n_one_over_half, 1);
  EXPECT_EQ(s.n_two_over_half, 3);
  EXPECT_EQ(s.n_labelled, 19);
  EXPECT_DOUBLE_EQ(s.accuracy_context, 11.0 / 19);
  EXPECT_DOUBLE_EQ(s.accuracy_utterance, 9.0 / 19);
  EXPECT_EQ(s.n_dominant_pairs, 4);
  EXPECT_EQ(s.n_other_pairs, 10);
  EXPECT_DOUBLE_EQ(s.mean_change_dominant, 7.0 / 24);
  EXPECT_DOUBLE_EQ(s.mean_change_other, -0.15);
}

TEST(Atmosphere, CsvFilesAndChangeTable) {
  const AtmosphereReport r = session_report();
  const std::string distribution = ::testing::TempDir() + "erc_distribution.csv";
  const std::string change = ::testing::TempDir() + "erc_change.csv";
  eval::write_distribution_csv(distribution, r);
  eval::write_change_csv(change, r);
  EXPECT_FALSE(std::filesystem::exists(change + ".tmp"));
  EXPECT_TRUE(mentions(read_text(distribution),
                       "dialogue,session,n_labelled,n_ang,n_exc,n_fru,n_hap,n_neu,n_sad,share_ang,share_exc,share_fru,"
                       "share_hap,share_neu,share_sad,dominant,top1_share,top2_share,one_over_half,two_over_half\n"
                       "d1,5,4,3,0,0,0,1,0,0.750000,0.000000,0.000000,0.000000,0.250000,0.000000,ang,0.750000,"
                       "1.000000,1,1\n"));
  const std::string changes = read_text(change);
  EXPECT_TRUE(mentions(changes,
                       "dialogue,session,emotion,count,dominant,accuracy_context,accuracy_utterance,change,"
                       "relative_change\nd1,5,ang,3,1,1.000000,0.333333,0.666667,2.000000\n"));
  EXPECT_TRUE(mentions(changes, "\nd2,5,fru,2,1,0.500000,0.000000,0.500000,\n"));  // undefined relative change

  const std::string table = eval::format_change_table(r);
  EXPECT_TRUE(mentions(table, "conversation     n     ang      exc      fru      hap      neu      sad\n"));
  EXPECT_TRUE(mentions(table, "d1               4   +66.7*       .        .        .   -100.0        .\n"));
  EXPECT_TRUE(mentions(table, "d2               6       .        .    +50.0*  -100.0     +0.0    +50.0\n"));
  EXPECT_TRUE(
      mentions(table, "4 conversations, 19 labelled utterances; one emotion covers > 50% in 1, the top two in 3"));
  EXPECT_TRUE(
      mentions(table, "mean change: dominant emotion +29.17 points over 4 pairs, other emotions -15.00 points"));
}

TEST(Atmosphere, MismatchedUtteranceSetsAreAnError) {
  const std::vector<eval::Prediction> context = session_predictions(true);
  std::vector<eval::Prediction> fewer = session_predictions(false);
  fewer.erase(fewer.begin() + 3);
  EXPECT_TRUE(mentions(error_of([&] { eval::analyse_atmosphere(context, fewer, kPaper.names()); }),
                       "utterance d2_M3 is in the context model's predictions but not in the utterance model's"));
  std::vector<eval::Prediction> more = session_predictions(false);
  more.push_back(make_prediction("d9_F0", "d9", "neu", 4));
  EXPECT_TRUE(mentions(error_of([&] { eval::analyse_atmosphere(context, more, kPaper.names()); }),
                       "utterance d9_F0 is in the utterance model's predictions but not in the context model's"));
  std::vector<eval::Prediction> twice = context;
  twice.push_back(context[0]);
  EXPECT_TRUE(mentions(error_of([&] { eval::analyse_atmosphere(twice, session_predictions(false), kPaper.names()); }),
                       "utterance d2_F0 appears twice in the context model's predictions"));
  std::vector<eval::Prediction> relabelled = session_predictions(false);
  relabelled[0] = make_prediction("d2_F0", "d2", "ang", 0);
  EXPECT_TRUE(mentions(error_of([&] { eval::analyse_atmosphere(context, relabelled, kPaper.names()); }),
                       "utterance d2_F0 is in dialogue d2"));
}
