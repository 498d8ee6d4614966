#include <sys/stat.h>

#include "slip/snapshot.h"
#include "snapshot/fingerprint_set.h"

namespace slip::snapshot {

namespace {

// Counts live keys. While records are PUTs in strictly ascending key order
// (a compacted file) each is a new key and nothing is held but the last
// key. At the first record that breaks the order, the keys seen so far are
// re-read from the file into a fingerprint set, which takes over. Only a
// regular file can be re-read: opening a pipe's path again (/dev/stdin)
// gives the same pipe, so for anything else the set is used from the start.
class LiveKeyCounter {
 public:
  LiveKeyCounter(const std::string& path, bool rereadable) : path_(path), ordered_(rereadable) {}

  Status add(const Record& rec) {
    if (rec.type == RecordType::kCursor) return Status::ok();
    if (ordered_) {
      if (rec.type == RecordType::kPut && (count_ == 0 || rec.key > std::string_view(last_key_))) {
        last_key_.assign(rec.key);
        ++count_;
        return Status::ok();
      }
      SLIP_RETURN_IF_ERROR(switch_to_set(rec.offset));
    }
    if (rec.type == RecordType::kPut) {
      set_.insert(FingerprintSet::fingerprint(rec.key));
    } else {
      set_.erase(FingerprintSet::fingerprint(rec.key));
    }
    return Status::ok();
  }

  std::uint64_t count() const { return ordered_ ? count_ : set_.size(); }

 private:
  Status switch_to_set(std::uint64_t until_offset) {
    ordered_ = false;
    last_key_.clear();
    last_key_.shrink_to_fit();
    auto reader = Reader::open(path_);
    if (!reader) return reader.status();
    Record rec;
    while ((*reader)->next(&rec) && rec.offset < until_offset) {
      if (rec.type == RecordType::kPut) set_.insert(FingerprintSet::fingerprint(rec.key));
    }
    return (*reader)->io_status();
  }

  const std::string& path_;
  bool ordered_;
  std::string last_key_;
  std::uint64_t count_ = 0;
  FingerprintSet set_;
};

}  // namespace

Result<VerifyReport> verify(const std::string& path) {
  auto reader = Reader::open(path);
  if (!reader) return reader.status();
  VerifyReport report;
  struct stat st;
  bool regular = false;
  if (::stat(path.c_str(), &st) == 0) {
    report.file_size = static_cast<std::uint64_t>(st.st_size);
    regular = S_ISREG(st.st_mode);
  }
  LiveKeyCounter live(path, regular);
  Record rec;
  while ((*reader)->next(&rec)) {
    ++report.records;
    if (rec.type == RecordType::kCursor) report.cursor = rec.version;
    SLIP_RETURN_IF_ERROR(live.add(rec));
  }
  if (!(*reader)->io_status().is_ok()) return (*reader)->io_status();
  report.problem = (*reader)->problem();
  report.bytes = (*reader)->bytes_consumed();
  if (report.problem.damage == Damage::kInvalid || report.problem.damage == Damage::kCorrupted) {
    report.cursor.reset();  // nothing in a damaged file is trusted
  } else {
    report.live_keys = live.count();
  }
  return report;
}

}  // namespace slip::snapshot
