#include "extract/front_end.h"

#include "autograd/grad_mode.h"
#include "extract/fbank.h"
#include "nn/wavlm/weights.h"
#include "ops/device.h"

namespace erc::extract {

namespace {

// "cpu f32", "cuda tf32": CacheAttributes::computed_on.
std::string computed_on(Device device, const std::string& precision) {
  return std::string(device_name(device)) + " " + precision;
}

class WavLMFrontEnd final : public FrontEnd {
 public:
  // Moves the model to `device` once; the GEMMs of the whole process then run in `precision` there.
  WavLMFrontEnd(std::unique_ptr<nn::WavLM> model, std::string summary, Device device, const std::string& precision)
      : model_(std::move(model)),
        summary_(std::move(summary)),
        description_(nn::describe_wavlm(*model_)),
        device_(device),
        computed_on_(computed_on(device, precision)) {
    if (device_ == Device::cuda) {
      if (precision == "bf16") model_->store_gemm_weights(DType::bf16);  // before the move: half the bytes to copy
      model_->to(device_);
      ops::use_tf32_gemms(precision == "tf32");
      summary_ += "; on the CUDA device, GEMMs in " + precision + (precision == "bf16" ? " with f32 sums" : "");
    }
  }

  std::vector<Tensor> features(const std::vector<Tensor>& waveforms) const override {
    NoGradGuard no_grad;
    if (device_ == Device::cpu) return model_->forward(waveforms);
    std::vector<Tensor> on_device;
    for (const Tensor& w : waveforms) on_device.push_back(w.to(device_));
    std::vector<Tensor> out = model_->forward(on_device);
    for (Tensor& t : out) t = t.to(Device::cpu);
    return out;
  }
  int64_t min_samples() const override { return model_->config.min_samples(); }
  data::CacheAttributes attributes() const override {
    data::CacheAttributes a;
    a.extractor = description_;
    a.layer = model_->layer;
    a.sample_rate = 16000;
    // The product of the conv strides divides the sample rate (320 for WavLM: 50 frames/s).
    int64_t hop = 1;
    for (int64_t s : model_->config.conv_stride) hop *= s;
    a.frame_rate = double(a.sample_rate) / double(hop);
    a.feature_dim = model_->config.hidden_size;
    a.computed_on = computed_on_;
    return a;
  }
  std::string summary() const override { return summary_; }

 private:
  std::unique_ptr<nn::WavLM> model_;
  std::string summary_, description_;
  Device device_;
  std::string computed_on_;
};

class FbankFrontEnd final : public FrontEnd {
 public:
  std::vector<Tensor> features(const std::vector<Tensor>& waveforms) const override {
    std::vector<Tensor> out;
    for (const Tensor& w : waveforms) out.push_back(log_mel_fbank(w, config_));
    return out;
  }
  int64_t min_samples() const override { return config_.frame_length; }
  data::CacheAttributes attributes() const override {
    data::CacheAttributes a;
    a.extractor = "fbank: " + std::to_string(config_.n_mels) + " log-mel bands (Kaldi's), " +
                  std::to_string(config_.frame_length) + "-sample window, " + std::to_string(config_.frame_shift) +
                  "-sample hop";
    a.layer = 0;
    a.sample_rate = config_.sample_rate;
    a.frame_rate = double(config_.sample_rate) / double(config_.frame_shift);
    a.feature_dim = config_.n_mels;
    return a;
  }
  std::string summary() const override {
    return "fbank: " + std::to_string(config_.n_mels) + " log-mel bands at " +
           std::to_string(config_.sample_rate / config_.frame_shift) +
           " frames/s (no WavLM: the baseline input of speech-emotion toolkits)";
  }

 private:
  FbankConfig config_;
};

std::unique_ptr<FrontEnd> make_wavlm(const FrontEndOptions& o) {
  ERC_CHECK(!o.wavlm.empty(), "the wavlm front end needs --wavlm PATH (WavLM weights, or random:CONFIG.json)");
  ERC_CHECK(o.precision == "f32" || o.precision == "tf32" || o.precision == "bf16",
            "--precision must be f32, tf32 or bf16, got '", o.precision, "'");
  ERC_CHECK(o.precision == "f32" || o.device == Device::cuda, "--precision ", o.precision,
            " is for the CUDA device's tensor cores; on the CPU WavLM runs in f32");
  if (o.wavlm.rfind("random:", 0) == 0) {
    const std::string config_path = o.wavlm.substr(7);
    const nn::WavLMConfig config = nn::load_wavlm_config(config_path);
    Generator init(o.seed);
    auto model = std::make_unique<nn::WavLM>(config, o.layer, init);
    model->eval();
    return std::make_unique<WavLMFrontEnd>(
        std::move(model),
        "WavLM: RANDOMLY INITIALISED (seed " + std::to_string(o.seed) + ", config " + config_path +
            "), not pre-trained: a stand-in that shows the pipeline, not WavLM-Large's features",
        o.device, o.precision);
  }
  auto model = nn::load_wavlm(o.wavlm, o.layer);
  const std::string summary = "WavLM: " + nn::locate_wavlm(o.wavlm).weights + " (" +
                              std::to_string(model->parameter_count()) + " parameters up to layer " +
                              std::to_string(o.layer) + ")";
  return std::make_unique<WavLMFrontEnd>(std::move(model), summary, o.device, o.precision);
}

}  // namespace

std::unique_ptr<FrontEnd> make_front_end(const FrontEndOptions& options) {
  if (options.frontend == "wavlm") return make_wavlm(options);
  ERC_CHECK(options.frontend == "fbank", "--frontend must be wavlm or fbank, got '", options.frontend, "'");
  ERC_CHECK(options.wavlm.empty(), "--wavlm is for the wavlm front end; --frontend fbank has no weights");
  return std::make_unique<FbankFrontEnd>();
}

}  // namespace erc::extract
