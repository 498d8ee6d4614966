// The append-log fold: a PGSS v2 snapshot file plus its state in memory.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <map>
#include <memory>
#include <set>

#include "fold/lock.h"
#include "fold/origin.h"
#include "fs/io.h"
#include "slip/atomic_file.h"
#include "slip/fold.h"
#include "slip/snapshot.h"
#include "slip/snapshot_writer.h"

namespace slip::fold {

namespace {

// One live key of the in-memory state: key and value bytes in a single
// allocation. A std::map<std::string, Value> node costs about 272 bytes of
// heap per 16-byte key and 100-byte value (node, key string, value string);
// this costs about 208, which is what keeps the log backend's RSS within
// 2.5x of the live data (bench/README.md).
class PackedEntry {
 public:
  PackedEntry(std::string_view key, std::string_view value, const VersionToken& version)
      : key_size_(static_cast<std::uint32_t>(key.size())) {
    assign(value, version, key);
  }

  std::string_view key() const { return {bytes_.get(), key_size_}; }
  std::string_view value() const { return {bytes_.get() + key_size_, value_size_}; }
  const VersionToken& version() const { return version_; }

  // The set orders by key only, so the value may change in place.
  void set(std::string_view value, const VersionToken& version) const {
    const_cast<PackedEntry*>(this)->assign(value, version, key());
  }

 private:
  void assign(std::string_view value, const VersionToken& version, std::string_view key) {
    std::unique_ptr<char[]> bytes(new char[key.size() + value.size()]);
    std::memcpy(bytes.get(), key.data(), key.size());
    if (!value.empty()) std::memcpy(bytes.get() + key.size(), value.data(), value.size());
    bytes_ = std::move(bytes);
    value_size_ = static_cast<std::uint32_t>(value.size());
    version_ = version;
  }

  std::unique_ptr<char[]> bytes_;
  std::uint32_t key_size_;
  std::uint32_t value_size_ = 0;
  VersionToken version_;
};

// Orders entries by key; looks them up by string_view without a copy.
struct ByKey {
  using is_transparent = void;
  bool operator()(const PackedEntry& a, const PackedEntry& b) const { return a.key() < b.key(); }
  bool operator()(const PackedEntry& a, std::string_view b) const { return a.key() < b; }
  bool operator()(std::string_view a, const PackedEntry& b) const { return a < b.key(); }
};

using EntrySet = std::set<PackedEntry, ByKey>;

class SetIterator final : public Iterator {
 public:
  SetIterator(const EntrySet& entries, std::string_view prefix)
      : entries_(entries), prefix_(prefix) {}

  bool next() override {
    if (!started_) {
      it_ = entries_.lower_bound(std::string_view(prefix_));
      started_ = true;
    } else if (it_ != entries_.end()) {
      ++it_;
    }
    return it_ != entries_.end() && it_->key().substr(0, prefix_.size()) == prefix_;
  }
  std::string_view key() const override { return it_->key(); }
  std::string_view value() const override { return it_->value(); }
  const VersionToken& version() const override { return it_->version(); }
  Status status() const override { return Status::ok(); }

 private:
  const EntrySet& entries_;
  std::string prefix_;
  EntrySet::const_iterator it_;
  bool started_ = false;
};

class LogStore final : public Store {
 public:
  LogStore(std::string path, Options options, std::unique_ptr<FileLock> lock)
      : path_(std::move(path)), options_(options), lock_(std::move(lock)) {}
  ~LogStore() override {
    if (fd_ >= 0) ::close(fd_);
  }

  Status open() {
    struct stat st;
    if (::stat(path_.c_str(), &st) == 0 && st.st_size > 0) {
      auto state = snapshot::replay(path_);
      if (!state) return state.status();
      const snapshot::Problem& p = state->problem;
      if (p.damage == snapshot::Damage::kInvalid || p.damage == snapshot::Damage::kCorrupted) {
        return Status::corruption(
            path_ + ": " + snapshot::damage_name(p.damage) + " at offset " +
            std::to_string(p.offset) + ": " + p.reason +
            "; inspect it with 'slip snapshot verify', or move it away to rebuild the fold");
      }
      if (p.damage == snapshot::Damage::kTornTail) {
        // The writer died mid-append: drop the partial record so the next
        // append does not land behind garbage.
        SLIP_RETURN_IF_ERROR(snapshot::truncate_torn_tail(path_, p.offset, ""));
      }
      // Node by node, so the replayed map shrinks as this one grows: the
      // peak is one copy of the state, not two.
      while (!state->entries.empty()) {
        auto node = state->entries.extract(state->entries.begin());
        live_bytes_ += live_size(node.key(), node.mapped().value);
        entries_.emplace_hint(entries_.end(), node.key(), node.mapped().value,
                              node.mapped().version);
      }
      cursor_ = state->cursor;
    }
    return reopen_for_append();
  }

  std::optional<VersionToken> cursor() const override { return cursor_; }

  Result<std::optional<Origin>> origin() override {
    // A sidecar left beside a fold file that was since removed describes
    // nothing: a new fold records its own.
    if (size_on_disk_ == 0 && !cursor_) return std::optional<Origin>();
    return read_origin_sidecar(path_);
  }

  Status set_origin(const Origin& origin) override { return write_origin_sidecar(path_, origin); }

