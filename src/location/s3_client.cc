#include "location/s3_client.h"

#include <curl/curl.h>

#include <algorithm>
#include <cctype>
#include <ctime>
#include <mutex>
#include <optional>
#include <random>
#include <string_view>
#include <thread>

#include "location/digest.h"
#include "location/s3_xml.h"

namespace slip::location::s3 {

namespace {

constexpr long kConnectTimeoutSeconds = 10;
// A transfer slower than 1 byte/s for this long is a timeout; there is no
// total limit, since a part on a slow link may take minutes.
constexpr long kStallSeconds = 60;
constexpr std::size_t kIdleHandles = 4;

std::string env_or(const Getenv& getenv, const char* name, const std::string& fallback = "") {
  const char* v = getenv(name);
  return v != nullptr && *v != '\0' ? std::string(v) : fallback;
}

// SLIP_S3_CONDITIONAL_WRITES: unset (nullopt), on or off; anything else is
// refused rather than read as "off", which would silently weaken the
// pointer's guarantee.
Result<std::optional<bool>> conditional_writes_setting(std::string v) {
  for (char& c : v) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (v.empty()) return std::optional<bool>();
  if (v == "1" || v == "true" || v == "yes" || v == "on") return std::optional<bool>(true);
  if (v == "0" || v == "false" || v == "no" || v == "off") return std::optional<bool>(false);
  return Status::invalid_argument("SLIP_S3_CONDITIONAL_WRITES='" + v +
                                  "' is not understood: set it to 1 or 0");
}

// AWS S3 itself enforces If-None-Match and If-Match on PUT since 2024, so
// there the guarantee needs no statement. Only S3's own regional endpoints
// count (s3.REGION.amazonaws.com, s3.dualstack.REGION..., s3-fips.REGION...):
// other *.amazonaws.com hosts (an EC2 instance, a load balancer) may front a
// server that ignores the headers.
bool is_aws_s3_host(std::string_view host_port) {
  std::string host(host_port.substr(0, host_port.find(':')));
  for (char& c : host) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  constexpr std::string_view kSuffix = ".amazonaws.com";
  if (host.size() <= kSuffix.size() ||
      host.compare(host.size() - kSuffix.size(), kSuffix.size(), kSuffix) != 0)
    return false;
  return host.rfind("s3.", 0) == 0 || host.rfind("s3-fips.", 0) == 0;
}

bool valid_bucket(std::string_view b) {
  if (b.empty() || b.size() > 255) return false;
  return std::all_of(b.begin(), b.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
           c == '-' || c == '_';
  });
}

// "http(s)://host[:port][/]" into scheme and host[:port].
Status parse_endpoint(const std::string& endpoint, Config* config) {
  auto sep = endpoint.find("://");
  std::string scheme = sep == std::string::npos ? "" : endpoint.substr(0, sep);
  for (char& c : scheme) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (scheme != "http" && scheme != "https") {
    return Status::invalid_argument("S3 endpoint '" + endpoint +
                                    "' must start with https:// (or http://)");
  }
  std::string host = endpoint.substr(sep + 3);
  while (!host.empty() && host.back() == '/') host.pop_back();
  if (host.find('@') != std::string::npos) {
    return Status::invalid_argument(
        "S3 endpoint must not hold credentials: use AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY");
  }
  if (host.empty() || host.find_first_of("/?#") != std::string::npos) {
    return Status::invalid_argument("S3 endpoint '" + endpoint +
                                    "' must be scheme://host[:port] without a path");
  }
  config->scheme = scheme;
  config->host = host;
  return Status::ok();
}

std::once_flag curl_init_once;

}  // namespace

