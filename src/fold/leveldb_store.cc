// The LevelDB fold, for folds bigger than RAM. Layout (docs/fold-stores.md):
//   "d" + key  -> ver_len:u8 ++ version ++ value
//   "m:cursor" -> the cursor token's bytes
//   "m:format" -> "slip-fold-1"
//   "m:origin" -> {"bucket":..,"prefixes":[..]} (fold/origin.h)
// Data and cursor of a commit go into one WriteBatch.
#include <leveldb/db.h>
#include <leveldb/write_batch.h>

#include <sys/stat.h>

#include <cerrno>
#include <unordered_map>

#include "fold/lock.h"
#include "fold/origin.h"
#include "slip/fold.h"

namespace slip::fold {

namespace {

constexpr char kDataPrefix = 'd';
constexpr const char* kCursorKey = "m:cursor";
constexpr const char* kFormatKey = "m:format";
constexpr const char* kOriginKey = "m:origin";
constexpr const char* kKeysKey = "m:keys";
constexpr const char* kFormat = "slip-fold-1";

std::string data_key(std::string_view key) {
  std::string k(1, kDataPrefix);
  k.append(key);
  return k;
}

std::string encode_value(const std::string& value, const VersionToken& version) {
  std::string out(1, static_cast<char>(version.size()));
  out.append(version.bytes());
  out.append(value);
  return out;
}

Status damaged_record(std::string_view key) {
  return Status::corruption("LevelDB fold: damaged value record for key '" + std::string(key) +
                            "'");
}

// Splits a stored value into its version and value bytes, without copying.
bool split_value(std::string_view raw, VersionToken* version, std::string_view* value) {
  if (raw.empty()) return false;
  const std::size_t n = static_cast<std::uint8_t>(raw[0]);
  if (n > VersionToken::kMaxSize || raw.size() < 1 + n) return false;
  *version = *VersionToken::from_bytes(raw.substr(1, n));
  *value = raw.substr(1 + n);
  return true;
}

Result<Value> decode_value(std::string_view raw, std::string_view key) {
  Value v;
  std::string_view value;
  if (!split_value(raw, &v.version, &value)) return damaged_record(key);
  v.value.assign(value);
  return v;
}

// m:keys: the live key count as of a cursor, written with every commit so
// that opening needs no count. The cursor makes a count that a writer
// without it (an older slip) left behind recognisably stale.
std::string encode_key_count(std::uint64_t keys, const VersionToken& cursor) {
  std::string out(8, '\0');
  for (int i = 0; i < 8; ++i) out[i] = static_cast<char>((keys >> (8 * i)) & 0xff);
  out.append(cursor.bytes());
  return out;
}

std::optional<std::uint64_t> decode_key_count(std::string_view raw, const VersionToken& cursor) {
  if (raw.size() < 8 || raw.substr(8) != cursor.bytes()) return std::nullopt;
  std::uint64_t keys = 0;
  for (int i = 7; i >= 0; --i) keys = (keys << 8) | static_cast<std::uint8_t>(raw[i]);
  return keys;
}

Status from_leveldb(const leveldb::Status& s, const std::string& what) {
  if (s.ok()) return Status::ok();
  if (s.IsCorruption()) return Status::corruption(what + ": " + s.ToString());
  if (s.IsInvalidArgument()) return Status::invalid_argument(what + ": " + s.ToString());
  return Status::io_error(what + ": " + s.ToString());
}

std::string_view view(const leveldb::Slice& s) { return {s.data(), s.size()}; }

class LevelDbIterator final : public Iterator {
 public:
  LevelDbIterator(leveldb::DB& db, std::string_view prefix, const std::string& path)
      : start_(data_key(prefix)), path_(path) {
    leveldb::ReadOptions ro;
    ro.fill_cache = false;  // a full walk would only evict what point reads cached
    it_.reset(db.NewIterator(ro));
  }

  bool next() override {
    if (done_) return false;
    if (started_) {
      it_->Next();
    } else {
      it_->Seek(start_);
      started_ = true;
    }
    if (!it_->Valid()) {
      status_ = from_leveldb(it_->status(), "scan " + path_);
      done_ = true;
      return false;
    }
    const std::string_view k = view(it_->key());
    if (k.substr(0, start_.size()) != start_) {
      done_ = true;
      return false;
    }
    if (!split_value(view(it_->value()), &version_, &value_)) {
      status_ = damaged_record(k.substr(1));
      done_ = true;
      return false;
    }
    return true;
  }

