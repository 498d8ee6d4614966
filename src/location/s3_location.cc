// s3:// locations: objects in a bucket under a key prefix, through the
// client in s3_client.h.
//
// Uploads are buffered one part at a time: an object smaller than the part
// size is one PUT at finish(); a larger one becomes a multipart upload
// whose parts go out as they fill, completed at finish() and aborted on
// abort(), on failure and on destruction. Downloads are ranged GETs of
// kDownloadChunk bytes after a HEAD, each pinned to the HEAD's ETag with
// If-Match, so a replaced object is noticed instead of spliced.
#include <algorithm>
#include <atomic>
#include <cstdlib>

#include "location/s3_client.h"
#include "location/s3_xml.h"
#include "location/schemes.h"

namespace slip::location {

namespace {

using s3::Client;
using s3::Request;
using s3::Response;

constexpr std::size_t kDownloadChunk = 8 << 20;
constexpr std::size_t kSmallLimit = 64 << 20;
constexpr int kPartsPerStep = 1000;  // the part size doubles after each step
constexpr int kMaxParts = 10000;     // S3's limit

bool ok(const Response& r) { return r.transport_error == 0 && !r.too_large && r.status / 100 == 2; }

// ETags compare without quotes and without a weak marker.
std::string bare_etag(std::string_view etag) {
  if (etag.substr(0, 2) == "W/") etag.remove_prefix(2);
  if (etag.size() >= 2 && etag.front() == '"' && etag.back() == '"') {
    etag = etag.substr(1, etag.size() - 2);
  }
  return std::string(etag);
}

Status check_key(const std::string& key) {
  if (key.empty()) return Status::invalid_argument("empty object key");
  return Status::ok();
}

class S3Upload : public Upload {
 public:
  S3Upload(std::shared_ptr<Client> client, std::string key, std::string shown)
      : client_(std::move(client)),
        key_(std::move(key)),
        shown_(std::move(shown)),
        part_size_(client_->config().part_size) {}

  ~S3Upload() override { abort(); }

  Status write(const void* data, size_t size) override {
    SLIP_RETURN_IF_ERROR(usable());
    const char* p = static_cast<const char*>(data);
    while (size > 0) {
      if (buffer_.capacity() < part_size_) buffer_.reserve(part_size_);
      std::size_t take = std::min<std::size_t>(size, part_size_ - buffer_.size());
      buffer_.append(p, take);
      p += take;
      size -= take;
      if (buffer_.size() == part_size_) SLIP_RETURN_IF_ERROR(fail_on_error(send_part()));
    }
    return Status::ok();
  }

  Status finish() override {
    SLIP_RETURN_IF_ERROR(usable());
    if (upload_id_.empty()) {
      Request req{"PUT", key_, {}, {}, buffer_};
      Response r = client_->perform(req);
      if (!ok(r)) return fail_on_error(s3::error_status(r, "upload " + shown_, client_->config()));
    } else {
      if (!buffer_.empty()) SLIP_RETURN_IF_ERROR(fail_on_error(send_part()));
      SLIP_RETURN_IF_ERROR(fail_on_error(complete()));
    }
    done_ = true;
    buffer_ = std::string();
    return Status::ok();
  }

  void abort() override {
    if (done_) return;
    done_ = true;
    buffer_ = std::string();
    if (upload_id_.empty()) return;
    // Best effort: parts left behind only cost storage (and a bucket
    // lifecycle rule can reap them); the object never appears.
    Request req{"DELETE", key_, {{"uploadId", upload_id_}}, {}, {}};
    // The clean-up an interruption wants: not interrupted, but one short
    // attempt, so that a stalled server does not hold up the exit.
    req.interruptible = false;
    req.timeout_seconds = 10;
    (void)client_->perform_once(req);
    upload_id_.clear();
  }

 private:
  Status usable() const {
    if (!failed_.is_ok()) return failed_;
    if (done_) return Status::invalid_argument("upload of " + shown_ + " already finished");
    return Status::ok();
  }

  // Remembers the first failure, aborts the multipart upload.
  Status fail_on_error(Status s) {
    if (s.is_ok()) return s;
    failed_ = s;
    abort();
    return s;
  }

