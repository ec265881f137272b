// Writes that fail cleanly and outputs with one writer: a checkpoint, report or feature cache whose write fails
// midway (a full disk, played by a file-size limit) is an error that leaves the previous file as it was, and a
// second writer of a run directory or a feature cache is refused while the first holds it, also after the first
// was killed.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>

#include "data/feature_cache.h"
#include "io/atomic_file.h"
#include "io/file_lock.h"
#include "io/safetensors.h"
#include "test_util.h"
#include "train/trainer.h"
#include "train_test_util.h"

namespace erc {
namespace {

namespace fs = std::filesystem;
using test::error_mentions;
using test::file_bytes;

// While alive, a write that would take any file of this process past `bytes` fails with EFBIG, as on a full disk
// (SIGXFSZ, which would kill the process instead, is ignored meanwhile).
class FileSizeLimit {
 public:
  explicit FileSizeLimit(rlim_t bytes) {
    getrlimit(RLIMIT_FSIZE, &saved_);
    previous_handler_ = signal(SIGXFSZ, SIG_IGN);
    rlimit lowered = saved_;
    lowered.rlim_cur = bytes;
    EXPECT_EQ(setrlimit(RLIMIT_FSIZE, &lowered), 0);
  }
  ~FileSizeLimit() {
    setrlimit(RLIMIT_FSIZE, &saved_);
    signal(SIGXFSZ, previous_handler_);
  }

