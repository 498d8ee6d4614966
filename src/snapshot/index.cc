#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>

#include "fs/io.h"
#include "slip/snapshot.h"

namespace slip::snapshot {

std::uint64_t Index::dead_bytes() const {
  std::uint64_t records = intact_bytes > kHeaderSize ? intact_bytes - kHeaderSize : 0;
  return records - live_bytes;
}

std::vector<std::string> Index::sorted_keys() const {
  std::vector<std::string> keys;
  keys.reserve(live.size());
  for (const auto& [key, entry] : live) keys.push_back(key);
  std::sort(keys.begin(), keys.end());
  return keys;
}

Result<Index> build_index(const std::string& path) {
  auto reader = Reader::open(path);
  if (!reader) return reader.status();
  Index index;
  struct stat st;
  if (::stat(path.c_str(), &st) == 0) index.file_size = static_cast<std::uint64_t>(st.st_size);
  bool ordered = true;  // canonical so far
  std::string last_key;
  bool have_key = false;
  Record rec;
  while ((*reader)->next(&rec)) {
    if (index.counts.cursor > 0) ordered = false;  // a record after a cursor
    switch (rec.type) {
      case RecordType::kPut: {
        ++index.counts.put;
        if (have_key && rec.key <= std::string_view(last_key)) ordered = false;
        last_key.assign(rec.key);
        have_key = true;
        IndexEntry entry{rec.offset, rec.size, static_cast<std::uint32_t>(rec.value.size()),
                         rec.version};
        auto [it, inserted] = index.live.try_emplace(std::string(rec.key), entry);
        if (!inserted) {
          index.live_bytes -= it->second.record_size;
          it->second = entry;
        }
        index.live_bytes += rec.size;
        break;
      }
      case RecordType::kDelete: {
        ++index.counts.del;
        ordered = false;
        auto it = index.live.find(std::string(rec.key));
        if (it != index.live.end()) {
          index.live_bytes -= it->second.record_size;
          index.live.erase(it);
        }
        break;
      }
      case RecordType::kCursor:
        ++index.counts.cursor;
        index.live_bytes -= index.cursor_size;
        index.cursor = rec.version;
        index.cursor_offset = rec.offset;
        index.cursor_size = rec.size;
        index.live_bytes += rec.size;
        break;
    }
  }
  if (!(*reader)->io_status().is_ok()) return (*reader)->io_status();
  index.problem = (*reader)->problem();
  index.intact_bytes = (*reader)->bytes_consumed();
  index.canonical = ordered && index.problem.damage == Damage::kNone;
  return index;
}

Result<std::string> read_value(const std::string& path, const IndexEntry& entry) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return Status::from_errno(errno, "open " + path);
  std::string value(entry.value_size, '\0');
  // A PUT is crc:4 type:1 key_len:2 key value_len:4 value ver_len:1 version.
  std::uint64_t value_at =
      entry.offset + entry.record_size - 1 - entry.version.size() - entry.value_size;
  Status s = fs::pread_all(fd, value.data(), value.size(), value_at, path);
  ::close(fd);
  if (!s) return s;
  return value;
}

}  // namespace slip::snapshot
