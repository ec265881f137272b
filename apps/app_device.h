// --device for the apps that run on the GPU (erc_train, erc_eval, erc_predict, erc_extract): the device, said on
// stderr.
#pragma once
#include <cstdio>
#include <string>

#include "ops/device.h"

namespace erc::apps {

inline Device choose_device(const std::string& choice, const char* app) {
  const ops::DeviceChoice chosen = ops::choose_device(choice);
  std::fprintf(stderr, "%s: running %s\n", app, chosen.description.c_str());
  return chosen.device;
}

}  // namespace erc::apps
