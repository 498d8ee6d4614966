#include "fs/temp_path.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <csignal>

#include <atomic>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <utility>

namespace slip::fs {

namespace {

// A fixed table, so that the signal handler reads it without allocating or
// locking. More temporary paths than slots at once only lose the
// second-signal clean-up for the extra ones.
constexpr int kSlots = 32;
constexpr std::size_t kMaxPath = 4096;

enum SlotState : int { kFree = 0, kFilling = 1, kLive = 2 };

// PATH is written only between two increments of SEQ (odd while it is
// being written): the handler copies it and uses the copy only if SEQ was
// even and unchanged around the copy, so a slot freed and filled again by
// another thread meanwhile is never read half old, half new.
struct Slot {
  std::atomic<int> state{kFree};
  std::atomic<unsigned> seq{0};
  char path[kMaxPath];
};

Slot g_slots[kSlots];

int register_path(const std::string& path) {
  if (path.empty() || path.size() >= kMaxPath) return -1;
  for (int i = 0; i < kSlots; ++i) {
    int expected = kFree;
    if (!g_slots[i].state.compare_exchange_strong(expected, kFilling)) continue;
    g_slots[i].seq.fetch_add(1);  // odd: being written
    std::memcpy(g_slots[i].path, path.c_str(), path.size() + 1);
    g_slots[i].seq.fetch_add(1);  // even again
    g_slots[i].state.store(kLive, std::memory_order_release);
    return i;
  }
  return -1;
}

void unregister(int slot) {
  if (slot >= 0) g_slots[slot].state.store(kFree, std::memory_order_release);
}

// getdents64's record; glibc's readdir() may allocate, the system call does not.
struct LinuxDirent64 {
  ino64_t d_ino;
  off64_t d_off;
  unsigned short d_reclen;
  unsigned char d_type;
  char d_name[];
};

// Async-signal-safe: open, getdents64, unlinkat, close, rmdir.
void remove_flat_directory(const char* path) {
  const int fd = ::open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return;
  alignas(8) char buf[4096];
  for (;;) {
    const long n = ::syscall(SYS_getdents64, fd, buf, sizeof(buf));
    if (n <= 0) break;
    for (long off = 0; off < n;) {
      const auto* d = reinterpret_cast<const LinuxDirent64*>(buf + off);
      off += d->d_reclen;
      const char* name = d->d_name;
      if (std::strcmp(name, ".") == 0 || std::strcmp(name, "..") == 0) continue;
      ::unlinkat(fd, name, 0);
    }
  }
  ::close(fd);
  ::rmdir(path);
}

}  // namespace

TempPath::TempPath(std::string path) : path_(std::move(path)), slot_(register_path(path_)) {}

TempPath::~TempPath() {
  if (path_.empty()) return;
  std::error_code ec;
  std::filesystem::remove_all(path_, ec);
  // After the removal: a signal in between finds nothing left to remove.
  unregister(slot_);
}

TempPath::TempPath(TempPath&& other) noexcept
    : path_(std::exchange(other.path_, std::string())), slot_(std::exchange(other.slot_, -1)) {}

TempPath& TempPath::operator=(TempPath&& other) noexcept {
  if (this != &other) {
    TempPath old(std::move(*this));  // removes what this held
    path_ = std::exchange(other.path_, std::string());
    slot_ = std::exchange(other.slot_, -1);
  }
  return *this;
}

void TempPath::release() {
  unregister(slot_);
  slot_ = -1;
  path_.clear();
}

void remove_temp_paths_now() {
  static char path[kMaxPath];  // only one handler runs to _exit
  for (Slot& slot : g_slots) {
    const unsigned before = slot.seq.load(std::memory_order_acquire);
    if ((before & 1) != 0 || slot.state.load(std::memory_order_acquire) != kLive) continue;
    std::memcpy(path, slot.path, kMaxPath);
    std::atomic_thread_fence(std::memory_order_acquire);
    if (slot.seq.load(std::memory_order_relaxed) != before) continue;  // refilled meanwhile
    path[kMaxPath - 1] = '\0';
    if (::unlink(path) != 0 && (errno == EISDIR || errno == EPERM)) remove_flat_directory(path);
  }
}

namespace {
std::atomic<int> g_defer_depth{0};
std::atomic<int> g_deferred_signal{0};
}  // namespace

DeferSignalExit::DeferSignalExit() { g_defer_depth.fetch_add(1); }

DeferSignalExit::~DeferSignalExit() {
  if (g_defer_depth.fetch_sub(1) != 1) return;
  const int sig = g_deferred_signal.exchange(0);
  if (sig != 0) ::raise(sig);
}

bool defer_signal_exit(int sig) {
  if (g_defer_depth.load() == 0) return false;
  g_deferred_signal.store(sig);
  return true;
}

}  // namespace slip::fs
