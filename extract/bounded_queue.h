// A queue of at most `capacity` items between two threads: extraction's reader hands decoded waveforms to the
// thread that runs the front end, which hands features to the writer (extract/extract.cpp). Bounded, so that a fast
// producer waits instead of holding the corpus in memory; closable from either side, so that neither waits forever
// for a thread that has stopped.
#pragma once
#include <condition_variable>
#include <deque>
#include <mutex>
#include <optional>

namespace erc::extract {

template <typename T>
class BoundedQueue {
 public:
  explicit BoundedQueue(size_t capacity) : capacity_(capacity) {}

  // Waits for room. false, and the item dropped, once the queue is closed.
  bool push(T item) {
    std::unique_lock<std::mutex> lock(mutex_);
    room_.wait(lock, [&] { return closed_ || items_.size() < capacity_; });
    if (closed_) return false;
    items_.push_back(std::move(item));
    ready_.notify_one();
    return true;
  }

  // Waits for an item. What was pushed before close() is still handed out; nullopt once closed and empty.
  std::optional<T> pop() {
    std::unique_lock<std::mutex> lock(mutex_);
    ready_.wait(lock, [&] { return closed_ || !items_.empty(); });
    if (items_.empty()) return std::nullopt;
    T item = std::move(items_.front());
    items_.pop_front();
    room_.notify_one();
    return item;
  }

  // The producer has finished, or the consumer has stopped: pushes fail from now on, and waiting threads wake.
  void close() {
    std::lock_guard<std::mutex> lock(mutex_);
    closed_ = true;
    room_.notify_all();
    ready_.notify_all();
  }

 private:
  const size_t capacity_;
  std::mutex mutex_;
  std::condition_variable room_, ready_;
  std::deque<T> items_;
  bool closed_ = false;
};

}  // namespace erc::extract
