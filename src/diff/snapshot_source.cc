// Snapshot files and streams as diff sources.
//
// A file is read twice at most: a first pass checks it whole (damage is
// found before anything is printed) and learns whether it is canonical.
// A canonical file is then streamed; any other is indexed (one pass that
// keeps each live key with the offset of its PUT) and its keys sorted.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <unordered_map>
#include <vector>

#include "fs/io.h"
#include "slip/diff.h"
#include "slip/snapshot_reader.h"

namespace slip::diff {

namespace {

Status damage(const std::string& name, const snapshot::Problem& p) {
  std::string msg = name + ": " + snapshot::damage_name(p.damage) + " at offset " +
                    std::to_string(p.offset) + ": " + p.reason;
  if (p.damage == snapshot::Damage::kTornTail)
    msg += " (a writer died mid-append; 'slip snapshot verify --repair' truncates the tail)";
  return Status::corruption(msg);
}

class StreamSource final : public Source {
 public:
  // NOT_CANONICAL builds the Status for a file found not in canonical form.
  StreamSource(std::unique_ptr<snapshot::Reader> reader, kv::Scope scope,
               Status (*not_canonical)(std::string))
      : reader_(std::move(reader)), scope_(std::move(scope)), not_canonical_(not_canonical) {}

  Result<bool> next() override {
    while (reader_->next(&rec_)) {
      const std::string& name = reader_->name();
      if (cursor_) {
        return not_canonical_(name + ": a record after the cursor at offset " +
                              std::to_string(rec_.offset) + " (canonical form expected)");
      }
      switch (rec_.type) {
        case snapshot::RecordType::kCursor: cursor_ = rec_.version; continue;
        case snapshot::RecordType::kDelete:
          return not_canonical_(name + ": a DELETE record at offset " +
                                std::to_string(rec_.offset) + " (canonical form expected)");
        case snapshot::RecordType::kPut: break;
      }
      if (have_key_ && rec_.key <= std::string_view(last_key_)) {
        return not_canonical_(name + ": key out of order at offset " + std::to_string(rec_.offset) +
                              " (canonical form expected)");
      }
      last_key_.assign(rec_.key);
      have_key_ = true;
      if (scope_.matches(rec_.key)) return true;
    }
    SLIP_RETURN_IF_ERROR(reader_->io_status());
    if (reader_->problem().damage != snapshot::Damage::kNone)
      return damage(reader_->name(), reader_->problem());
    return false;
  }

  std::string_view key() const override { return rec_.key; }
  const VersionToken& version() const override { return rec_.version; }
  std::uint64_t value_size() const override { return rec_.value.size(); }
  Result<std::string_view> value() override { return rec_.value; }
  std::optional<VersionToken> cursor() const override { return cursor_; }

 private:
  std::unique_ptr<snapshot::Reader> reader_;
  kv::Scope scope_;
  Status (*not_canonical_)(std::string);
  snapshot::Record rec_;
  std::string last_key_;
  bool have_key_ = false;
  std::optional<VersionToken> cursor_;
};

// Where a live value is in the file.
struct Slot {
  std::uint64_t offset = 0;  // of the PUT record
  std::uint32_t record_size = 0;
  std::uint32_t value_size = 0;
  VersionToken version;
};

class IndexedSource final : public Source {
 public:
  using Map = std::unordered_map<std::string, Slot>;

  IndexedSource(int fd, std::string name, Map live, std::optional<VersionToken> cursor,
                const kv::Scope& scope)
      : fd_(fd), name_(std::move(name)), live_(std::move(live)), cursor_(std::move(cursor)) {
    order_.reserve(live_.size());
    for (const Map::value_type& entry : live_) {
      if (scope.matches(entry.first)) order_.push_back(&entry);
    }
    std::sort(order_.begin(), order_.end(), [](const Map::value_type* x, const Map::value_type* y) {
      return x->first < y->first;
    });
  }
  ~IndexedSource() override { ::close(fd_); }

  Result<bool> next() override {
    if (started_) ++pos_;
    started_ = true;
    have_value_ = false;
    return pos_ < order_.size();
  }

  std::string_view key() const override { return order_[pos_]->first; }
  const VersionToken& version() const override { return order_[pos_]->second.version; }
  std::uint64_t value_size() const override { return order_[pos_]->second.value_size; }

  Result<std::string_view> value() override {
    if (!have_value_) {
      const Slot& slot = order_[pos_]->second;
      // A PUT ends with value ++ ver_len:u8 ++ version.
      const std::uint64_t at =
          slot.offset + slot.record_size - 1 - slot.version.size() - slot.value_size;
      value_.resize(slot.value_size);
      SLIP_RETURN_IF_ERROR(fs::pread_all(fd_, value_.data(), value_.size(), at, name_));
      have_value_ = true;
    }
    return std::string_view(value_);
  }

  std::optional<VersionToken> cursor() const override { return cursor_; }

