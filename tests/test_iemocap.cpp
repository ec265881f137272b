// The IEMOCAP indexer on a small tree in the corpus's exact layout and line format: dialogue and time order,
// ids with underscores in the dialogue name, skipped lines and folders, missing WAVs and refused input.
#include <filesystem>
#include <fstream>

#include "data/iemocap.h"
#include "test_util.h"

using namespace erc;
using erc::test::error_of;
using namespace erc::data;
namespace fs = std::filesystem;

namespace {

// Per test and process: CTest runs tests in parallel processes, which must not share a tree.
void write_file(const fs::path& path, const std::string& text) {
  fs::create_directories(path.parent_path());
  std::ofstream(path, std::ios::binary) << text;
}

// The header IEMOCAP puts atop every EmoEvaluation file, then one block per utterance as the corpus writes it.
const char* kHeader = "% [START_TIME - END_TIME] TURN_NAME EMOTION [V, A, D]\n\n";

std::string block(const std::string& range, const std::string& id, const std::string& label) {
  return range + "\t" + id + "\t" + label + "\t[2.5000, 2.5000, 2.5000]\n" + "C-E2:\tNeutral;\t()\n" +
         "C-F1:\tNeutral;\t(curious)\n" + "A-E3:\tval 3; act 2; dom  2;\t()\n" +
         "A-F1:\tval 3; act 2; dom  1;\t(mildly aggravated but staying polite, attitude)\n\n";
}

// Two sessions, three dialogues. Ses01F_impro01 lists its utterances out of time order.
fs::path make_tree(const std::string& name) {
  const fs::path root = test::fresh_dir(name);
  const fs::path s1 = root / "Session1" / "dialog" / "EmoEvaluation";
  const fs::path s3 = root / "Session3" / "dialog" / "EmoEvaluation";
  // Written before impro01 so directory order differs from file-name order.
  write_file(s1 / "Ses01M_script01_1b.txt",
             std::string(kHeader) + block("[1.5000 - 3.2500]", "Ses01M_script01_1b_M000", "hap") +
                 block("[3.5000 - 4.0000]", "Ses01M_script01_1b_F001", "exc"));
  write_file(s1 / "Ses01F_impro01.txt",
             std::string(kHeader) + block("[10.0100 - 11.3925]", "Ses01F_impro01_M001", "xxx") +
                 block("[6.2901 - 8.2357]", "Ses01F_impro01_F000", "neu") +
                 block("[14.8872 - 18.0175]", "Ses01F_impro01_F002", "fru"));
  write_file(s3 / "Ses03M_impro05a.txt",
             std::string(kHeader) + block("[0.2500 - 2.0000]", "Ses03M_impro05a_F010", "ang") +
                 block("[2.1000 - 5.7500]", "Ses03M_impro05a_M011", "sad"));
  // Decoys that must not be read: per-annotator folders and files that are not .txt or are hidden.
  write_file(s1 / "Categorical" / "Ses01F_impro09.txt", block("[0.0000 - 1.0000]", "Ses01F_impro09_F000", "neu"));
  write_file(s1 / "Attribute" / "Ses01F_impro09.txt", "garbage\n[not a summary line\n");
  write_file(s1 / "Ses01F_impro09.csv", block("[0.0000 - 1.0000]", "Ses01F_impro09_F000", "neu"));
  write_file(s1 / "._Ses01F_impro01.txt", "[\x01\x02 resource fork");

  for (const char* id : {"Ses01F_impro01_F000", "Ses01F_impro01_M001", "Ses01F_impro01_F002", "Ses01F_impro09_F000"})
    write_file(root / "Session1" / "sentences" / "wav" / std::string(id).substr(0, 14) / (std::string(id) + ".wav"),
               "RIFF");
  for (const char* id : {"Ses01M_script01_1b_M000", "Ses01M_script01_1b_F001"})
    write_file(root / "Session1" / "sentences" / "wav" / "Ses01M_script01_1b" / (std::string(id) + ".wav"), "RIFF");
  for (const char* id : {"Ses03M_impro05a_F010", "Ses03M_impro05a_M011"})
    write_file(root / "Session3" / "sentences" / "wav" / "Ses03M_impro05a" / (std::string(id) + ".wav"), "RIFF");
  return root;
}

}  // namespace