Result<Config> make_config(const std::string& rest, const Options& options, const Getenv& getenv) {
  Config config;
  config.display = "s3://" + rest;
  auto slash = rest.find('/');
  std::string bucket = rest.substr(0, slash);
  if (bucket.find('@') != std::string::npos) {
    return Status::invalid_argument(
        "s3:// URLs do not take credentials: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY");
  }
  if (rest.find_first_of("?#") != std::string::npos) {
    return Status::invalid_argument("s3 location s3://" + rest.substr(0, rest.find_first_of("?#")) +
                                    "...: no query or fragment allowed; use s3://bucket/prefix");
  }
  if (!valid_bucket(bucket)) {
    return Status::invalid_argument("s3 location " + config.display +
                                    ": expected s3://bucket/prefix with a bucket name of letters, "
                                    "digits, '.', '-' or '_'");
  }
  config.bucket = bucket;
  std::string prefix = slash == std::string::npos ? "" : rest.substr(slash + 1);
  while (!prefix.empty() && prefix.front() == '/') prefix.erase(0, 1);
  while (!prefix.empty() && prefix.back() == '/') prefix.pop_back();
  config.prefix = prefix.empty() ? "" : prefix + "/";

  config.region = env_or(getenv, "AWS_REGION", env_or(getenv, "AWS_DEFAULT_REGION", "us-east-1"));
  std::string endpoint = options.endpoint;
  if (endpoint.empty()) endpoint = env_or(getenv, "AWS_ENDPOINT_URL_S3");
  if (endpoint.empty()) endpoint = env_or(getenv, "AWS_ENDPOINT_URL");
  const bool custom = !endpoint.empty();
  if (!custom) endpoint = "https://s3." + config.region + ".amazonaws.com";
  SLIP_RETURN_IF_ERROR(parse_endpoint(endpoint, &config));
  config.path_style = options.path_style || (custom && !options.virtual_hosted) ||
                      (config.scheme == "https" && bucket.find('.') != std::string::npos);

  config.credentials.access_key = env_or(getenv, "AWS_ACCESS_KEY_ID");
  config.credentials.secret_key = env_or(getenv, "AWS_SECRET_ACCESS_KEY");
  config.credentials.session_token = env_or(getenv, "AWS_SESSION_TOKEN");
  if (config.credentials.access_key.empty() || config.credentials.secret_key.empty()) {
    return Status::invalid_argument("no credentials for " + config.display +
                                    ": set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY");
  }
  if (options.part_size > (5ull << 30)) {
    return Status::invalid_argument("S3 part size above 5 GiB");
  }
  config.part_size = options.part_size != 0 ? options.part_size : kDefaultPartSize;
  auto stated = conditional_writes_setting(env_or(getenv, "SLIP_S3_CONDITIONAL_WRITES"));
  if (!stated.is_ok()) return stated.status();
  config.conditional_writes =
      options.conditional_writes || stated->value_or(is_aws_s3_host(config.host));
  config.list_page_size = options.list_page_size;
  config.interrupted = options.interrupted;
  return config;
}

std::string Response::header(std::string_view name) const {
  for (const auto& [n, v] : headers) {
    if (n == name) return v;
  }
  return "";
}

PreparedRequest prepare(const Config& config, const Request& req, long long unix_seconds) {
  PreparedRequest out;
  std::string host;
  std::string uri;
  if (config.path_style) {
    host = config.host;
    uri = "/" + config.bucket + (req.key.empty() ? "" : "/" + uri_encode(req.key, false));
  } else {
    host = config.bucket + "." + config.host;
    uri = "/" + uri_encode(req.key, false);
  }
  SigningInput& s = out.signing;
  s.method = req.method;
  s.canonical_uri = uri;
  s.canonical_query = canonical_query_string(req.query);
  s.payload_hash = sha256_hex(req.body);
  s.amz_date = amz_date(unix_seconds);
  s.region = config.region;
  s.headers = req.headers;
  s.headers.emplace_back("host", host);
  s.headers.emplace_back("x-amz-date", s.amz_date);
  s.headers.emplace_back("x-amz-content-sha256", s.payload_hash);
  if (!config.credentials.session_token.empty()) {
    s.headers.emplace_back("x-amz-security-token", config.credentials.session_token);
  }
  out.url = config.scheme + "://" + host + uri +
            (s.canonical_query.empty() ? "" : "?" + s.canonical_query);
  out.authorization = authorization_header(s, config.credentials);
  return out;
}

bool is_transient(const Response& r) {
  if (r.too_large) return false;
  if (r.transport_error != 0) {
    switch (r.transport_error) {
      case CURLE_URL_MALFORMAT:
      case CURLE_UNSUPPORTED_PROTOCOL:
      case CURLE_PEER_FAILED_VERIFICATION:
      case CURLE_SSL_CACERT_BADFILE:
      case CURLE_SSL_CERTPROBLEM:
      case CURLE_ABORTED_BY_CALLBACK:
      case CURLE_OUT_OF_MEMORY: return false;
      default: return true;
    }
  }
  if (r.status >= 500 || r.status == 429) return true;
  return r.status == 400 && xml_text(r.body, "Code").value_or("") == "RequestTimeout";
}