 private:
  int fd_;
  std::string name_;
  Map live_;
  std::optional<VersionToken> cursor_;
  std::vector<const Map::value_type*> order_;
  std::size_t pos_ = 0;
  bool started_ = false;
  std::string value_;
  bool have_value_ = false;
};

// Reads FD from its start through a reader that owns a duplicate of it.
Result<std::unique_ptr<snapshot::Reader>> reader_at_start(int fd, const std::string& name) {
  if (::lseek(fd, 0, SEEK_SET) != 0) return Status::from_errno(errno, "seek " + name);
  int dup = ::fcntl(fd, F_DUPFD_CLOEXEC, 0);
  if (dup < 0) return Status::from_errno(errno, "dup " + name);
  return snapshot::Reader::from_fd(dup, name);
}

// The first pass: true when the file is canonical up to a clean end, false
// at the first record that shows it is not. Damage is an error.
Result<bool> is_canonical(int fd, const std::string& name) {
  auto reader = reader_at_start(fd, name);
  if (!reader) return reader.status();
  snapshot::Record rec;
  std::string last_key;
  bool have_key = false;
  bool after_cursor = false;
  while ((*reader)->next(&rec)) {
    if (after_cursor || rec.type == snapshot::RecordType::kDelete) return false;
    if (rec.type == snapshot::RecordType::kCursor) {
      after_cursor = true;
      continue;
    }
    if (have_key && rec.key <= std::string_view(last_key)) return false;
    last_key.assign(rec.key);
    have_key = true;
  }
  SLIP_RETURN_IF_ERROR((*reader)->io_status());
  if ((*reader)->problem().damage != snapshot::Damage::kNone)
    return damage(name, (*reader)->problem());
  return true;
}

Result<std::unique_ptr<Source>> index_file(int fd, const std::string& name,
                                           const kv::Scope& scope) {
  auto reader = reader_at_start(fd, name);
  if (!reader) return reader.status();
  IndexedSource::Map live;
  std::optional<VersionToken> cursor;
  snapshot::Record rec;
  while ((*reader)->next(&rec)) {
    switch (rec.type) {
      case snapshot::RecordType::kPut: {
        Slot slot{rec.offset, rec.size, static_cast<std::uint32_t>(rec.value.size()), rec.version};
        auto [it, inserted] = live.try_emplace(std::string(rec.key), slot);
        if (!inserted) it->second = slot;
        break;
      }
      case snapshot::RecordType::kDelete: live.erase(std::string(rec.key)); break;
      case snapshot::RecordType::kCursor: cursor = rec.version; break;
    }
  }
  SLIP_RETURN_IF_ERROR((*reader)->io_status());
  if ((*reader)->problem().damage != snapshot::Damage::kNone)
    return damage(name, (*reader)->problem());
  int own = ::fcntl(fd, F_DUPFD_CLOEXEC, 0);
  if (own < 0) return Status::from_errno(errno, "dup " + name);
  return std::unique_ptr<Source>(
      std::make_unique<IndexedSource>(own, name, std::move(live), std::move(cursor), scope));
}

}  // namespace

std::unique_ptr<Source> canonical_snapshot_stream(std::unique_ptr<snapshot::Reader> reader,
                                                  const kv::Scope& scope) {
  return std::make_unique<StreamSource>(std::move(reader), scope, &Status::corruption);
}

Result<std::unique_ptr<Source>> stream_snapshot_file(const std::string& path,
                                                     const kv::Scope& scope) {
  auto reader = snapshot::Reader::open(path);
  if (!reader) return reader.status();
  if ((*reader)->bytes_consumed() == 0 &&
      (*reader)->problem().damage == snapshot::Damage::kInvalid) {
    struct stat st;
    if (::stat(path.c_str(), &st) == 0 && st.st_size == 0)
      return Status::not_supported(path + " is empty: an empty fold, not a stream");
  }
  return std::unique_ptr<Source>(
      std::make_unique<StreamSource>(std::move(*reader), scope, &Status::not_supported));
}

Result<std::unique_ptr<Source>> open_snapshot_file(const std::string& path,
                                                   const kv::Scope& scope) {
  // One descriptor for every pass, so a file replaced meanwhile (a mirror
  // compacting its fold renames a new file over it) is read consistently.
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return Status::from_errno(errno, "open " + path);
  struct Closer {
    int fd;
    ~Closer() { ::close(fd); }
  } closer{fd};
  struct stat st;
  if (::fstat(fd, &st) != 0) return Status::from_errno(errno, "stat " + path);
  if (S_ISDIR(st.st_mode))
    return Status::invalid_argument(path + " is a directory, not a snapshot file");
  if (st.st_size == 0) {
    // What a log fold is before its first commit: an empty side, as the
    // fold store reads it, not a damaged file.
    int own = ::fcntl(fd, F_DUPFD_CLOEXEC, 0);
    if (own < 0) return Status::from_errno(errno, "dup " + path);
    return std::unique_ptr<Source>(
        std::make_unique<IndexedSource>(own, path, IndexedSource::Map{}, std::nullopt, scope));
  }
  ::posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL);
  auto canonical = is_canonical(fd, path);
  if (!canonical) return canonical.status();
  if (!*canonical) return index_file(fd, path, scope);
  auto reader = reader_at_start(fd, path);
  if (!reader) return reader.status();
  return canonical_snapshot_stream(std::move(*reader), scope);
}

}  // namespace slip::diff
