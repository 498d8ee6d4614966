// kv::Client over cnats: connecting, and bucket administration.
#include <cstring>
#include <vector>

#include "nats/connection.h"
#include "nats/message.h"
#include "nats/nats_status.h"
#include "nats/nkey.h"

namespace slip::nats {

namespace {

// Removes every occurrence of the secrets in OPTIONS from TEXT: error texts
// from the library are shown to people and must never carry them.
std::string scrub(std::string text, const ConnectOptions& options) {
  std::vector<std::string> secrets{options.password, options.token};
  // Credentials written into a URL are secrets too.
  for (const std::string& url : options.servers) {
    auto scheme = url.find("://");
    auto start = scheme == std::string::npos ? 0 : scheme + 3;
    auto at = url.rfind('@');
    if (at != std::string::npos && at > start) {
      std::string userinfo = url.substr(start, at - start);
      auto colon = userinfo.find(':');
      secrets.push_back(colon == std::string::npos ? userinfo : userinfo.substr(colon + 1));
    }
  }
  for (const std::string& secret : secrets) {
    if (secret.empty()) continue;
    for (auto at = text.find(secret); at != std::string::npos; at = text.find(secret, at)) {
      text.replace(at, secret.size(), "***");
    }
  }
  return text;
}

std::string servers_for_display(const ConnectOptions& options) {
  std::string out;
  for (const std::string& s : options.servers) out += (out.empty() ? "" : ",") + redact_url(s);
  return out;
}

bool wants_tls(const ConnectOptions& options) {
  if (!options.tls_ca.empty() || !options.tls_cert.empty() || options.tls_first) return true;
  for (const std::string& s : options.servers) {
    if (s.rfind("tls://", 0) == 0) return true;
  }
  return false;
}

class NatsClient final : public kv::Client {
 public:
  explicit NatsClient(std::shared_ptr<Connection> conn) : conn_(std::move(conn)) {}

  Result<std::unique_ptr<kv::Bucket>> open_bucket(const std::string& name) override {
    SLIP_RETURN_IF_ERROR(kv::validate_bucket_name(name));
    auto status = bucket_status(*conn_, name);
    if (!status) {
      if (status.status().kind() == StatusKind::kNotFound) {
        return Status::not_found("bucket '" + name +
                                 "' does not exist (create it with 'slip kv add " + name + "')");
      }
      return status.status();
    }
    return make_bucket(conn_, name);
  }

  Result<std::unique_ptr<kv::Bucket>> create_bucket(const kv::BucketConfig& config) override {
    SLIP_RETURN_IF_ERROR(kv::validate_bucket_name(config.name));
    if (config.history < 1 || config.history > 64) {
      return Status::invalid_argument("history must be between 1 and 64");
    }
    kvConfig cfg;
    kvConfig_Init(&cfg);
    cfg.Bucket = config.name.c_str();
    cfg.Description = config.description.empty() ? nullptr : config.description.c_str();
    cfg.History = static_cast<uint8_t>(config.history);
    cfg.MaxBytes = config.max_bytes;
    // kvConfig.TTL goes into the stream's MaxAge unconverted: nanoseconds.
    cfg.TTL = std::chrono::duration_cast<std::chrono::nanoseconds>(config.max_age).count();
    cfg.MaxValueSize = config.max_value_size;
    cfg.Replicas = config.replicas;
    cfg.StorageType = config.memory_storage ? js_MemoryStorage : js_FileStorage;
    if (auto existing = bucket_status(*conn_, config.name); existing) {
      if (existing->history != config.history || existing->replicas != config.replicas ||
          existing->max_bytes != config.max_bytes || existing->max_age != config.max_age ||
          existing->memory_storage != config.memory_storage) {
        return Status::conflict("bucket '" + config.name +
                                "' already exists with other settings (see 'slip kv status " +
                                config.name + "')");
      }
      return make_bucket(conn_, config.name);
    }
    kvStore* kv = nullptr;
    natsStatus s = js_CreateKeyValue(&kv, conn_->js.get(), &cfg);
    if (kv != nullptr) kvStore_Destroy(kv);
    if (s != NATS_OK) return to_status(s, "create bucket " + config.name);
    return make_bucket(conn_, config.name);
  }

  Status delete_bucket(const std::string& name) override {
    SLIP_RETURN_IF_ERROR(kv::validate_bucket_name(name));
    natsStatus s = js_DeleteKeyValue(conn_->js.get(), name.c_str());
    if (s == NATS_NOT_FOUND) return Status::not_found("bucket '" + name + "' does not exist");
    return to_status(s, "delete bucket " + name);
  }

  Result<std::vector<kv::BucketStatus>> list_buckets() override {
    jsStreamInfoList* raw = nullptr;
    jsErrCode jerr = static_cast<jsErrCode>(0);
    natsStatus s = js_Streams(&raw, conn_->js.get(), nullptr, &jerr);
    StreamInfoListPtr list(raw);
    std::vector<kv::BucketStatus> out;
    if (s == NATS_NOT_FOUND) return out;  // no streams at all
    if (s != NATS_OK) return to_status(s, "list buckets", jerr);
    for (int i = 0; i < list->Count; ++i) {
      const char* name = list->List[i]->Config->Name;
      if (std::strncmp(name, "KV_", 3) != 0) continue;
      auto status = bucket_status(*conn_, name + 3);
      if (status) out.push_back(*status);
    }
    return out;
  }