TEST(Iemocap, IndexesDialoguesInOrder) {
  const fs::path root = make_tree("order");
  const IemocapIndex index = index_iemocap(root.string(), {1, 3});
  EXPECT_EQ(index.dialogues, 3);
  EXPECT_TRUE(index.missing_wavs.empty());

  struct Expected {
    const char *id, *dialogue;
    int64_t session;
    const char *speaker, *label;
    double start, end;
  };
  const std::vector<Expected> expected = {
      {"Ses01F_impro01_F000", "Ses01F_impro01", 1, "F", "neu", 6.2901, 8.2357},
      {"Ses01F_impro01_M001", "Ses01F_impro01", 1, "M", "xxx", 10.01, 11.3925},
      {"Ses01F_impro01_F002", "Ses01F_impro01", 1, "F", "fru", 14.8872, 18.0175},
      {"Ses01M_script01_1b_M000", "Ses01M_script01_1b", 1, "M", "hap", 1.5, 3.25},
      {"Ses01M_script01_1b_F001", "Ses01M_script01_1b", 1, "F", "exc", 3.5, 4.0},
      {"Ses03M_impro05a_F010", "Ses03M_impro05a", 3, "F", "ang", 0.25, 2.0},
      {"Ses03M_impro05a_M011", "Ses03M_impro05a", 3, "M", "sad", 2.1, 5.75},
  };
  ASSERT_EQ(index.utterances.size(), expected.size());
  for (size_t i = 0; i < expected.size(); ++i) {
    const UtteranceInfo& u = index.utterances[i];
    SCOPED_TRACE(expected[i].id);
    EXPECT_EQ(u.utt_id, expected[i].id);
    EXPECT_EQ(u.dialogue, expected[i].dialogue);
    EXPECT_EQ(u.session, expected[i].session);
    EXPECT_EQ(u.speaker, expected[i].speaker);
    EXPECT_EQ(u.label, expected[i].label);
    EXPECT_DOUBLE_EQ(u.start, expected[i].start);
    EXPECT_DOUBLE_EQ(u.end, expected[i].end);
    EXPECT_EQ(u.n_frames, 0);
  }
}

TEST(Iemocap, SessionSubsetAndOrder) {
  const fs::path root = make_tree("subset");
  const IemocapIndex only3 = index_iemocap(root.string(), {3});
  ASSERT_EQ(only3.utterances.size(), 2u);
  EXPECT_EQ(only3.dialogues, 1);
  EXPECT_EQ(only3.utterances[0].dialogue, "Ses03M_impro05a");

  const IemocapIndex reversed = index_iemocap(root.string(), {3, 1});
  ASSERT_EQ(reversed.utterances.size(), 7u);
  EXPECT_EQ(reversed.utterances.front().session, 3);
  EXPECT_EQ(reversed.utterances.back().utt_id, "Ses01M_script01_1b_F001");
}

TEST(Iemocap, WavPath) {
  UtteranceInfo u;
  u.utt_id = "Ses05M_script01_1b_F003";
  u.dialogue = "Ses05M_script01_1b";
  u.session = 5;
  EXPECT_EQ(wav_path("/data/IEMOCAP_full_release", u),
            "/data/IEMOCAP_full_release/Session5/sentences/wav/Ses05M_script01_1b/Ses05M_script01_1b_F003.wav");
}

TEST(Iemocap, MissingWavIsReportedAndLeftOut) {
  const fs::path root = make_tree("missing");
  const UtteranceInfo gone{"Ses01F_impro01_M001", "Ses01F_impro01", 1, "M", "xxx", 0, 0, 0};
  ASSERT_TRUE(fs::remove(wav_path(root.string(), gone)));
  const IemocapIndex index = index_iemocap(root.string(), {1, 3});
  ASSERT_EQ(index.missing_wavs.size(), 1u);
  EXPECT_EQ(index.missing_wavs[0], wav_path(root.string(), gone));
  ASSERT_EQ(index.utterances.size(), 6u);
  EXPECT_EQ(index.utterances[0].utt_id, "Ses01F_impro01_F000");
  EXPECT_EQ(index.utterances[1].utt_id, "Ses01F_impro01_F002");
  EXPECT_EQ(index.dialogues, 3);
}