 private:
  rlimit saved_{};
  sighandler_t previous_handler_;
};

TEST(FailingWrites, ACheckpointThatDoesNotFitIsAnErrorAndThePreviousOneStays) {
  const std::string path = test::temp_path("checkpoint.safetensors");
  save_safetensors(path, {{"w", test::random_tensor({4, 4}, 1)}});
  const std::string before = file_bytes(path);
  {
    FileSizeLimit limit(4096);
    EXPECT_TRUE(error_mentions(
        [&] {
          save_safetensors(path, {{"w", test::random_tensor({256, 256}, 2)}});
        },
        {path, "writing failed", "previous file", "untouched"}));
  }
  EXPECT_EQ(file_bytes(path), before);
  EXPECT_FALSE(fs::exists(path + ".tmp"));
  EXPECT_TRUE(load_safetensors(path).has("w"));
}

TEST(FailingWrites, AReportThatDoesNotFitIsAnErrorAndThePreviousOneStays) {
  const std::string path = test::temp_path("report.json");
  write_file_atomically(path, "{\"previous\": true}\n");
  {
    FileSizeLimit limit(1000);
    EXPECT_TRUE(error_mentions([&] { write_file_atomically(path, std::string(5000, 'x')); }, {path, "writing failed"}));
  }
  EXPECT_EQ(file_bytes(path), "{\"previous\": true}\n");
  EXPECT_FALSE(fs::exists(path + ".tmp"));
}

// Writes a 64-d cache of one 2000-frame utterance to `path` under a file-size limit it does not fit in.
void write_a_cache_too_large(const std::string& path, rlim_t limit_bytes) {
  data::CacheAttributes attributes;
  attributes.extractor = "test";
  attributes.feature_dim = 64;
  attributes.dtype = DType::f32;
  FileSizeLimit limit(limit_bytes);
  data::FeatureCacheWriter writer(path, attributes);
  data::UtteranceInfo info;
  info.utt_id = "Ses01F_impro00_F000";
  info.dialogue = "Ses01F_impro00";
  info.speaker = "F";
  info.label = "ang";
  info.session = 1;
  info.end = 10;
  writer.write(info, test::random_tensor({2000, 64}, 3));
  writer.finish({info.utt_id});
}

TEST(FailingWrites, AFeatureCacheThatDoesNotFitIsAnErrorAndThePreviousCacheStays) {
  const std::string path = test::temp_path("features.h5");
  test::write_tiny_cache(path);
  const std::string before = file_bytes(path);
  EXPECT_TRUE(error_mentions([&] { write_a_cache_too_large(path, before.size() + 4096); },
                             {path + ".partial", "File too large"}));
  EXPECT_EQ(file_bytes(path), before);
  data::FeatureCacheReader reader(path);
  EXPECT_EQ(reader.attributes().feature_dim, test::kTinyFeatureDim);
  EXPECT_EQ(reader.utterances().size(), 24u);
}

// HDF5 1.10.8 crashed at exit on a file whose close had failed: the process must end as the program says. (The
// "threadsafe" style runs the statement in a freshly started copy of this program: a fork of a process whose
// OpenMP threads have run may hang.)
TEST(FailingWrites, AProcessWhoseCacheDidNotFitExitsCleanly) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  const std::string path = test::temp_path("exit.h5");
  EXPECT_EXIT(
      {
        try {
          write_a_cache_too_large(path, 8192);
        } catch (const Error&) {
          std::exit(3);  // runs the exit handlers, HDF5's among them
        }
        std::exit(4);
      },
      ::testing::ExitedWithCode(3), "");
}

TEST(FileLock, ASecondWriterIsRefusedNamingTheHolder) {
  const std::string path = test::temp_path("out.lock");
  FileLock first(path, "the output out/");
  EXPECT_TRUE(error_mentions([&] { FileLock second(path, "the output out/"); },
                             {"the output out/ is being written by process " + std::to_string(getpid()), path}));
}

TEST(FileLock, IsReleasedWithItsHolderAndRemovesItsFile) {
  const std::string path = test::temp_path("out.lock");
  { FileLock first(path, "the output"); }
  EXPECT_FALSE(fs::exists(path));
  FileLock again(path, "the output");
  EXPECT_TRUE(fs::exists(path));
}

TEST(FileLock, IsReleasedWhenItsHolderIsKilled) {
  const std::string path = test::temp_path("out.lock");
  int ready[2];
  ASSERT_EQ(pipe(ready), 0);
  const pid_t child = fork();
  ASSERT_GE(child, 0);
  if (child == 0) {  // the holder: takes the lock, says so, and waits to be killed
    FileLock held(path, "the output");
    const char byte = 1;
    if (write(ready[1], &byte, 1) != 1) _exit(1);
    for (;;) pause();
  }
  char byte = 0;
  ASSERT_EQ(read(ready[0], &byte, 1), 1);
  EXPECT_TRUE(error_mentions([&] { FileLock second(path, "the output"); },
                             {"being written by process " + std::to_string(child)}));
  kill(child, SIGKILL);
  int status = 0;
  waitpid(child, &status, 0);
  EXPECT_TRUE(WIFSIGNALED(status));
  EXPECT_TRUE(fs::exists(path));  // a crash leaves the file, but not the lock
  FileLock after(path, "the output");
  close(ready[0]);
  close(ready[1]);
}

TEST(FileLock, ASecondWriterOfOneFeatureCacheIsRefused) {
  const std::string path = test::temp_path("cache.h5");
  data::CacheAttributes attributes;
  attributes.extractor = "test";
  attributes.feature_dim = 4;
  attributes.dtype = DType::f32;
  data::FeatureCacheWriter first(path, attributes);
  EXPECT_TRUE(error_mentions([&] { data::FeatureCacheWriter second(path, attributes); },
                             {"the feature cache " + path + " is being written by process"}));
}

TEST(FileLock, ACacheInAFolderThatDoesNotExistSaysSoBeforeLocking) {
  const std::string path = test::temp_path("no_such_folder") + "/cache.h5";
  data::CacheAttributes attributes;
  attributes.extractor = "test";
  EXPECT_TRUE(error_mentions([&] { data::FeatureCacheWriter writer(path, attributes); }, {path, "does not exist"}));
}

TEST(FileLock, ASecondTrainingRunInOneRunDirectoryIsRefused) {
  train::TrainConfig config = test::tiny_config("locked_run");
  fs::create_directories(config.out);
  FileLock other(config.out + "/.lock", "the run directory " + config.out);
  EXPECT_TRUE(error_mentions([&] { train::train(config); },
                             {"the run directory " + config.out + " is being written by process"}));
  EXPECT_FALSE(fs::exists(config.out + "/config.json"));
}

}  // namespace
}  // namespace erc