  Status initiate() {
    Request req{"POST", key_, {{"uploads", ""}}, {}, {}};
    Response r = client_->perform(req);
    if (!ok(r))
      return s3::error_status(r, "start multipart upload of " + shown_, client_->config());
    upload_id_ = s3::xml_text(r.body, "UploadId").value_or("");
    if (upload_id_.empty()) {
      return Status::unavailable("start multipart upload of " + shown_ +
                                 ": no UploadId in the answer");
    }
    return Status::ok();
  }

  Status send_part() {
    if (upload_id_.empty()) SLIP_RETURN_IF_ERROR(initiate());
    if (static_cast<int>(etags_.size()) >= kMaxParts) {
      return Status::invalid_argument("upload " + shown_ + ": more than 10000 parts");
    }
    const int number = static_cast<int>(etags_.size()) + 1;
    Request req{"PUT",
                key_,
                {{"partNumber", std::to_string(number)}, {"uploadId", upload_id_}},
                {},
                buffer_};
    Response r = client_->perform(req);
    if (!ok(r)) {
      return s3::error_status(r, "upload part " + std::to_string(number) + " of " + shown_,
                              client_->config());
    }
    std::string etag = r.header("etag");
    if (etag.empty()) {
      return Status::unavailable("upload part " + std::to_string(number) + " of " + shown_ +
                                 ": no ETag in the answer");
    }
    etags_.push_back(std::move(etag));
    buffer_.clear();
    // Bigger parts for bigger objects, so 10000 parts reach far.
    if (etags_.size() % kPartsPerStep == 0) part_size_ *= 2;
    return Status::ok();
  }

  Status complete() {
    std::string xml = "<CompleteMultipartUpload>";
    for (std::size_t i = 0; i < etags_.size(); ++i) {
      xml += "<Part><PartNumber>" + std::to_string(i + 1) + "</PartNumber><ETag>" +
             s3::xml_escape(etags_[i]) + "</ETag></Part>";
    }
    xml += "</CompleteMultipartUpload>";
    Request req{
        "POST", key_, {{"uploadId", upload_id_}}, {{"Content-Type", "application/xml"}}, xml};
    Response r = client_->perform(req);
    if (!ok(r)) return s3::error_status(r, "complete upload of " + shown_, client_->config());
    upload_id_.clear();  // nothing left to abort
    return Status::ok();
  }

  std::shared_ptr<Client> client_;
  std::string key_;    // full object key
  std::string shown_;  // for messages
  uint64_t part_size_;
  std::string buffer_;
  std::string upload_id_;
  std::vector<std::string> etags_;
  bool done_ = false;
  Status failed_;
};

class S3Download : public Download {
 public:
  S3Download(std::shared_ptr<Client> client, std::string key, std::string shown)
      : client_(std::move(client)), key_(std::move(key)), shown_(std::move(shown)) {}

  // A HEAD tells the size and the ETag; an empty object needs no GET
  // (a range of it is not satisfiable, and some servers answer that badly).
  Status open() {
    Request head{"HEAD", key_, {}, {}, {}};
    Response r = client_->perform(head);
    if (r.status == 404) {
      // A HEAD answer has no body to tell a missing bucket from a missing
      // key: a GET's answer does.
      Request get{"GET", key_, {}, {{"Range", "bytes=0-0"}}, {}};
      get.max_response = 1 << 20;
      Response g = client_->perform(get);
      if (!ok(g)) return s3::error_status(g, "download " + shown_, client_->config());
    }
    if (!ok(r)) return s3::error_status(r, "download " + shown_, client_->config());
    etag_ = r.header("etag");
    const std::string length = r.header("content-length");
    char* end = nullptr;
    size_ = std::strtoull(length.c_str(), &end, 10);
    if (length.empty() || *end != '\0') {
      return Status::unavailable("download " + shown_ + ": no Content-Length in the HEAD answer");
    }
    return Status::ok();
  }