TEST(Iemocap, MalformedSummaryLineNamesFileAndLine) {
  const fs::path root = make_tree("malformed");
  const fs::path file = root / "Session3" / "dialog" / "EmoEvaluation" / "Ses03M_impro05a.txt";
  // Line 3: the header, a blank line, then a summary line whose range lacks its end.
  write_file(file, std::string(kHeader) + "[0.2500 - ]\tSes03M_impro05a_F010\tang\t[2.5000, 2.5000, 2.5000]\n");
  const std::string msg = error_of([&] { index_iemocap(root.string(), {1, 3}); });
  EXPECT_NE(msg.find(file.string() + ":3"), std::string::npos) << msg;

  write_file(file, std::string(kHeader) + "[0.2500 - 2.0000] Ses03M_impro05a_F010 ang [2.5000, 2.5000, 2.5000]\n");
  const std::string spaces = error_of([&] { index_iemocap(root.string(), {3}); });
  EXPECT_NE(spaces.find(file.string() + ":3"), std::string::npos) << spaces;

  write_file(file, std::string(kHeader) + block("[0.2500 - 2.0000]", "Ses03M_impro05a_X010", "ang"));
  const std::string speaker = error_of([&] { index_iemocap(root.string(), {3}); });
  EXPECT_NE(speaker.find(file.string() + ":3"), std::string::npos) << speaker;
  EXPECT_NE(speaker.find("Ses03M_impro05a_X010"), std::string::npos) << speaker;
}

TEST(Iemocap, IdDisagreeingWithItsFolderIsAnError) {
  const fs::path root = make_tree("mismatch");
  const fs::path file = root / "Session3" / "dialog" / "EmoEvaluation" / "Ses03M_impro05a.txt";
  write_file(file, std::string(kHeader) + block("[0.2500 - 2.0000]", "Ses02M_impro05a_F010", "ang"));
  const std::string session = error_of([&] { index_iemocap(root.string(), {3}); });
  EXPECT_NE(session.find("Session3"), std::string::npos) << session;

  write_file(file, std::string(kHeader) + block("[0.2500 - 2.0000]", "Ses03M_impro05b_F010", "ang"));
  const std::string dialogue = error_of([&] { index_iemocap(root.string(), {3}); });
  EXPECT_NE(dialogue.find("Ses03M_impro05a.txt"), std::string::npos) << dialogue;

  write_file(file, std::string(kHeader) + block("[0.2500 - 2.0000]", "Ses03M_impro05a_F010", "ang") +
                       block("[3.0000 - 4.0000]", "Ses03M_impro05a_F010", "ang"));
  const std::string twice = error_of([&] { index_iemocap(root.string(), {3}); });
  EXPECT_NE(twice.find("listed twice"), std::string::npos) << twice;
}

TEST(Iemocap, WrongRootIsAnError) {
  const fs::path empty = test::fresh_dir("empty");
  const std::string msg = error_of([&] { index_iemocap(empty.string()); });
  EXPECT_NE(msg.find(empty.string()), std::string::npos) << msg;

  const std::string absent = (empty / "no_such_folder").string();
  const std::string msg2 = error_of([&] { index_iemocap(absent); });
  EXPECT_NE(msg2.find(absent), std::string::npos) << msg2;

  const fs::path root = make_tree("root");
  const std::string msg3 = error_of([&] { index_iemocap(root.string()); });  // Session2 is absent
  EXPECT_NE(msg3.find((root / "Session2").string()), std::string::npos) << msg3;
  EXPECT_THROW(index_iemocap(root.string(), {6}), Error);
  EXPECT_THROW(index_iemocap(root.string(), {1, 1}), Error);
}
