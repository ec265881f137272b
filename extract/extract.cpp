#include "extract/extract.h"

#include "data/audio.h"
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
  for (size_t next = 0; next < todo.size();) {
    // One batch: consecutive utterances of one dialogue within the budget of audio seconds.
    std::vector<size_t> batch;
    std::vector<Tensor> waveforms;
    double seconds = 0;
    while (next < todo.size()) {
      const data::AudioItem& item = items[todo[next]];
      if (!batch.empty() && item.info.dialogue != items[batch[0]].info.dialogue) break;
      const double s = data::audio_info(item.path).seconds;
      if (!batch.empty() && seconds + s > options.max_batch_seconds) break;
      Tensor wave = data::load_audio(item.path);
      ERC_CHECK(wave.size(0) >= front_end.min_samples(), item.path, ": ", wave.size(0), " samples at 16 kHz, fewer ",
                "than the ", front_end.min_samples(), " the front end needs for one frame");
      waveforms.push_back(front_end_input(wave, options.normalise));
      batch.push_back(todo[next++]);
      seconds += s;
    }
    const std::vector<Tensor> features = front_end.features(waveforms);
    for (size_t b = 0; b < batch.size(); ++b) {
      data::UtteranceInfo info = items[batch[b]].info;
      info.n_frames = features[b].size(0);
      writer.write(info, features[b]);
    }
    p.done += int64_t(batch.size());
    p.audio_seconds += seconds;
    p.elapsed_seconds = time.seconds();
    if (progress) progress(p);
  }
  std::vector<std::string> order;
  for (const data::AudioItem& item : items) order.push_back(item.info.utt_id);
  writer.finish(order);
}

}  // namespace erc::extract