  std::string_view key() const override { return view(it_->key()).substr(1); }
  std::string_view value() const override { return value_; }
  const VersionToken& version() const override { return version_; }
  Status status() const override { return status_; }

 private:
  std::unique_ptr<leveldb::Iterator> it_;
  std::string start_;
  std::string path_;
  bool started_ = false;
  bool done_ = false;
  VersionToken version_;
  std::string_view value_;
  Status status_;
};

class LevelDbStore final : public Store {
 public:
  LevelDbStore(std::string path, Options options, std::unique_ptr<FileLock> lock)
      : path_(std::move(path)), options_(options), lock_(std::move(lock)) {}

  Status open() {
    leveldb::Options o;
    o.create_if_missing = !options_.read_only;
    leveldb::DB* db = nullptr;
    SLIP_RETURN_IF_ERROR(
        from_leveldb(leveldb::DB::Open(o, path_, &db), "open LevelDB fold " + path_));
    db_.reset(db);
    std::string format;
    leveldb::Status s = db_->Get({}, kFormatKey, &format);
    if (s.IsNotFound() && options_.read_only) {
      return Status::invalid_argument(path_ + " is a LevelDB database but not a slip fold");
    } else if (s.IsNotFound()) {
      SLIP_RETURN_IF_ERROR(
          from_leveldb(db_->Put(sync_options(), kFormatKey, kFormat), "initialise " + path_));
    } else if (!s.ok()) {
      return from_leveldb(s, "read " + path_);
    } else if (format != kFormat) {
      return Status::corruption(path_ + " is a LevelDB database but not a slip fold (format '" +
                                format + "')");
    }
    std::string cursor;
    s = db_->Get({}, kCursorKey, &cursor);
    if (s.ok()) {
      auto token = VersionToken::from_bytes(cursor);
      if (!token)
        return Status::corruption(path_ + ": cursor of " + std::to_string(cursor.size()) +
                                  " bytes");
      cursor_ = *token;
    } else if (!s.IsNotFound()) {
      return from_leveldb(s, "read cursor of " + path_);
    }
    std::string keys;
    s = db_->Get({}, kKeysKey, &keys);
    if (s.ok() && cursor_) size_ = decode_key_count(keys, *cursor_);
    if (!s.ok() && !s.IsNotFound()) return from_leveldb(s, "read key count of " + path_);
    if (size_ || options_.read_only) return Status::ok();
    return count_keys();
  }

  std::optional<VersionToken> cursor() const override { return cursor_; }

  Status commit(const std::vector<Mutation>& mutations, const VersionToken& cursor) override {
    if (options_.read_only)
      return Status::invalid_argument(path_ + " was opened read-only; it cannot be committed to");
    leveldb::WriteBatch batch;
    // Whether each touched key is live after the batch so far, to keep the
    // key count exact when a batch touches a key twice.
    std::unordered_map<std::string, bool> live;
    std::int64_t delta = 0;
    for (const Mutation& m : mutations) {
      const std::string k = data_key(m.key);
      bool before = false;
      if (!options_.bulk_load) {
        auto it = live.find(k);
        if (it != live.end()) {
          before = it->second;
        } else {
          std::string existing;
          before = db_->Get({}, k, &existing).ok();
        }
      }
      if (m.is_delete) {
        batch.Delete(k);
      } else {
        batch.Put(k, encode_value(m.value, m.version));
      }
      if (!options_.bulk_load) live[k] = !m.is_delete;
      delta += static_cast<int>(!m.is_delete) - static_cast<int>(before);
    }
    const auto keys = static_cast<std::uint64_t>(static_cast<std::int64_t>(*size_) + delta);
    batch.Put(kCursorKey, leveldb::Slice(cursor.bytes().data(), cursor.size()));
    batch.Put(kKeysKey, encode_key_count(keys, cursor));
    SLIP_RETURN_IF_ERROR(from_leveldb(db_->Write(sync_options(), &batch), "commit to " + path_));
    cursor_ = cursor;
    size_ = keys;
    return Status::ok();
  }

  Result<std::optional<Origin>> origin() override {
    std::string raw;
    leveldb::Status s = db_->Get({}, kOriginKey, &raw);
    if (s.IsNotFound()) return std::optional<Origin>();
    if (!s.ok()) return from_leveldb(s, "read " + path_);
    auto o = decode_origin(raw, path_ + " (m:origin)");
    if (!o) return o.status();
    return std::optional<Origin>(std::move(*o));
  }

