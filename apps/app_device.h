// --device for the apps whose model runs on the GPU (erc_train, erc_eval): the device, said on stderr.
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