Response with_retry(const RetryPolicy& policy, const std::function<Response()>& attempt,
                    int* attempts_made, const std::function<bool()>& stop) {
  thread_local std::minstd_rand rng(std::random_device{}());
  auto delay = policy.first_delay;
  Response response;
  int n = 0;
  for (;;) {
    response = attempt();
    ++n;
    if (!is_transient(response) || n >= policy.attempts) break;
    if (stop && stop()) {
      // Reported as the interruption it is, not as the transient failure.
      response.transport_error = CURLE_ABORTED_BY_CALLBACK;
      response.transport_message = "interrupted";
      break;
    }
    // Full jitter in [delay/2, delay*3/2): clients that failed together do
    // not come back together.
    auto ms = delay.count();
    if (ms > 0) {
      std::uniform_int_distribution<long long> jitter(ms / 2, ms + ms / 2);
      std::this_thread::sleep_for(std::chrono::milliseconds(jitter(rng)));
    }
    delay *= 2;
  }
  if (attempts_made != nullptr) *attempts_made = n;
  return response;
}

Status error_status(const Response& r, std::string_view what_view, const Config& config) {
  const std::string what(what_view);
  if (r.too_large) {
    return Status::unavailable(what + ": the server's answer is larger than expected");
  }
  if (r.transport_error == CURLE_ABORTED_BY_CALLBACK)
    return Status::interrupted(what + ": interrupted");
  if (r.transport_error != 0) {
    return Status::unavailable(what + ": cannot reach " + config.scheme + "://" + config.host +
                               ": " + r.transport_message);
  }
  const std::string code = xml_text(r.body, "Code").value_or("");
  const std::string message = xml_text(r.body, "Message").value_or("");
  std::string detail = code.empty() ? "HTTP " + std::to_string(r.status) : code;
  if (!message.empty()) detail += ": " + message;
  const std::string creds = config.credentials.session_token.empty()
                                ? "AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY"
                                : "AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY/AWS_SESSION_TOKEN";
  if (r.status == 403) {
    if (code == "RequestTimeTooSkewed") {
      return Status::unavailable(what + ": the server refused the request time (" + detail +
                                 "): check this machine's clock");
    }
    return Status::unavailable(what + ": access denied (" + detail + "): check " + creds +
                               " and the bucket's permissions");
  }
  if (r.status == 404) {
    if (code == "NoSuchBucket") {
      return Status::invalid_argument(what + ": bucket " + config.bucket +
                                      " does not exist: check the s3:// URL, the region "
                                      "(AWS_REGION) and the endpoint");
    }
    if (code == "NoSuchUpload") {
      return Status::unavailable(what + ": the multipart upload is gone (" + detail + ")");
    }
    return Status::not_found(what + ": no such object");
  }
  if (r.status == 412 || r.status == 409) {
    return Status::conflict(what + ": the object changed or already exists (" + detail + ")");
  }
  if (r.status == 301 || r.status == 307 || code == "PermanentRedirect" ||
      code == "AuthorizationHeaderMalformed") {
    std::string region = r.header("x-amz-bucket-region");
    if (region.empty()) region = xml_text(r.body, "Region").value_or("");
    return Status::invalid_argument(
        what + ": the bucket is in another region" +
        (region.empty() ? ": set AWS_REGION" : " (" + region + "): set AWS_REGION=" + region) +
        " (" + detail + ")");
  }
  if (r.status == 501) {
    return Status::not_supported(what + ": the server does not implement this (" + detail + ")");
  }
  if (r.status >= 400 && r.status < 500) return Status::invalid_argument(what + ": " + detail);
  return Status::unavailable(what + ": " + detail);
}

// ---- Client ----

struct Client::Handle {
  CURL* curl = nullptr;
  char error[CURL_ERROR_SIZE] = {0};
  ~Handle() {
    if (curl != nullptr) curl_easy_cleanup(curl);
  }
};

