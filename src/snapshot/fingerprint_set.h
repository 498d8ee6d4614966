// A set of 64-bit key fingerprints in one flat, open-addressed table:
// 8 bytes a slot, at most 70% full. Used where slip must count distinct
// keys in bounded memory without holding the keys.
#pragma once

#include <cstdint>
#include <functional>
#include <string_view>
#include <vector>

namespace slip::snapshot {

class FingerprintSet {
 public:
  static std::uint64_t fingerprint(std::string_view key) {
    std::uint64_t h = std::hash<std::string_view>{}(key);
    return h < kFirstValue ? h + kFirstValue : h;  // 0 and 1 mark empty and removed slots
  }

  // Returns true when FP was not present.
  bool insert(std::uint64_t fp) {
    if ((used_ + 1) * 10 > slots_.size() * 7) rehash(slots_.empty() ? 1024 : slots_.size() * 2);
    std::size_t mask = slots_.size() - 1;
    std::size_t free_slot = SIZE_MAX;
    for (std::size_t i = fp & mask;; i = (i + 1) & mask) {
      std::uint64_t s = slots_[i];
      if (s == fp) return false;
      if (s == kRemoved && free_slot == SIZE_MAX) free_slot = i;
      if (s == kEmpty) {
        if (free_slot == SIZE_MAX) {
          free_slot = i;
          ++used_;
        }
        slots_[free_slot] = fp;
        ++size_;
        return true;
      }
    }
  }

  // Returns true when FP was present.
  bool erase(std::uint64_t fp) {
    if (slots_.empty()) return false;
    std::size_t mask = slots_.size() - 1;
    for (std::size_t i = fp & mask;; i = (i + 1) & mask) {
      std::uint64_t s = slots_[i];
      if (s == kEmpty) return false;
      if (s == fp) {
        slots_[i] = kRemoved;
        --size_;
        return true;
      }
    }
  }

  std::uint64_t size() const { return size_; }

 private:
  static constexpr std::uint64_t kEmpty = 0;
  static constexpr std::uint64_t kRemoved = 1;
  static constexpr std::uint64_t kFirstValue = 2;

  void rehash(std::size_t capacity) {
    std::vector<std::uint64_t> old;
    old.swap(slots_);
    // Grow only when live entries need it; otherwise the rehash just clears tombstones.
    while (size_ * 10 > capacity * 5) capacity *= 2;
    slots_.assign(capacity, kEmpty);
    used_ = size_ = 0;
    for (std::uint64_t s : old) {
      if (s >= kFirstValue) insert(s);
    }
  }

  std::vector<std::uint64_t> slots_;
  std::uint64_t size_ = 0;  // live fingerprints
  std::uint64_t used_ = 0;  // live plus removed slots
};

}  // namespace slip::snapshot
