// Snapshot files and streams as diff sources.
//
// A file is read twice at most: a first pass checks it whole (damage is
// found before anything is printed) and learns whether it is canonical.
// A canonical file is then streamed; any other is indexed: one pass keeps
// the key and offset of every PUT and DELETE, a sort puts them in key order
// (file order within a key), and the last record of each key decides.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstring>
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

// One PUT or DELETE of an indexed file. The first 16 bytes of the key are
// kept inline, so sorting compares neighbours in memory and reaches for the
// key arena only to tell keys with the same first 16 bytes apart.
struct Item {
  std::array<unsigned char, 16> head{};  // zero-padded
  std::uint64_t key_at = 0;              // in the arena
  std::uint32_t key_len = 0;
  std::uint32_t record_size = 0;  // 0 for a DELETE
  std::uint64_t offset = 0;       // of the record: file order
  std::uint32_t value_size = 0;
  VersionToken version;
};

// Items in key order, the last record of each key winning; deletes dropped.
class IndexedSource final : public Source {
 public:
  IndexedSource(int fd, std::string name, std::string arena, std::vector<Item> items,
                std::optional<VersionToken> cursor, const kv::Scope& scope)
      : fd_(fd),
        name_(std::move(name)),
        arena_(std::move(arena)),
        items_(std::move(items)),
        cursor_(std::move(cursor)) {
    std::sort(items_.begin(), items_.end(), [this](const Item& x, const Item& y) {
      if (int c = std::memcmp(x.head.data(), y.head.data(), x.head.size())) return c < 0;
      if (int c = key_of(x).compare(key_of(y))) return c < 0;
      return x.offset < y.offset;
    });
    std::size_t live = 0;
    for (std::size_t i = 0; i < items_.size(); ++i) {
      const bool last = i + 1 == items_.size() || key_of(items_[i + 1]) != key_of(items_[i]);
      if (last && items_[i].record_size != 0 && scope.matches(key_of(items_[i])))
        items_[live++] = items_[i];
    }
    items_.resize(live);
    items_.shrink_to_fit();
  }
  ~IndexedSource() override { ::close(fd_); }

  Result<bool> next() override {
    if (started_) ++pos_;
    started_ = true;
    have_value_ = false;
    return pos_ < items_.size();
  }

  std::string_view key() const override { return key_of(items_[pos_]); }
  const VersionToken& version() const override { return items_[pos_].version; }
  std::uint64_t value_size() const override { return items_[pos_].value_size; }

  Result<std::string_view> value() override {
    if (!have_value_) {
      const Item& item = items_[pos_];
      // A PUT ends with value ++ ver_len:u8 ++ version.
      const std::uint64_t at =
          item.offset + item.record_size - 1 - item.version.size() - item.value_size;
      value_.resize(item.value_size);
      SLIP_RETURN_IF_ERROR(fs::pread_all(fd_, value_.data(), value_.size(), at, name_));
      have_value_ = true;
    }
    return std::string_view(value_);
  }

  std::optional<VersionToken> cursor() const override { return cursor_; }

 private:
  std::string_view key_of(const Item& item) const {
    return std::string_view(arena_).substr(item.key_at, item.key_len);
  }

  int fd_;
  std::string name_;
  std::string arena_;
  std::vector<Item> items_;
  std::optional<VersionToken> cursor_;
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
  std::string arena;
  std::vector<Item> items;
  std::optional<VersionToken> cursor;
  snapshot::Record rec;
  while ((*reader)->next(&rec)) {
    if (rec.type == snapshot::RecordType::kCursor) {
      cursor = rec.version;
      continue;
    }
    Item item;
    std::memcpy(item.head.data(), rec.key.data(), std::min(rec.key.size(), item.head.size()));
    item.key_at = arena.size();
    item.key_len = static_cast<std::uint32_t>(rec.key.size());
    item.offset = rec.offset;
    item.version = rec.version;
    if (rec.type == snapshot::RecordType::kPut) {
      item.record_size = rec.size;
      item.value_size = static_cast<std::uint32_t>(rec.value.size());
    }
    arena.append(rec.key);
    items.push_back(item);
  }
  SLIP_RETURN_IF_ERROR((*reader)->io_status());
  if ((*reader)->problem().damage != snapshot::Damage::kNone)
    return damage(name, (*reader)->problem());
  int own = ::fcntl(fd, F_DUPFD_CLOEXEC, 0);
  if (own < 0) return Status::from_errno(errno, "dup " + name);
  return std::unique_ptr<Source>(std::make_unique<IndexedSource>(
      own, name, std::move(arena), std::move(items), std::move(cursor), scope));
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
        std::make_unique<IndexedSource>(own, path, "", std::vector<Item>{}, std::nullopt, scope));
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