 private:
  std::shared_ptr<Connection> conn_;
};

}  // namespace

Result<kv::BucketStatus> bucket_status(Connection& conn, const std::string& bucket) {
  jsStreamInfo* raw = nullptr;
  jsErrCode jerr = static_cast<jsErrCode>(0);
  natsStatus s = js_GetStreamInfo(&raw, conn.js.get(), stream_name(bucket).c_str(), nullptr, &jerr);
  StreamInfoPtr info(raw);
  if (s != NATS_OK) return to_status(s, "bucket " + bucket, jerr);
  kv::BucketStatus st;
  st.name = bucket;
  st.values = info->State.Msgs;
  st.bytes = info->State.Bytes;
  st.first_sequence = info->State.FirstSeq;
  st.last_sequence = info->State.LastSeq;
  st.created_ns = info->Created;
  st.history = static_cast<int>(info->Config->MaxMsgsPerSubject);
  st.max_bytes = info->Config->MaxBytes;
  st.max_age = std::chrono::seconds(info->Config->MaxAge / 1000000000);
  st.replicas = static_cast<int>(info->Config->Replicas);
  st.memory_storage = info->Config->Storage == js_MemoryStorage;
  return st;
}

std::string filter_subject(const std::string& bucket, const kv::Scope& scope) {
  std::string base = subject_prefix(bucket);
  if (scope.prefixes.size() != 1) return base + ">";
  const std::string& p = scope.prefixes.front();
  auto dot = p.find_last_of('.');
  if (dot == std::string::npos) return base + ">";
  return base + p.substr(0, dot + 1) + ">";
}

Result<std::unique_ptr<kv::Client>> connect(const ConnectOptions& options) {
  natsOptions* raw = nullptr;
  if (natsOptions_Create(&raw) != NATS_OK)
    return Status::unavailable("cannot allocate NATS options");
  OptionsPtr opts(raw);
  std::vector<const char*> urls;
  for (const std::string& s : options.servers) urls.push_back(s.c_str());
  const std::string shown = servers_for_display(options);
  auto fail = [&](natsStatus s, const std::string& what) {
    Status st = to_status(s, what);
    return Status(st.kind() == StatusKind::kInvalidArgument
                      ? Status::invalid_argument(scrub(st.message(), options))
                      : Status::unavailable(scrub(st.message(), options)));
  };
  natsStatus s = natsOptions_SetServers(opts.get(), urls.data(), static_cast<int>(urls.size()));
  if (s != NATS_OK) return fail(s, "server URL " + shown);
  natsOptions_SetName(opts.get(), options.name.c_str());
  natsOptions_SetTimeout(opts.get(), options.timeout.count());
  natsOptions_SetNoRandomize(opts.get(), true);
  natsOptions_SetAllowReconnect(opts.get(), true);
  natsOptions_SetMaxReconnect(opts.get(), options.reconnect_forever ? -1 : 60);
  natsOptions_SetReconnectWait(opts.get(), 250);
  natsOptions_SetReconnectJitter(opts.get(), 100, 1000);
  natsOptions_SetReconnectBufSize(opts.get(), 8 * 1024 * 1024);
  if (!options.user.empty())
    natsOptions_SetUserInfo(opts.get(), options.user.c_str(), options.password.c_str());
  if (!options.token.empty()) natsOptions_SetToken(opts.get(), options.token.c_str());
  if (!options.creds_file.empty()) {
    s = natsOptions_SetUserCredentialsFromFiles(opts.get(), options.creds_file.c_str(), nullptr);
    if (s != NATS_OK) return fail(s, "credentials file " + options.creds_file);
  }
  if (!options.nkey_seed_file.empty()) {
    auto pub = nkey_public_from_seed_file(options.nkey_seed_file);
    if (!pub) return pub.status();
    s = natsOptions_SetNKeyFromSeed(opts.get(), pub->c_str(), options.nkey_seed_file.c_str());
    if (s != NATS_OK) return fail(s, "nkey seed file " + options.nkey_seed_file);
  }
  if (wants_tls(options)) {
    natsOptions_SetSecure(opts.get(), true);  // verifies the server certificate
    if (!options.tls_ca.empty()) {
      s = natsOptions_LoadCATrustedCertificates(opts.get(), options.tls_ca.c_str());
      if (s != NATS_OK) return fail(s, "TLS CA file " + options.tls_ca);
    }
    if (!options.tls_cert.empty() || !options.tls_key.empty()) {
      s = natsOptions_LoadCertificatesChain(opts.get(), options.tls_cert.c_str(),
                                            options.tls_key.c_str());
      if (s != NATS_OK) return fail(s, "TLS certificate " + options.tls_cert);
    }
  }
  if (options.tls_first) {
    return Status::not_supported("--tlsfirst needs cnats 3.7 or later; this build has cnats " +
                                 std::string(nats_GetVersion()));
  }

  natsConnection* nc = nullptr;
  s = natsConnection_Connect(&nc, opts.get());
  auto conn = std::make_shared<Connection>();
  conn->nc.reset(nc);
  if (s != NATS_OK) return fail(s, "connect to " + shown);
  jsOptions jo;
  jsOptions_Init(&jo);
  jo.Wait = options.timeout.count();
  conn->wait_ms = jo.Wait;
  jsCtx* js = nullptr;
  s = natsConnection_JetStream(&js, conn->nc.get(), &jo);
  conn->js.reset(js);
  if (s != NATS_OK) return fail(s, "JetStream on " + shown);
  return std::unique_ptr<kv::Client>(new NatsClient(std::move(conn)));
}

}  // namespace slip::nats