  Status commit(const std::vector<Mutation>& mutations, const VersionToken& cursor) override {
    std::string buf;
    if (size_on_disk_ == 0) snapshot::encode_header(&buf);
    for (const Mutation& m : mutations) {
      SLIP_RETURN_IF_ERROR(snapshot::validate_key(m.key));
      if (m.is_delete) {
        snapshot::encode_delete(&buf, m.key, m.version);
      } else {
        snapshot::encode_put(&buf, m.key, m.value, m.version);
      }
    }
    snapshot::encode_cursor(&buf, cursor);
    Status s = fs::write_all(fd_, buf.data(), buf.size(), path_);
    if (s && options_.sync && ::fdatasync(fd_) != 0)
      s = Status::from_errno(errno, "fsync " + path_);
    if (!s) {
      // Roll back whatever part of the batch reached the file, so a retry
      // appends to a clean end and no partial batch is ever followed by a cursor.
      if (::ftruncate(fd_, static_cast<off_t>(size_on_disk_)) != 0) {
        return Status::io_error(s.message() + "; and the partial write could not be rolled back: " +
                                std::strerror(errno));
      }
      return s;
    }
    size_on_disk_ += buf.size();
    for (const Mutation& m : mutations) {
      auto it = entries_.find(std::string_view(m.key));
      if (it != entries_.end()) live_bytes_ -= live_size(it->key(), it->value());
      if (m.is_delete) {
        if (it != entries_.end()) entries_.erase(it);
      } else {
        live_bytes_ += live_size(m.key, m.value);
        if (it != entries_.end()) {
          it->set(m.value, m.version);
        } else {
          entries_.emplace(m.key, m.value, m.version);
        }
      }
    }
    cursor_ = cursor;
    return maybe_compact();
  }

  Result<std::optional<Value>> get(std::string_view key) override {
    auto it = entries_.find(key);
    if (it == entries_.end()) return std::optional<Value>();
    return std::optional<Value>(Value{std::string(it->value()), it->version()});
  }

  Status scan(std::string_view prefix,
              const std::function<bool(std::string_view, const Value&)>& visit) override {
    Value v;  // one buffer for the whole walk
    for (auto it = entries_.lower_bound(prefix); it != entries_.end(); ++it) {
      if (it->key().substr(0, prefix.size()) != prefix) break;
      v.value.assign(it->value());
      v.version = it->version();
      if (!visit(it->key(), v)) break;
    }
    return Status::ok();
  }

  std::unique_ptr<Iterator> iterate(std::string_view prefix) override {
    return std::make_unique<SetIterator>(entries_, prefix);
  }

  std::uint64_t size() const override { return entries_.size(); }
  const char* backend() const override { return "log"; }

 private:
  Status reopen_for_append() {
    if (fd_ >= 0) ::close(fd_);
    fd_ = ::open(path_.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    if (fd_ < 0) return Status::from_errno(errno, "open " + path_);
    struct stat st;
    if (::fstat(fd_, &st) != 0) return Status::from_errno(errno, "stat " + path_);
    size_on_disk_ = static_cast<std::uint64_t>(st.st_size);
    return Status::ok();
  }

  // What a live key counts for when deciding to compact (about its PUT
  // record's size).
  static std::uint64_t live_size(std::string_view key, std::string_view value) {
    return key.size() + value.size() + 16;
  }

  // Rewrites the file in canonical form (through AtomicFile) once it has
  // grown past the threshold and is mostly dead records. The live size is
  // kept up to date by commit(): walking every entry here made each commit
  // past the threshold O(keys).
  Status maybe_compact() {
    if (options_.compact_threshold == 0 || size_on_disk_ < options_.compact_threshold)
      return Status::ok();
    if (live_bytes_ * 2 > size_on_disk_) return Status::ok();
    auto file = AtomicFile::create(path_);
    if (!file) return file.status();
    std::string buf;
    snapshot::encode_header(&buf);
    for (const PackedEntry& e : entries_) {
      snapshot::encode_put(&buf, e.key(), e.value(), e.version());
      if (buf.size() > (1 << 20)) {
        SLIP_RETURN_IF_ERROR((*file)->write(buf));
        buf.clear();
      }
    }
    if (cursor_) snapshot::encode_cursor(&buf, *cursor_);
    SLIP_RETURN_IF_ERROR((*file)->write(buf));
    SLIP_RETURN_IF_ERROR((*file)->commit());
    return reopen_for_append();
  }

  std::string path_;
  Options options_;
  std::unique_ptr<FileLock> lock_;
  int fd_ = -1;
  std::uint64_t size_on_disk_ = 0;
  EntrySet entries_;
  std::uint64_t live_bytes_ = 0;  // sum of live_size() over entries_
  std::optional<VersionToken> cursor_;
};

}  // namespace

Result<std::unique_ptr<Store>> open_log(const std::string& path, const Options& options) {
  if (options.read_only) {
    return Status::invalid_argument("a log fold is not opened read-only: read " + path +
                                    " with the snapshot library (slip::snapshot) instead");
  }
  auto lock = FileLock::acquire_fold(path, "log");
  if (!lock) return lock.status();
  auto store = std::make_unique<LogStore>(path, options, std::move(*lock));
  SLIP_RETURN_IF_ERROR(store->open());
  return std::unique_ptr<Store>(std::move(store));
}

}  // namespace slip::fold