Client::Client(Config config, RetryPolicy retry) : config_(std::move(config)), retry_(retry) {
  std::call_once(curl_init_once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
}

Client::~Client() = default;

std::unique_ptr<Client::Handle> Client::take_handle() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (!idle_.empty()) {
      auto h = std::move(idle_.back());
      idle_.pop_back();
      return h;
    }
  }
  auto h = std::make_unique<Handle>();
  h->curl = curl_easy_init();
  return h;
}

void Client::give_back(std::unique_ptr<Handle> handle) {
  std::lock_guard<std::mutex> lock(mu_);
  if (idle_.size() < kIdleHandles) idle_.push_back(std::move(handle));
}

namespace {

struct Transfer {
  Response* response;
  std::size_t max_response;
  std::string_view body;
  std::size_t sent = 0;
  const std::function<bool()>* interrupted = nullptr;  // set: polled by on_progress
};

// curl calls this about once a second while waiting, and as data moves.
int on_progress(void* user, curl_off_t, curl_off_t, curl_off_t, curl_off_t) {
  const auto* t = static_cast<const Transfer*>(user);
  return (*t->interrupted)() ? 1 : 0;  // non-zero: CURLE_ABORTED_BY_CALLBACK
}

size_t on_body(char* data, size_t size, size_t n, void* user) {
  auto* t = static_cast<Transfer*>(user);
  std::size_t len = size * n;
  if (t->response->body.size() + len > t->max_response) {
    t->response->too_large = true;
    return 0;  // makes curl fail the transfer with CURLE_WRITE_ERROR
  }
  t->response->body.append(data, len);
  return len;
}

size_t on_header(char* data, size_t size, size_t n, void* user) {
  auto* t = static_cast<Transfer*>(user);
  std::size_t len = size * n;
  std::string_view line(data, len);
  while (!line.empty() && (line.back() == '\n' || line.back() == '\r')) line.remove_suffix(1);
  if (line.substr(0, 5) == "HTTP/") {
    t->response->headers.clear();  // a new status line: "100 Continue" then the real one
    return len;
  }
  auto colon = line.find(':');
  if (colon == std::string_view::npos) return len;
  std::string name(line.substr(0, colon));
  for (char& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  std::string_view value = line.substr(colon + 1);
  while (!value.empty() && value.front() == ' ') value.remove_prefix(1);
  t->response->headers.emplace_back(std::move(name), std::string(value));
  return len;
}

size_t on_read(char* buffer, size_t size, size_t n, void* user) {
  auto* t = static_cast<Transfer*>(user);
  std::size_t len = std::min(size * n, t->body.size() - t->sent);
  std::copy_n(t->body.data() + t->sent, len, buffer);
  t->sent += len;
  return len;
}

// A retried request must send its body again from the start.
int on_seek(void* user, curl_off_t offset, int origin) {
  auto* t = static_cast<Transfer*>(user);
  if (origin != SEEK_SET || offset < 0 || static_cast<std::size_t>(offset) > t->body.size()) {
    return CURL_SEEKFUNC_CANTSEEK;
  }
  t->sent = static_cast<std::size_t>(offset);
  return CURL_SEEKFUNC_OK;
}

struct SlistFree {
  void operator()(curl_slist* l) const { curl_slist_free_all(l); }
};

}  // namespace

Response Client::perform_once(const Request& req) {
  Response response;
  PreparedRequest prepared = prepare(config_, req, static_cast<long long>(std::time(nullptr)));
  auto handle = take_handle();
  if (handle->curl == nullptr) {
    response.transport_error = CURLE_FAILED_INIT;
    response.transport_message = "cannot start libcurl";
    return response;
  }
  CURL* curl = handle->curl;
  curl_easy_reset(curl);  // keeps the connection cache
  handle->error[0] = '\0';

  std::unique_ptr<curl_slist, SlistFree> headers;
  auto add = [&](const std::string& line) {
    curl_slist* next = curl_slist_append(headers.get(), line.c_str());
    if (next != nullptr) {
      (void)headers.release();
      headers.reset(next);
    }
  };
  bool has_content_type = false;
  for (const auto& [name, value] : prepared.signing.headers) {
    add(name + ": " + value);
    std::string lower = name;
    for (char& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    has_content_type = has_content_type || lower == "content-type";
  }
  add("Authorization: " + prepared.authorization);
  add("Expect:");  // no 100-continue round trip (and its 1 s stall on servers without it)
  if (!has_content_type) add("Content-Type:");  // curl's form type would become the object's

  Transfer transfer{&response, req.max_response, req.body};
  const bool interruptible = req.interruptible && config_.interrupted;
  if (interruptible) transfer.interrupted = &config_.interrupted;
  curl_easy_setopt(curl, CURLOPT_URL, prepared.url.c_str());
  curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers.get());
  curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, handle->error);
  curl_easy_setopt(curl, CURLOPT_VERBOSE, 0L);  // verbose output would show Authorization
  curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(curl, CURLOPT_NOPROGRESS, interruptible ? 0L : 1L);
  curl_easy_setopt(curl, CURLOPT_XFERINFOFUNCTION, interruptible ? on_progress : nullptr);
  curl_easy_setopt(curl, CURLOPT_XFERINFODATA, interruptible ? &transfer : nullptr);
  curl_easy_setopt(curl, CURLOPT_PATH_AS_IS, 1L);  // keys may hold "." or ".." segments
  curl_easy_setopt(curl, CURLOPT_FOLLOWLOCATION, 0L);
  curl_easy_setopt(curl, CURLOPT_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(curl, CURLOPT_SSL_VERIFYPEER, 1L);
  curl_easy_setopt(curl, CURLOPT_SSL_VERIFYHOST, 2L);
  curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT, kConnectTimeoutSeconds);
  curl_easy_setopt(curl, CURLOPT_LOW_SPEED_LIMIT, 1L);
  curl_easy_setopt(curl, CURLOPT_LOW_SPEED_TIME, kStallSeconds);
  curl_easy_setopt(curl, CURLOPT_TIMEOUT, req.timeout_seconds);  // handles are reused: always set
  curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, on_body);
  curl_easy_setopt(curl, CURLOPT_WRITEDATA, &transfer);
  curl_easy_setopt(curl, CURLOPT_HEADERFUNCTION, on_header);
  curl_easy_setopt(curl, CURLOPT_HEADERDATA, &transfer);
  if (req.method == "HEAD") {
    curl_easy_setopt(curl, CURLOPT_NOBODY, 1L);
  } else if (req.method == "PUT") {
    curl_easy_setopt(curl, CURLOPT_UPLOAD, 1L);
    curl_easy_setopt(curl, CURLOPT_INFILESIZE_LARGE, static_cast<curl_off_t>(req.body.size()));
    curl_easy_setopt(curl, CURLOPT_READFUNCTION, on_read);
    curl_easy_setopt(curl, CURLOPT_READDATA, &transfer);
    curl_easy_setopt(curl, CURLOPT_SEEKFUNCTION, on_seek);
    curl_easy_setopt(curl, CURLOPT_SEEKDATA, &transfer);
  } else if (req.method == "POST") {
    curl_easy_setopt(curl, CURLOPT_POST, 1L);
    // Never NULL: that would make curl read the body from stdin.
    curl_easy_setopt(curl, CURLOPT_POSTFIELDS, req.body.empty() ? "" : req.body.data());
    curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(req.body.size()));
  } else if (req.method != "GET") {
    curl_easy_setopt(curl, CURLOPT_CUSTOMREQUEST, req.method.c_str());
  }

  CURLcode rc = curl_easy_perform(curl);
  if (rc != CURLE_OK && !response.too_large) {
    response.transport_error = rc;
    response.transport_message = handle->error[0] != '\0' ? handle->error : curl_easy_strerror(rc);
  }
  if (rc == CURLE_OK) curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &response.status);
  // CompleteMultipartUpload may answer 200 and then report an error in the
  // body; it counts as the server error it is (and is retried as one).
  if (rc == CURLE_OK && req.method == "POST" && response.status == 200 &&
      response.body.find("<Error>") != std::string::npos) {
    response.status = 500;
  }
  curl_easy_setopt(curl, CURLOPT_HTTPHEADER, nullptr);
  curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, nullptr);
  give_back(std::move(handle));
  return response;
}

Response Client::perform(const Request& req, int* attempts_made) {
  std::function<bool()> stop;
  if (req.interruptible) stop = config_.interrupted;
  return with_retry(
      retry_, [&] { return perform_once(req); }, attempts_made, stop);
}

}  // namespace slip::location::s3