  Status set_origin(const Origin& origin) override {
    leveldb::WriteOptions w;
    w.sync = true;  // rare, and a later mirror relies on it
    return from_leveldb(db_->Put(w, kOriginKey, encode_origin(origin)), "write " + path_);
  }

  Result<std::optional<Value>> get(std::string_view key) override {
    std::string raw;
    leveldb::Status s = db_->Get({}, data_key(key), &raw);
    if (s.IsNotFound()) return std::optional<Value>();
    if (!s.ok()) return from_leveldb(s, "read " + path_);
    auto v = decode_value(raw, key);
    if (!v) return v.status();
    return std::optional<Value>(std::move(*v));
  }

  Status scan(std::string_view prefix,
              const std::function<bool(std::string_view, const Value&)>& visit) override {
    std::unique_ptr<leveldb::Iterator> it(db_->NewIterator({}));
    const std::string start = data_key(prefix);
    for (it->Seek(start); it->Valid(); it->Next()) {
      std::string_view k(it->key().data(), it->key().size());
      if (k.substr(0, start.size()) != start) break;
      auto v = decode_value(std::string_view(it->value().data(), it->value().size()), k.substr(1));
      if (!v) return v.status();
      if (!visit(k.substr(1), *v)) break;
    }
    return from_leveldb(it->status(), "scan " + path_);
  }

  std::unique_ptr<Iterator> iterate(std::string_view prefix) override {
    return std::make_unique<LevelDbIterator>(*db_, prefix, path_);
  }

  std::uint64_t size() const override {
    if (!size_) {
      // Read-only without m:keys: counted on first use (a damaged record
      // is not counted).
      std::uint64_t n = 0;
      (void)count_live(&n);
      size_ = n;
    }
    return *size_;
  }
  const char* backend() const override { return "leveldb"; }

 private:
  leveldb::WriteOptions sync_options() const {
    leveldb::WriteOptions w;
    w.sync = options_.sync;
    return w;
  }

  // Folds without a current m:keys are counted once at open; commits
  // adjust the count and store it.
  Status count_keys() {
    std::uint64_t n = 0;
    SLIP_RETURN_IF_ERROR(count_live(&n));
    size_ = n;
    return Status::ok();
  }

  // Walks the live keys; a damaged record ends the walk (*N counts those
  // before it) and is the Status.
  Status count_live(std::uint64_t* n) const {
    LevelDbIterator it(*db_, "", path_);
    for (*n = 0; it.next();) ++*n;
    return it.status();
  }

  std::string path_;
  Options options_;
  std::unique_ptr<FileLock> lock_;
  std::unique_ptr<leveldb::DB> db_;
  std::optional<VersionToken> cursor_;
  mutable std::optional<std::uint64_t> size_;  // empty until counted (read-only)
};

}  // namespace

Result<std::unique_ptr<Store>> open_leveldb(const std::string& path, const Options& options) {
  struct stat st;
  if (::stat(path.c_str(), &st) == 0 && !S_ISDIR(st.st_mode)) {
    return Status::invalid_argument(path + " is a file; a LevelDB fold is a directory");
  }
  if (options.read_only) {
    auto backend = detect_backend(path);
    if (!backend) return backend.status();
    if (!*backend) return Status::invalid_argument(path + ": no such fold");
    if (**backend != "leveldb")
      return Status::invalid_argument(path + " is not a LevelDB fold directory");
  } else {
    ::mkdir(path.c_str(), 0755);
  }
  auto lock = FileLock::acquire_fold(path, "leveldb");
  if (!lock) return lock.status();
  auto store = std::make_unique<LevelDbStore>(path, options, std::move(*lock));
  SLIP_RETURN_IF_ERROR(store->open());
  return std::unique_ptr<Store>(std::move(store));
}

Result<std::optional<std::string>> detect_backend(const std::string& path) {
  struct stat st;
  if (::stat(path.c_str(), &st) != 0) {
    if (errno == ENOENT) return std::optional<std::string>();
    return Status::from_errno(errno, "stat " + path);
  }
  if (S_ISREG(st.st_mode)) return std::optional<std::string>("log");
  struct stat current;
  if (S_ISDIR(st.st_mode) && ::stat((path + "/CURRENT").c_str(), &current) == 0) {
    return std::optional<std::string>("leveldb");
  }
  return Status::invalid_argument(path +
                                  " is neither a snapshot file nor a LevelDB fold directory");
}

}  // namespace slip::fold
