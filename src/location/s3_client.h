// A small S3 client over libcurl: configuration from the URL, options and
// environment; signed requests; one retry wrapper; one mapping from S3
// answers to Status. Internal header: the Location in s3_location.cc is its
// only user, tests call it directly.
//
// Thread-safety: a Client may be used from several threads; each request
// takes an idle curl handle from a small pool (keeping connections alive)
// or makes one.
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "location/s3_sigv4.h"
#include "slip/location.h"

namespace slip::location::s3 {

inline constexpr uint64_t kDefaultPartSize = 8ull << 20;

struct Config {
  std::string bucket;
  std::string prefix;  // "" or ending in '/': prepended to every key
  std::string scheme;  // "https" or "http"
  std::string host;    // endpoint host[:port], without the bucket
  bool path_style = false;
  std::string region;
  Credentials credentials;
  uint64_t part_size = kDefaultPartSize;
  bool conditional_writes = false;
  uint32_t list_page_size = 0;
  std::string display;                // "s3://bucket/prefix"
  std::function<bool()> interrupted;  // Options::interrupted
};

// Looks up an environment variable (nullptr or "" when unset).
using Getenv = std::function<const char*(const char*)>;

// Parses REST ("bucket/prefix", the URL without "s3://") and reads the
// endpoint, region, credentials and switches from OPTIONS and the
// environment. Malformed input and missing credentials are kInvalidArgument.
Result<Config> make_config(const std::string& rest, const Options& options, const Getenv& getenv);

struct Request {
  std::string method;  // GET, HEAD, PUT, POST, DELETE
  std::string key;     // the full object key; "" addresses the bucket
  std::vector<std::pair<std::string, std::string>> query;    // unencoded
  std::vector<std::pair<std::string, std::string>> headers;  // sent and signed
  std::string_view body;                                     // must outlive the request
  std::size_t max_response = 16 << 20;  // a longer answer fails (never a whole payload)
  bool interruptible = true;            // false: Config::interrupted does not end it
  long timeout_seconds = 0;             // > 0: the whole request's limit (else stalls only)
};

struct Response {
  int transport_error = 0;        // a CURLcode; 0 when an HTTP answer came
  std::string transport_message;  // curl's words for it
  bool too_large = false;         // the answer passed Request::max_response
  long status = 0;
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;  // names lower case

  // The value of header NAME (lower case), or "".
  std::string header(std::string_view name) const;
};

// The URL and the signing input for REQ at UNIX_SECONDS, for tests and for
// Client. HEADERS gains host, x-amz-date, x-amz-content-sha256 and the
// session token.
struct PreparedRequest {
  std::string url;
  SigningInput signing;
  std::string authorization;
};
PreparedRequest prepare(const Config& config, const Request& req, long long unix_seconds);

// 5xx, 429, a 400 RequestTimeout, and transport failures other than TLS
// verification and bad URLs are worth another attempt.
bool is_transient(const Response& response);

struct RetryPolicy {
  int attempts = 4;
  std::chrono::milliseconds first_delay{200};  // doubled after each attempt, with jitter
};

// Calls ATTEMPT until it gives a non-transient answer or POLICY's attempts
// are used up, or STOP (if given) says so between attempts; returns the
// last answer. *ATTEMPTS_MADE (if given) says how many calls were made.
Response with_retry(const RetryPolicy& policy, const std::function<Response()>& attempt,
                    int* attempts_made = nullptr, const std::function<bool()>& stop = nullptr);

// The Status for a failed (non-2xx, transport or oversize) RESPONSE to an
// operation described by WHAT ("get edge/x from s3://b/edge"). 403 is
// kUnavailable naming the credential variables; 404 NoSuchBucket is
// kInvalidArgument; a missing object is kNotFound; 412 and 409 are
// kConflict; a request ended by Config::interrupted is kInterrupted; the
// rest kUnavailable (kInvalidArgument for other 4xx). Never
// includes credentials: only S3's Code and Message are quoted.
Status error_status(const Response& response, std::string_view what, const Config& config);

class Client {
 public:
  explicit Client(Config config, RetryPolicy retry = {});
  ~Client();
  Client(const Client&) = delete;
  Client& operator=(const Client&) = delete;

  const Config& config() const { return config_; }

  // One signed attempt.
  Response perform_once(const Request& req);
  // Signed attempts through with_retry; *ATTEMPTS_MADE as there.
  Response perform(const Request& req, int* attempts_made = nullptr);

 private:
  struct Handle;
  std::unique_ptr<Handle> take_handle();
  void give_back(std::unique_ptr<Handle> handle);

  Config config_;
  RetryPolicy retry_;
  std::mutex mu_;
  std::vector<std::unique_ptr<Handle>> idle_;
};

}  // namespace slip::location::s3