  Result<size_t> read(void* out, size_t size) override {
    if (pos_ == buffer_.size()) {
      if (offset_ >= size_) return static_cast<size_t>(0);
      Response r = get_range(offset_);
      if (!ok(r)) {
        if (r.status == 412) {
          return Status::conflict("download " + shown_ + ": the object changed while reading it");
        }
        return s3::error_status(r, "download " + shown_, client_->config());
      }
      // A whole-object 200 is fine for the first range of a small object.
      const bool whole = r.status == 200 && offset_ == 0 && r.body.size() == size_;
      if (!whole && (r.status != 206 || !parse_content_range(r.header("content-range"), offset_) ||
                     r.body.empty())) {
        return bad_range(r);
      }
      buffer_ = std::move(r.body);
      pos_ = 0;
      offset_ += buffer_.size();
    }
    std::size_t n = std::min(size, buffer_.size() - pos_);
    std::copy_n(buffer_.data() + pos_, n, static_cast<char*>(out));
    pos_ += n;
    return n;
  }

  uint64_t size() const override { return size_; }

 private:
  Response get_range(uint64_t from) {
    Request req{"GET", key_, {}, {}, {}};
    req.headers.emplace_back(
        "Range", "bytes=" + std::to_string(from) + "-" + std::to_string(from + kDownloadChunk - 1));
    if (!etag_.empty()) req.headers.emplace_back("If-Match", etag_);
    req.max_response = kDownloadChunk;
    return client_->perform(req);
  }

  // "bytes START-END/TOTAL": TOTAL when START is EXPECTED_START.
  static std::optional<uint64_t> parse_content_range(const std::string& value,
                                                     uint64_t expected_start) {
    if (value.rfind("bytes ", 0) != 0) return std::nullopt;
    char* end = nullptr;
    uint64_t start = std::strtoull(value.c_str() + 6, &end, 10);
    if (start != expected_start || *end != '-') return std::nullopt;
    auto slash = value.find('/');
    if (slash == std::string::npos) return std::nullopt;
    return std::strtoull(value.c_str() + slash + 1, nullptr, 10);
  }

  Status bad_range(const Response& r) const {
    return Status::unavailable("download " + shown_ + ": unexpected answer to a ranged GET (HTTP " +
                               std::to_string(r.status) + ", Content-Range '" +
                               r.header("content-range") + "')");
  }

  std::shared_ptr<Client> client_;
  std::string key_;
  std::string shown_;
  std::string etag_;
  uint64_t size_ = 0;
  uint64_t offset_ = 0;  // next byte to fetch
  std::string buffer_;
  std::size_t pos_ = 0;
};

class S3Location : public Location {
 public:
  S3Location(std::shared_ptr<Client> client, std::shared_ptr<std::atomic<bool>> interruptible)
      : client_(std::move(client)), interruptible_(std::move(interruptible)) {}

  void set_interruptible(bool interruptible) override { interruptible_->store(interruptible); }

  std::string display() const override { return config().display; }

  Result<std::unique_ptr<Upload>> upload(const std::string& key) override {
    SLIP_RETURN_IF_ERROR(check_key(key));
    return std::unique_ptr<Upload>(new S3Upload(client_, full(key), shown(key)));
  }

  Result<std::unique_ptr<Download>> download(const std::string& key) override {
    SLIP_RETURN_IF_ERROR(check_key(key));
    auto d = std::make_unique<S3Download>(client_, full(key), shown(key));
    SLIP_RETURN_IF_ERROR(d->open());
    return std::unique_ptr<Download>(std::move(d));
  }

  Status put_small(const std::string& key, std::string_view data,
                   const Precondition& precondition) override {
    SLIP_RETURN_IF_ERROR(check_key(key));
    const std::string what = "put " + shown(key);
    Request req{"PUT", full(key), {}, {}, data};
    if (precondition.kind == Precondition::Kind::kIfNoneMatch) {
      req.headers.emplace_back("If-None-Match", "*");
    } else if (precondition.kind == Precondition::Kind::kIfMatch) {
      req.headers.emplace_back("If-Match", precondition.etag);
    }
    if (precondition.kind != Precondition::Kind::kNone && !config().conditional_writes) {
      // The server may ignore the headers: check first. Racy, but it holds
      // for writers that do not overlap.
      SLIP_RETURN_IF_ERROR(check_precondition(key, precondition));
    }
    int attempts = 0;
    Response r = client_->perform(req, &attempts);
    if (ok(r)) return Status::ok();
    if ((r.status == 412 || r.status == 409) && attempts > 1 &&
        precondition.kind != Precondition::Kind::kNone) {
      // An earlier attempt may have written our bytes before its answer
      // was lost; then the precondition fails against ourselves.
      std::string etag;
      auto now = get_small(key, &etag);
      if (now && *now == data) return Status::ok();
    }
    return s3::error_status(r, what, config());
  }

