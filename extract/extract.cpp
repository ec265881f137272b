#include "extract/extract.h"

#include <exception>
#include <optional>
#include <thread>

#include "data/audio.h"
#include "extract/bounded_queue.h"
#include "io/progress.h"
#include "nn/wavlm/wavlm.h"

namespace erc::extract {

data::CacheAttributes extract_attributes(const FrontEnd& front_end, const ExtractOptions& options) {
  data::CacheAttributes a = front_end.attributes();
  a.normalised = options.normalise;
  a.dtype = options.dtype;
  return a;
}

Tensor front_end_input(const Tensor& waveform, bool normalise) {
  return normalise ? nn::normalise_waveform(waveform) : waveform;
}

namespace {

// The front-end calls queued on each side of the thread that makes them: enough to keep the front end busy while
// one batch is read and one written, and no more (a batch holds at most max_batch_seconds of audio).
constexpr size_t kQueuedBatches = 2;

// One front-end call: consecutive utterances of one dialogue within the budget of audio seconds, as the reader
// thread read them; or, with `error` set, the reason it stopped.
struct Batch {
  std::vector<size_t> items;  // indices into the item list
  std::vector<Tensor> waveforms;
  double seconds = 0;
  std::exception_ptr error;
};

// A batch's features, for the writer thread.
struct Extracted {
  std::vector<size_t> items;
  std::vector<Tensor> features;
};

// The reader thread: the batches of `todo`, in order, decoded, resampled and normalised; a failure (an unreadable
// file, one too short for a frame) goes into the queue in the place of its batch, and reading stops there.
void read_batches(const FrontEnd& front_end, const std::vector<data::AudioItem>& items, const std::vector<size_t>& todo,
                  const ExtractOptions& options, BoundedQueue<Batch>& out) {
  try {
    data::AudioItemReader reader;
    for (size_t next = 0; next < todo.size();) {
      Batch batch;
      while (next < todo.size()) {
        const data::AudioItem& item = items[todo[next]];
        if (!batch.items.empty() && item.info.dialogue != items[batch.items[0]].info.dialogue) break;
        const double s = item.span ? item.info.end - item.info.start : data::audio_info(item.path).seconds;
        if (!batch.items.empty() && batch.seconds + s > options.max_batch_seconds) break;
        Tensor wave = reader.read(item);
        ERC_CHECK(wave.size(0) >= front_end.min_samples(), item.path, " (", item.info.utt_id, "): ", wave.size(0),
                  " samples at 16 kHz, fewer ", "than the ", front_end.min_samples(),
                  " the front end needs for one frame");
        batch.waveforms.push_back(front_end_input(wave, options.normalise));
        batch.items.push_back(todo[next++]);
        batch.seconds += s;
      }
      if (!out.push(std::move(batch))) return;  // the consumer has stopped
    }
  } catch (...) {
    Batch failed;
    failed.error = std::current_exception();
    out.push(std::move(failed));
  }
  out.close();
}

}  // namespace

void extract_features(const FrontEnd& front_end, const std::vector<data::AudioItem>& items, const std::string& out_path,
                      const ExtractOptions& options, const ExtractCallback& progress) {
  ERC_CHECK(options.dtype == DType::f16 || options.dtype == DType::f32, "extract: --dtype must be f16 or f32, got ",
            dtype_name(options.dtype));
  ERC_CHECK(options.max_batch_seconds > 0, "extract: the batch budget must be positive, got ",
            options.max_batch_seconds);
  const Stopwatch time;
  data::FeatureCacheWriter writer(out_path, extract_attributes(front_end, options), options.mix_devices);
  ExtractProgress p;
  p.total = int64_t(items.size());
  std::vector<size_t> todo;
  for (size_t i = 0; i < items.size(); ++i) {
    if (writer.has(items[i].info.utt_id))
      ++p.skipped;
    else
      todo.push_back(i);
  }
  p.done = p.skipped;

  // Three threads, so that decoding and the HDF5 writes overlap the front end (the GPU's work, with --device cuda):
  // the reader, this thread (the front end), the writer. Each batch keeps its place, so the cache is the one a
  // single thread writes. Whatever stops this thread (an error, the progress callback's interruption), what was
  // extracted is written before the error goes on: an interrupted run resumes after it.
  BoundedQueue<Batch> to_extract(kQueuedBatches);
  BoundedQueue<Extracted> to_write(kQueuedBatches);
  std::exception_ptr write_error;
  std::thread reader([&] { read_batches(front_end, items, todo, options, to_extract); });
  std::thread writing([&] {
    try {
      while (std::optional<Extracted> e = to_write.pop())
        for (size_t b = 0; b < e->items.size(); ++b) {
          data::UtteranceInfo info = items[e->items[b]].info;
          info.n_frames = e->features[b].size(0);
          writer.write(info, e->features[b]);
        }
    } catch (...) {
      write_error = std::current_exception();
      to_write.close();
    }
  });
  auto stop_threads = [&] {
    to_extract.close();
    to_write.close();
    reader.join();
    writing.join();
  };
  try {
    while (std::optional<Batch> batch = to_extract.pop()) {
      if (batch->error) std::rethrow_exception(batch->error);
      Extracted e{batch->items, front_end.features(batch->waveforms)};
      if (!to_write.push(std::move(e))) break;  // the writer failed: its error below
      p.done += int64_t(batch->items.size());
      p.audio_seconds += batch->seconds;
      p.elapsed_seconds = time.seconds();
      if (progress) progress(p);
    }
  } catch (...) {
    stop_threads();
    if (write_error) std::rethrow_exception(write_error);
    throw;
  }
  stop_threads();
  if (write_error) std::rethrow_exception(write_error);
  std::vector<std::string> order;
  for (const data::AudioItem& item : items) order.push_back(item.info.utt_id);
  writer.finish(order);
}

}  // namespace erc::extract
