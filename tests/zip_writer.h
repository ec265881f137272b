// Zip archives written by hand, as torch.save lays them out (stored entries, no ZIP64, each entry's CRC-32 as zlib
// computes it): for the torch checkpoint reader's tests, which break them on purpose, and its fuzz target, which
// wraps its inputs in them so that mutations reach the pickle rather than stopping at a checksum.
#pragma once
#include <zlib.h>

#include <cstdint>
#include <string>
#include <vector>

namespace erc::test {

// `v`'s low `bytes` bytes, little-endian.
inline std::string le(uint64_t v, int bytes) {
  std::string s;
  for (int i = 0; i < bytes; ++i) s += char((v >> (8 * i)) & 0xFF);
  return s;
}

struct ZipEntry {
  std::string name, data;
  uint16_t method = 0;  // 0 = stored; anything else is only written into the headers
};

inline std::string zip(const std::vector<ZipEntry>& entries) {
  std::string body, directory;
  for (const ZipEntry& e : entries) {
    const uint32_t crc = uint32_t(crc32(0, reinterpret_cast<const Bytef*>(e.data.data()), uInt(e.data.size())));
    const std::string sizes =
        le(crc, 4) + le(e.data.size(), 4) + le(e.data.size(), 4) + le(e.name.size(), 2) + le(0, 2);
    directory += le(0x02014b50, 4) + le(20, 2) + le(20, 2) + le(0, 2) + le(e.method, 2) + le(0, 4) + sizes + le(0, 2) +
                 le(0, 2) + le(0, 2) + le(0, 4) + le(body.size(), 4) + e.name;
    body += le(0x04034b50, 4) + le(20, 2) + le(0, 2) + le(e.method, 2) + le(0, 4) + sizes + e.name + e.data;
  }
  return body + directory + le(0x06054b50, 4) + le(0, 4) + le(entries.size(), 2) + le(entries.size(), 2) +
         le(directory.size(), 4) + le(body.size(), 4) + le(0, 2);
}

}  // namespace erc::test