  Result<std::string> get_small(const std::string& key, std::string* etag) override {
    SLIP_RETURN_IF_ERROR(check_key(key));
    Request req{"GET", full(key), {}, {}, {}};
    req.max_response = kSmallLimit;
    Response r = client_->perform(req);
    if (!ok(r)) return s3::error_status(r, "get " + shown(key), config());
    if (etag != nullptr) *etag = r.header("etag");
    return std::move(r.body);
  }

  Result<std::vector<ObjectInfo>> list(const std::string& prefix) override {
    std::vector<ObjectInfo> out;
    const std::string& base = config().prefix;
    std::string token;
    for (;;) {
      Request req{"GET", "", {{"list-type", "2"}, {"prefix", base + prefix}}, {}, {}};
      if (!token.empty()) req.query.emplace_back("continuation-token", token);
      if (config().list_page_size != 0) {
        req.query.emplace_back("max-keys", std::to_string(config().list_page_size));
      }
      Response r = client_->perform(req);
      if (!ok(r)) return s3::error_status(r, "list " + config().display, config());
      s3::ListPage page;
      if (!s3::parse_list_page(r.body, &page)) {
        return Status::unavailable("list " + config().display + ": not a ListObjectsV2 answer");
      }
      for (auto& info : page.objects) {
        if (info.key.compare(0, base.size(), base) != 0) continue;
        info.key.erase(0, base.size());
        out.push_back(std::move(info));
      }
      if (!page.truncated) break;
      if (page.next_token.empty() || page.next_token == token) {
        return Status::unavailable("list " + config().display +
                                   ": truncated answer without a new continuation token");
      }
      token = page.next_token;
    }
    std::sort(out.begin(), out.end(),
              [](const ObjectInfo& a, const ObjectInfo& b) { return a.key < b.key; });
    return out;
  }

  Status remove(const std::string& key) override {
    SLIP_RETURN_IF_ERROR(check_key(key));
    Request req{"DELETE", full(key), {}, {}, {}};
    Response r = client_->perform(req);
    if (ok(r)) return Status::ok();
    Status s = s3::error_status(r, "remove " + shown(key), config());
    return s.kind() == StatusKind::kNotFound ? Status::ok() : s;
  }

  bool supports_conditional_writes() const override { return config().conditional_writes; }

 private:
  const s3::Config& config() const { return client_->config(); }
  std::string full(const std::string& key) const { return config().prefix + key; }
  std::string shown(const std::string& key) const {
    return "s3://" + config().bucket + "/" + full(key);
  }

  Status check_precondition(const std::string& key, const Precondition& precondition) {
    Request head{"HEAD", full(key), {}, {}, {}};
    Response r = client_->perform(head);
    const bool exists = ok(r);
    if (!exists && r.status != 404) return s3::error_status(r, "check " + shown(key), config());
    if (precondition.kind == Precondition::Kind::kIfNoneMatch && exists) {
      return Status::conflict("put " + shown(key) + ": the object already exists");
    }
    if (precondition.kind == Precondition::Kind::kIfMatch) {
      if (!exists) return Status::conflict("put " + shown(key) + ": the object no longer exists");
      if (bare_etag(r.header("etag")) != bare_etag(precondition.etag)) {
        return Status::conflict("put " + shown(key) + ": the object changed");
      }
    }
    return Status::ok();
  }

  std::shared_ptr<Client> client_;
  std::shared_ptr<std::atomic<bool>> interruptible_;  // read by the client's interrupted()
};

}  // namespace

Result<std::unique_ptr<Location>> open_s3_location(const std::string& rest,
                                                   const Options& options) {
  auto config = s3::make_config(rest, options, [](const char* name) { return std::getenv(name); });
  if (!config) return config.status();
  auto interruptible = std::make_shared<std::atomic<bool>>(true);
  if (config->interrupted) {
    config->interrupted = [interruptible, asked = config->interrupted] {
      return interruptible->load() && asked();
    };
  }
  return std::unique_ptr<Location>(
      new S3Location(std::make_shared<Client>(std::move(*config)), std::move(interruptible)));
}

}  // namespace slip::location
