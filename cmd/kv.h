// `slip kv ...`: get/put/CAS/keys and bucket administration for shell
// scripts. Each subcommand is in cmd/kv_<name>.cc.
#pragma once

#include <optional>
#include <string>

#include "command.h"
#include "connection_flags.h"
#include "slip/kv.h"

namespace slip::cli {

void register_kv(CLI::App& parent, Registry& registry);

// Options every key command shares.
struct KvKeyOptions {
  ConnectionFlags conn;
  std::string bucket;
  std::string key;
  std::optional<std::string> value;  // absent: read standard input
  std::optional<std::uint64_t> revision;
  std::string ttl;  // create, purge: a per-message TTL; put: refused
  bool json = false;
};

struct KvBucketOptions {
  ConnectionFlags conn;
  std::string bucket;
  std::string prefix;
  bool json = false;
  // kv add
  int history = 1;
  std::string max_bytes;
  std::string max_age;
  int replicas = 1;
  std::string storage = "file";
  std::string description;
  std::string marker_ttl;  // limit markers (nats-server 2.11+)
  std::string max_value_size;
  bool compress = false;
  std::vector<std::string> metadata;  // K=V
  std::string cluster;
  std::vector<std::string> tags;
  std::string republish_source;
  std::string republish_dest;
  bool republish_headers = false;
  std::string mirror;
  std::string mirror_domain;
  std::vector<std::string> sources;
};

// A --ttl or --marker-ttl value (FLAG names it in errors): a duration of
// whole seconds, at least 1s, as the server keeps them.
Result<std::chrono::nanoseconds> parse_ttl(const std::string& text, const char* flag);

// Validates the names, connects, and opens the bucket.
Result<std::unique_ptr<kv::Bucket>> open_bucket(const ConnectionFlags& conn,
                                                const std::string& bucket,
                                                std::unique_ptr<kv::Client>* client);

// One JSON object for an entry: key, revision, created, op, value/value_b64.
std::string entry_json(const kv::Entry& e, bool with_value);

// Registration of each subcommand (kv_<name>.cc).
void register_kv_get(CLI::App& kv, Registry& registry);
void register_kv_put(CLI::App& kv, Registry& registry);  // put, create, update
void register_kv_del(CLI::App& kv, Registry& registry);  // del, purge
void register_kv_keys(CLI::App& kv, Registry& registry);
void register_kv_history(CLI::App& kv, Registry& registry);
void register_kv_status(CLI::App& kv, Registry& registry);  // status, ls
void register_kv_add(CLI::App& kv, Registry& registry);     // add, rm

Status run_kv_get(const KvKeyOptions& o, Context& ctx);
Status run_kv_write(const std::string& verb, const KvKeyOptions& o, Context& ctx);
Status run_kv_delete(const std::string& verb, const KvKeyOptions& o, Context& ctx);
Status run_kv_keys(const KvBucketOptions& o, Context& ctx);
Status run_kv_history(const KvKeyOptions& o, Context& ctx);
Status run_kv_status(const KvBucketOptions& o, Context& ctx);
Status run_kv_ls(const KvBucketOptions& o, Context& ctx);
Status run_kv_add(const KvBucketOptions& o, Context& ctx);
Status run_kv_rm(const KvBucketOptions& o, Context& ctx);

}  // namespace slip::cli
