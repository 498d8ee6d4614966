// kv::Client over cnats: connecting, and bucket administration.
#include <algorithm>
#include <cstring>
#include <limits>
#include <type_traits>
#include <vector>

#include "core/time_format.h"
#include "nats/bucket_create.h"
#include "nats/capabilities.h"
#include "nats/connection.h"
#include "nats/creds.h"
#include "nats/js_api.h"
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

// Whether a bucket sourcing from HAVE (stream names) sources from exactly
// the buckets WANT names, in any order and either spelling.
bool same_sources(std::vector<std::string> have, const std::vector<std::string>& want) {
  std::vector<std::string> streams;
  for (const std::string& w : want) streams.push_back(bucket_stream(w));
  std::sort(have.begin(), have.end());
  std::sort(streams.begin(), streams.end());
  return have == streams;
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
    auto subjects = subject_bucket(*status);
    if (!subjects) return subjects.status();
    auto bucket = make_bucket(conn_, name, std::move(*subjects));
    if (status->allow_msg_counter) bucket = refuse_writes_to_counter(std::move(bucket));
    return bucket;
  }

  Result<std::unique_ptr<kv::Bucket>> create_bucket(const kv::BucketConfig& config) override {
    SLIP_RETURN_IF_ERROR(kv::validate_bucket_name(config.name));
    if (config.history < 1 || config.history > 64) {
      return Status::invalid_argument("history must be between 1 and 64");
    }
    const bool markers = config.marker_ttl.count() != 0;
    if (markers) {
      if (config.marker_ttl < std::chrono::seconds(1)) {
        return Status::invalid_argument("the limit-marker TTL must be at least 1s");
      }
      SLIP_RETURN_IF_ERROR(require_2_11(*conn_, "limit markers"));
    }
    if (auto existing = bucket_status(*conn_, config.name); existing) {
      if (existing->history != config.history || existing->replicas != config.replicas ||
          existing->max_bytes != config.max_bytes || existing->max_age != config.max_age ||
          existing->memory_storage != config.memory_storage ||
          existing->marker_ttl_ns != config.marker_ttl.count() ||
          existing->allow_msg_ttl != markers ||
          existing->max_value_size != config.max_value_size ||
          (existing->compression == "s2") != config.compress ||
          existing->mirror != (config.mirror.empty() ? "" : bucket_stream(config.mirror)) ||
          !same_sources(existing->sources, config.sources)) {
        return Status::conflict("bucket '" + config.name +
                                "' already exists with other settings (see 'slip kv status " +
                                config.name + "')");
      }
      auto subjects = subject_bucket(*existing);
      if (!subjects) return subjects.status();
      return make_bucket(conn_, config.name, std::move(*subjects));
    }
    SLIP_RETURN_IF_ERROR(create_bucket_stream(*conn_, config));
    if (config.mirror.empty()) return make_bucket(conn_, config.name, config.name);
    // A mirror's messages carry its origin's subjects.
    std::string origin = bucket_stream(config.mirror).substr(3);
    return make_bucket(conn_, config.name, std::move(origin));
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

// Read through the raw API rather than js_GetStreamInfo: cnats 3.4 knows
// none of the settings of nats-server 2.11 and later, and a fold's
// correctness depends on them (see kv::BucketStatus::removes_silently).
Result<kv::BucketStatus> bucket_status(Connection& conn, const std::string& bucket) {
  auto info = js_api_request(conn, "STREAM.INFO." + stream_name(bucket), "", "bucket " + bucket);
  if (!info) return info.status();
  const nlohmann::json& j = *info;
  const nlohmann::json config = j.value("config", nlohmann::json::object());
  const nlohmann::json state = j.value("state", nlohmann::json::object());
  if (!config.is_object() || !state.is_object()) {
    return Status::unavailable("bucket " + bucket + ": the server's stream information has no " +
                               "config or state");
  }
  // Absent, null or mistyped fields read as their defaults: older servers
  // leave out what they do not have.
  // A number out of the field's range (a negative count, an overflow)
  // reads as the default too, never as a wrapped value.
  auto num = [](const nlohmann::json& o, const char* name, auto fallback) {
    using T = decltype(fallback);
    auto it = o.find(name);
    if (it == o.end()) return fallback;
    if (it->is_number_unsigned()) {
      const auto v = it->get<std::uint64_t>();
      return v <= static_cast<std::uint64_t>(std::numeric_limits<T>::max()) ? static_cast<T>(v)
                                                                            : fallback;
    }
    if (it->is_number_integer()) {
      const auto v = it->get<std::int64_t>();
      if constexpr (std::is_unsigned_v<T>) {
        return v >= 0 ? static_cast<T>(v) : fallback;
      } else {
        return v >= std::numeric_limits<T>::min() && v <= std::numeric_limits<T>::max()
                   ? static_cast<T>(v)
                   : fallback;
      }
    }
    return fallback;
  };
  auto str = [](const nlohmann::json& o, const char* name) {
    auto it = o.find(name);
    return it != o.end() && it->is_string() ? it->get<std::string>() : std::string();
  };
  kv::BucketStatus st;
  st.name = bucket;
  st.values = num(state, "messages", std::uint64_t{0});
  st.bytes = num(state, "bytes", std::uint64_t{0});
  st.first_sequence = num(state, "first_seq", std::uint64_t{0});
  st.last_sequence = num(state, "last_seq", std::uint64_t{0});
  st.subjects = num(state, "num_subjects", std::uint64_t{0});
  st.max_msgs = num(config, "max_msgs", std::int64_t{-1});
  st.discard_old = str(config, "discard") != "new";  // the server's default is old
  st.created_ns = parse_rfc3339(str(j, "created")).value_or(0);
  st.history = static_cast<int>(num(config, "max_msgs_per_subject", std::int64_t{0}));
  st.max_bytes = num(config, "max_bytes", std::int64_t{-1});
  st.max_age_ns = num(config, "max_age", std::int64_t{0});
  st.max_age = std::chrono::seconds(st.max_age_ns / 1000000000);
  st.max_value_size = num(config, "max_msg_size", std::int32_t{-1});
  st.replicas = static_cast<int>(num(config, "num_replicas", std::int64_t{1}));
  st.memory_storage = str(config, "storage") == "memory";
  st.description = str(config, "description");
  auto it = config.find("allow_msg_ttl");
  st.allow_msg_ttl = it != config.end() && it->is_boolean() && it->get<bool>();
  st.marker_ttl_ns = num(config, "subject_delete_marker_ttl", std::int64_t{0});
  auto counter = config.find("allow_msg_counter");
  st.allow_msg_counter = counter != config.end() && counter->is_boolean() && counter->get<bool>();
  if (std::string c = str(config, "compression"); !c.empty()) st.compression = c;
  if (auto m = config.find("mirror"); m != config.end() && m->is_object()) {
    st.mirror = str(*m, "name");
    if (auto ext = m->find("external"); ext != m->end() && ext->is_object())
      st.mirror_external = str(*ext, "api");
  }
  if (auto srcs = config.find("sources"); srcs != config.end() && srcs->is_array()) {
    for (const auto& src : *srcs) {
      if (src.is_object()) st.sources.push_back(str(src, "name"));
    }
  }
  auto source_state = [&](const nlohmann::json& o) {
    kv::StreamSource src;
    src.name = str(o, "name");
    if (auto ext = o.find("external"); ext != o.end() && ext->is_object())
      src.external_api = str(*ext, "api");
    src.lag = num(o, "lag", std::uint64_t{0});
    src.active_ns = num(o, "active", std::int64_t{-1});
    return src;
  };
  if (auto m = j.find("mirror"); m != j.end() && m->is_object()) st.mirror_state = source_state(*m);
  if (auto srcs = j.find("sources"); srcs != j.end() && srcs->is_array()) {
    for (const auto& src : *srcs) {
      if (src.is_object()) st.source_states.push_back(source_state(src));
    }
  }
  if (auto p = config.find("placement"); p != config.end() && p->is_object()) {
    st.placement_cluster = str(*p, "cluster");
    if (auto tags = p->find("tags"); tags != p->end() && tags->is_array()) {
      for (const auto& tag : *tags) {
        if (tag.is_string()) st.placement_tags.push_back(tag.get<std::string>());
      }
    }
  }
  if (auto r = config.find("republish"); r != config.end() && r->is_object()) {
    st.republish_source = str(*r, "src");
    st.republish_dest = str(*r, "dest");
    auto h = r->find("headers_only");
    st.republish_headers_only = h != r->end() && h->is_boolean() && h->get<bool>();
  }
  if (auto c = j.find("cluster"); c != j.end() && c->is_object()) {
    st.cluster_name = str(*c, "name");
    st.cluster_leader = str(*c, "leader");
    if (auto reps = c->find("replicas"); reps != c->end() && reps->is_array()) {
      for (const auto& r : *reps) {
        if (!r.is_object()) continue;
        kv::Replica rep;
        rep.name = str(r, "name");
        auto flag = [&](const char* f) {
          auto it = r.find(f);
          return it != r.end() && it->is_boolean() && it->get<bool>();
        };
        rep.current = flag("current");
        rep.offline = flag("offline");
        rep.lag = num(r, "lag", std::uint64_t{0});
        st.cluster_replicas.push_back(rep);
      }
    }
  }
  if (auto md = config.find("metadata"); md != config.end() && md->is_object()) {
    for (const auto& [k, v] : md->items()) {
      // The server's own entries (_nats.ver, _nats.level, ...) are not the user's.
      if (k.rfind("_nats.", 0) != 0 && v.is_string()) st.metadata[k] = v.get<std::string>();
    }
    st.server_version = str(*md, "_nats.ver");
    std::string level = str(*md, "_nats.level");
    if (!level.empty() && level.size() < 6 && level.find_first_not_of("0123456789") == std::string::npos)
      st.api_level = std::stoi(level);
  }
  return st;
}

Result<std::string> subject_bucket(const kv::BucketStatus& st) {
  if (st.mirror.empty()) return st.name;
  if (!st.mirror_external.empty()) {
    return Status::invalid_argument("bucket " + st.name + " mirrors " + st.mirror +
                                 " in another JetStream domain (API prefix " +
                                 st.mirror_external + "); slip cannot read such a mirror yet: "
                                 "read the origin bucket in its own domain");
  }
  if (st.mirror.rfind("KV_", 0) != 0 || st.mirror.size() == 3) {
    return Status::invalid_argument("bucket " + st.name + " mirrors the stream " + st.mirror +
                                 ", which is not a KV bucket's stream");
  }
  return st.mirror.substr(3);
}

std::string filter_subject(const std::string& subjects, const kv::Scope& scope) {
  std::string base = subject_prefix(subjects);
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
  std::shared_ptr<UserCredentials> creds;
  if (!options.creds_content.empty()) {
    if (!options.creds_file.empty()) {
      return Status::invalid_argument("both a credentials file and " + options.creds_source +
                                      " are given: use one");
    }
    creds = std::make_shared<UserCredentials>();
    SLIP_RETURN_IF_ERROR(
        parse_user_credentials(options.creds_content, options.creds_source, creds.get()));
    s = use_user_credentials(opts.get(), creds.get());
    if (s != NATS_OK) return fail(s, "credentials from " + options.creds_source);
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
  conn->creds = std::move(creds);
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
