#include "support/memory_location.h"

#include <algorithm>
#include <chrono>
#include <cstring>

namespace slip::test {

namespace {

std::int64_t now_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

class MemUpload : public location::Upload {
 public:
  MemUpload(MemoryLocation& loc, std::string key) : loc_(loc), key_(std::move(key)) {}
  Status write(const void* data, std::size_t size) override {
    if (loc_.fail_upload_after && buf_.size() + size > loc_.fail_upload_after)
      return Status::unavailable("connection reset (injected)");
    buf_.append(static_cast<const char*>(data), size);
    return Status::ok();
  }
  Status finish() override {
    loc_.store(key_, std::move(buf_));
    return Status::ok();
  }
  void abort() override { buf_.clear(); }

 private:
  MemoryLocation& loc_;
  std::string key_;
  std::string buf_;
};

class MemDownload : public location::Download {
 public:
  explicit MemDownload(std::string data) : data_(std::move(data)) {}
  Result<std::size_t> read(void* buffer, std::size_t size) override {
    std::size_t n = std::min(size, data_.size() - pos_);
    std::memcpy(buffer, data_.data() + pos_, n);
    pos_ += n;
    return n;
  }
  std::uint64_t size() const override { return data_.size(); }

 private:
  std::string data_;
  std::size_t pos_ = 0;
};

}  // namespace

void MemoryLocation::store(const std::string& key, std::string data) {
  Object& o = objects[key];
  o.data = std::move(data);
  o.etag = "e" + std::to_string(++next_etag_);
  o.modified_ns = now_ns();
}

Result<std::unique_ptr<location::Upload>> MemoryLocation::upload(const std::string& key) {
  return std::unique_ptr<location::Upload>(new MemUpload(*this, key));
}

Result<std::unique_ptr<location::Download>> MemoryLocation::download(const std::string& key) {
  auto it = objects.find(key);
  if (it == objects.end()) return Status::not_found(key + " not found");
  return std::unique_ptr<location::Download>(new MemDownload(it->second.data));
}

Status MemoryLocation::put_small(const std::string& key, std::string_view data,
                                 const location::Precondition& pre) {
  ++puts;
  if (before_put) SLIP_RETURN_IF_ERROR(before_put(key));
  auto it = objects.find(key);
  if (conditional_) {
    if (pre.kind == location::Precondition::Kind::kIfNoneMatch && it != objects.end())
      return Status::conflict(key + " exists");
    if (pre.kind == location::Precondition::Kind::kIfMatch &&
        (it == objects.end() || it->second.etag != pre.etag))
      return Status::conflict(key + " changed");
  }
  store(key, std::string(data));
  return Status::ok();
}

Result<std::string> MemoryLocation::get_small(const std::string& key, std::string* etag) {
  auto it = objects.find(key);
  if (it == objects.end()) return Status::not_found(key + " not found");
  if (etag) *etag = it->second.etag;
  return it->second.data;
}

Result<std::vector<location::ObjectInfo>> MemoryLocation::list(const std::string& prefix) {
  std::vector<location::ObjectInfo> out;
  for (auto it = objects.lower_bound(prefix);
       it != objects.end() && it->first.compare(0, prefix.size(), prefix) == 0; ++it) {
    out.push_back({it->first, it->second.data.size(), it->second.etag, it->second.modified_ns});
  }
  return out;
}

Status MemoryLocation::remove(const std::string& key) {
  objects.erase(key);
  return Status::ok();
}

}  // namespace slip::test
