// Object-storage locations: where exported artifacts live.
//
// A Location is a flat namespace of objects under a prefix chosen by the
// user (`file:///srv/exports/edge`, `s3://bucket/edge`). Keys passed to the
// methods below are relative to that prefix and use '/' as separator.
//
// One registry of schemes (open_location) parses a URL, redacts it for
// display and opens it; each scheme lives in its own file under
// src/location/. Nothing here prints: errors come back as Status with
// messages that never contain credentials. docs/locations.md describes the
// schemes, their environment variables and their guarantees.
//
// A Location may be used from several threads at once; each Upload and
// Download from one thread at a time. Uploads and Downloads share their
// Location's connection state and may outlive the Location object.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "slip/status.h"

namespace slip::location {

struct ObjectInfo {
  std::string key;  // relative to the location's prefix
  uint64_t size = 0;
  std::string etag;  // opaque; what IfMatch compares against
  int64_t modified_ns = 0;
};

// A condition on a small write, for the pointer object that must never
// move backwards. Stores that cannot enforce it report so through
// Location::supports_conditional_writes(); see the export spec for what is
// then guaranteed.
struct Precondition {
  enum class Kind { kNone, kIfNoneMatch, kIfMatch };
  Kind kind = Kind::kNone;
  std::string etag;  // for kIfMatch

  static Precondition none() { return {}; }
  static Precondition create_only() { return {Kind::kIfNoneMatch, {}}; }
  static Precondition if_match(std::string etag) { return {Kind::kIfMatch, std::move(etag)}; }
};

// A streamed upload: bytes go out as they are written (multipart on S3), and
// the object becomes visible only at finish(). abort() (or destruction
// without finish()) leaves no object behind where the store allows it.
class Upload {
 public:
  virtual ~Upload() = default;
  virtual Status write(const void* data, size_t size) = 0;
  virtual Status finish() = 0;
  virtual void abort() = 0;
};

// A streamed download. read() returns 0 at the end of the object.
class Download {
 public:
  virtual ~Download() = default;
  virtual Result<size_t> read(void* buffer, size_t size) = 0;
  virtual uint64_t size() const = 0;
};

class Location {
 public:
  virtual ~Location() = default;

  // The URL as the user gave it with any secret removed: safe to print.
  virtual std::string display() const = 0;

  // Large, write-once objects (payloads).
  virtual Result<std::unique_ptr<Upload>> upload(const std::string& key) = 0;
  virtual Result<std::unique_ptr<Download>> download(const std::string& key) = 0;

  // Small objects read and written whole (manifests, the pointer).
  // put_small returns kConflict when the precondition does not hold.
  // get_small returns kNotFound for a missing object and fills *etag.
  virtual Status put_small(const std::string& key, std::string_view data,
                           const Precondition& precondition) = 0;
  virtual Result<std::string> get_small(const std::string& key, std::string* etag) = 0;

  // Objects whose key starts with `prefix`, in key order.
  // On file:// the etag of an object larger than 1 MiB is left empty (it
  // would mean reading the whole payload); get_small always fills it.
  virtual Result<std::vector<ObjectInfo>> list(const std::string& prefix) = 0;
  // Removing an object that does not exist is not an error (S3 cannot tell).
  virtual Status remove(const std::string& key) = 0;

  virtual bool supports_conditional_writes() const = 0;

  // Large objects made locally first (staged payloads) can skip the copy
  // an upload makes where the location is a local directory: staging_dir()
  // names a directory on its file system (created on demand; empty: stage
  // anywhere and upload), and adopt() stores the complete file PATH as KEY
  // by renaming it into place, durably, with the mode it has (create it as
  // the object would be: 0644 less the umask). kNotSupported from adopt(): upload
  // the file instead (e.g. it is on another file system).
  virtual Result<std::string> staging_dir() { return std::string(); }

  // Whether Options::interrupted may end requests in flight (on by
  // default). Off around a step that must not be cut off once begun:
  // moving the pointer, whose PUT the server may apply even when its
  // answer never arrives.
  virtual void set_interruptible(bool interruptible) { (void)interruptible; }
  virtual Status adopt(const std::string& key, const std::string& path) {
    (void)key;
    (void)path;
    return Status::not_supported("uploads only");
  }
};

// Settings that come from flags rather than the URL.
//
// s3 addressing: path-style (https://endpoint/bucket/key) is used when
// path_style is set, when a custom endpoint is given (Options::endpoint or
// AWS_ENDPOINT_URL: most S3-compatible servers want it) unless
// virtual_hosted is set, and for bucket names with a '.' (TLS wildcard
// certificates do not cover them). Otherwise virtual-hosted
// (https://bucket.s3.REGION.amazonaws.com/key).
//
// s3 conditional writes: If-None-Match / If-Match are always sent on
// put_small, and the precondition is also checked with a HEAD just before
// the PUT. Many S3-compatible servers (s3rver, older MinIO, ...) ignore the
// headers, so only that racy check would hold there; hence
// supports_conditional_writes() is true for S3 on AWS itself (the default
// endpoint, or an s3.* / s3-fips.* host under amazonaws.com: it enforces
// both headers since 2024) and for another server only when the user
// states that it enforces them: conditional_writes here, or
// SLIP_S3_CONDITIONAL_WRITES=1 (=0 turns them off for AWS too).
struct Options {
  std::string endpoint;             // S3-compatible endpoint (else AWS_ENDPOINT_URL, else AWS)
  bool path_style = false;          // s3: https://endpoint/bucket/key instead of bucket.endpoint
  uint64_t part_size = 0;           // s3 multipart part size; 0 = the scheme's default (8 MiB).
                                    // AWS refuses parts under 5 MiB (but the last).
  bool virtual_hosted = false;      // s3: bucket.endpoint even with a custom endpoint
  bool conditional_writes = false;  // s3: the server enforces If-Match / If-None-Match
  uint32_t list_page_size = 0;      // s3: max-keys per ListObjectsV2 page; 0 = server's (1000)
  // s3: polled while a request is in flight and between retries; true ends
  // the request with kInterrupted. Aborting a multipart upload is never
  // interrupted (it is the clean-up an interruption wants).
  std::function<bool()> interrupted;
};

// Parses `url` (file:///dir/prefix, a bare path, s3://bucket/prefix) and
// opens it. An unknown scheme or malformed URL is kInvalidArgument.
Result<std::unique_ptr<Location>> open_location(const std::string& url,
                                                const Options& options = {});

// The URL with secrets removed, without opening anything.
std::string redact_location(const std::string& url);

}  // namespace slip::location
