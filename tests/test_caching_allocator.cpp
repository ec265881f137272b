// The caching allocator's policy on a fake device (a counting malloc with a capacity): steady state makes no raw
// allocation, sizes round as documented, a too-big cached block is not wasted, a full device gets the cache back
// before failing, and misuse is refused.
#include "tensor/caching_allocator.h"

#include <cstdlib>
#include <set>

#include "test_util.h"

using namespace erc;
using erc::test::error_of;
using erc::test::mentions;

namespace {

struct FakeDevice {
  size_t capacity, used = 0;
  std::map<void*, size_t> live;
  CachingAllocator allocator;
  explicit FakeDevice(size_t capacity_bytes)
      : capacity(capacity_bytes),
        allocator(
            "fake device",
            [this](size_t bytes) -> void* {
              if (used + bytes > capacity) return nullptr;
              void* p = std::malloc(bytes);
              live[p] = bytes;
              used += bytes;
              return p;
            },
            [this](void* p) {
              used -= live.at(p);
              live.erase(p);
              std::free(p);
            }) {}
};

constexpr size_t MiB = size_t(1) << 20;

TEST(CachingAllocator, RoundsSizes) {
  EXPECT_EQ(CachingAllocator::round_size(1), 512u);
  EXPECT_EQ(CachingAllocator::round_size(512), 512u);
  EXPECT_EQ(CachingAllocator::round_size(513), 1024u);
  EXPECT_EQ(CachingAllocator::round_size(MiB - 1), MiB);
  EXPECT_EQ(CachingAllocator::round_size(MiB + 1), 2 * MiB);
}

// A training step's pattern of allocations, ten times: only the first step reaches the device.
TEST(CachingAllocator, SteadyStateMakesNoRawAllocation) {
  FakeDevice device(1024 * MiB);
  const size_t sizes[] = {100, 4096, 3 * MiB, 3 * MiB, 17, 60 * MiB, 4096, 1000};
  size_t after_first = 0;
  for (int step = 0; step < 10; ++step) {
    std::vector<void*> held;
    for (size_t s : sizes) held.push_back(device.allocator.allocate(s));
    std::set<void*> distinct(held.begin(), held.end());
    EXPECT_EQ(distinct.size(), held.size()) << "a block was handed out twice";
    for (void* p : held) device.allocator.free(p);
    if (step == 0) after_first = device.allocator.stats().raw_allocations;
  }
  const AllocatorStats stats = device.allocator.stats();
  EXPECT_EQ(stats.raw_allocations, after_first);
  EXPECT_EQ(stats.reuses, 9 * std::size(sizes));
  EXPECT_EQ(stats.in_use_bytes, 0u);
  EXPECT_GT(stats.cached_bytes, 0u);
  device.allocator.empty_cache();
  EXPECT_EQ(device.used, 0u);
  EXPECT_EQ(device.allocator.stats().raw_frees, after_first);
}

TEST(CachingAllocator, ResetPeakStartsFromWhatIsInUse) {
  FakeDevice device(64 * MiB);
  void* big = device.allocator.allocate(8 * MiB);
  void* small = device.allocator.allocate(MiB);
  device.allocator.free(big);
  EXPECT_EQ(device.allocator.stats().peak_in_use_bytes, 9 * MiB);
  device.allocator.reset_peak();
  EXPECT_EQ(device.allocator.stats().peak_in_use_bytes, MiB);
  void* more = device.allocator.allocate(2 * MiB);
  EXPECT_EQ(device.allocator.stats().peak_in_use_bytes, 3 * MiB);
  device.allocator.free(more);
  device.allocator.free(small);
}

TEST(CachingAllocator, DoesNotHandOutMuchTooBigBlocks) {
  FakeDevice device(1024 * MiB);
  device.allocator.free(device.allocator.allocate(4 * MiB));
  void* small = device.allocator.allocate(1 * MiB);  // the cached 4 MiB would waste 3/4 of itself
  EXPECT_EQ(device.allocator.stats().raw_allocations, 2u);
  void* close = device.allocator.allocate(3 * MiB + 1);  // 4 MiB for a 4 MiB rounded request: reused
  EXPECT_EQ(device.allocator.stats().reuses, 1u);
  device.allocator.free(small);
  device.allocator.free(close);
}

TEST(CachingAllocator, FullDeviceGetsTheCacheBackFirst) {
  FakeDevice device(10 * MiB);
  void* a = device.allocator.allocate(8 * MiB);
  device.allocator.free(a);            // 8 MiB cached, 2 MiB left on the device
  void* b = device.allocator.allocate(5 * MiB);  // too small to reuse a (waste), too big for what is left
  EXPECT_EQ(device.allocator.stats().raw_frees, 1u);
  EXPECT_EQ(device.allocator.stats().cached_bytes, 0u);
  const std::string message = error_of([&] { device.allocator.allocate(6 * MiB); });
  EXPECT_TRUE(mentions(message, "fake device: out of memory allocating 6.0 MiB"));
  EXPECT_TRUE(mentions(message, "in use 5.0 MiB"));
  device.allocator.free(b);
}

TEST(CachingAllocator, RefusesForeignPointers) {
  FakeDevice device(64 * MiB);
  int local = 0;
  EXPECT_TRUE(mentions(error_of([&] { device.allocator.free(&local); }), "did not hand out"));
  void* p = device.allocator.allocate(1000);
  device.allocator.free(p);
  EXPECT_TRUE(mentions(error_of([&] { device.allocator.free(p); }), "freed twice"));
  device.allocator.free(nullptr);
  EXPECT_EQ(device.allocator.allocate(0), nullptr);
}

TEST(CachingAllocator, ReturnsTheCacheWhenDestroyed) {
  size_t live = 0;
  {
    CachingAllocator allocator(
        "counting", [&](size_t bytes) { return ++live, std::malloc(bytes); }, [&](void* p) { --live, std::free(p); });
    allocator.free(allocator.allocate(1000));
    allocator.free(allocator.allocate(5 * MiB));
    EXPECT_EQ(live, 2u);
  }
  EXPECT_EQ(live, 0u);
}

}  // namespace
