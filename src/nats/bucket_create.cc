#include "nats/bucket_create.h"

#include <nlohmann/json.hpp>

#include "nats/js_api.h"
#include "nats/message.h"

namespace slip::nats {

namespace {

using nlohmann::json;

std::string bucket_of_stream(const std::string& stream) {
  return stream.rfind("KV_", 0) == 0 ? stream.substr(3) : stream;
}

json stream_config(const kv::BucketConfig& config) {
  const std::int64_t max_age_ns =
      std::chrono::duration_cast<std::chrono::nanoseconds>(config.max_age).count();
  constexpr std::int64_t kTwoMinutesNs = 120'000'000'000;
  const std::string subjects = "$KV." + config.name + ".>";
  json body = {
      {"name", stream_name(config.name)},
      {"retention", "limits"},
      {"max_consumers", -1},
      {"max_msgs", -1},
      {"max_bytes", config.max_bytes},
      {"max_age", max_age_ns},
      {"max_msgs_per_subject", config.history},
      {"max_msg_size", config.max_value_size},
      {"discard", "new"},
      {"storage", config.memory_storage ? "memory" : "file"},
      {"num_replicas", config.replicas},
      // The duplicate window may not exceed max_age.
      {"duplicate_window",
       max_age_ns > 0 && max_age_ns < kTwoMinutesNs ? max_age_ns : kTwoMinutesNs},
      {"allow_direct", true},
      {"deny_delete", true},
      {"allow_rollup_hdrs", true},
  };
  if (!config.description.empty()) body["description"] = config.description;
  if (config.marker_ttl.count() != 0) {
    body["allow_msg_ttl"] = true;
    body["subject_delete_marker_ttl"] = config.marker_ttl.count();
  }
  if (config.compress) body["compression"] = "s2";
  if (!config.metadata.empty()) body["metadata"] = config.metadata;
  if (!config.placement_cluster.empty() || !config.placement_tags.empty()) {
    json placement = json::object();
    if (!config.placement_cluster.empty()) placement["cluster"] = config.placement_cluster;
    if (!config.placement_tags.empty()) placement["tags"] = config.placement_tags;
    body["placement"] = placement;
  }
  if (!config.republish_dest.empty()) {
    body["republish"] = {
        {"src", config.republish_source.empty() ? subjects : config.republish_source},
        {"dest", config.republish_dest},
        {"headers_only", config.republish_headers_only}};
  }
  if (!config.mirror.empty()) {
    // A mirror has no subjects of its own: it keeps the origin's, and the
    // clients read it through them (ADR-8, nats.go's mirrored buckets).
    json mirror = {{"name", bucket_stream(config.mirror)}};
    if (!config.mirror_domain.empty()) {
      mirror["external"] = {{"api", "$JS." + config.mirror_domain + ".API"}};
    }
    body["mirror"] = mirror;
    body["mirror_direct"] = true;
    return body;
  }
  body["subjects"] = {subjects};
  if (!config.sources.empty()) {
    json sources = json::array();
    for (const std::string& source : config.sources) {
      const std::string stream = bucket_stream(source);
      // Sourced messages keep their subjects; the transform files them
      // under this bucket's, where its readers look.
      sources.push_back({{"name", stream},
                         {"subject_transforms",
                          {{{"src", "$KV." + bucket_of_stream(stream) + ".>"},
                            {"dest", subjects}}}}});
    }
    body["sources"] = sources;
  }
  return body;
}

// The first setting asked for that ECHOED (the configuration the server
// kept) lacks, with the server version that has it; empty when none.
std::string dropped_setting(const kv::BucketConfig& config, const json& echoed) {
  auto has_object = [&](const char* field) {
    auto it = echoed.find(field);
    return it != echoed.end() && it->is_object();
  };
  if (config.marker_ttl.count() != 0) {
    auto ttl = echoed.find("subject_delete_marker_ttl");
    auto allow = echoed.find("allow_msg_ttl");
    if (ttl == echoed.end() || !ttl->is_number_integer() ||
        ttl->get<std::int64_t>() != config.marker_ttl.count() || allow == echoed.end() ||
        *allow != true) {
      return "limit markers need nats-server 2.11 or later";
    }
  }
  if (config.compress && echoed.value("compression", "") != "s2") {
    return "--compress needs nats-server 2.10 or later";
  }
  if (!config.metadata.empty()) {
    auto md = echoed.find("metadata");
    for (const auto& [k, v] : config.metadata) {
      if (md == echoed.end() || !md->is_object() || md->value(k, std::string()) != v) {
        return "--metadata needs nats-server 2.10 or later";
      }
    }
  }
  if (!config.sources.empty()) {
    auto sources = echoed.find("sources");
    if (sources == echoed.end() || !sources->is_array() ||
        sources->size() != config.sources.size()) {
      return "--source was not kept by the server";
    }
    for (const auto& source : *sources) {
      auto transforms = source.find("subject_transforms");
      if (transforms == source.end() || !transforms->is_array() || transforms->empty()) {
        return "--source needs nats-server 2.10 or later (subject transforms)";
      }
    }
  }
  if (!config.mirror.empty() && !has_object("mirror")) return "--mirror was not kept by the server";
  if (!config.republish_dest.empty() && !has_object("republish")) {
    return "--republish-destination was not kept by the server";
  }
  if ((!config.placement_cluster.empty() || !config.placement_tags.empty()) &&
      !has_object("placement")) {
    return "--cluster/--tags were not kept by the server";
  }
  return {};
}

}  // namespace

std::string bucket_stream(const std::string& name) {
  return name.rfind("KV_", 0) == 0 ? name : stream_name(name);
}

Status create_bucket_stream(Connection& conn, const kv::BucketConfig& config) {
  const std::string stream = stream_name(config.name);
  const std::string what = "create bucket " + config.name;
  auto answer = js_api_request(conn, "STREAM.CREATE." + stream, stream_config(config).dump(), what);
  if (!answer) return answer.status();
  const json echoed = answer->value("config", json::object());
  std::string dropped = dropped_setting(config, echoed);
  if (dropped.empty()) return Status::ok();
  // The stream was made a moment ago by this call (create_bucket checks
  // that none existed), so removing it takes nothing from anyone.
  auto removed = js_api_request(conn, "STREAM.DELETE." + stream, "", "delete bucket " + config.name);
  std::string outcome = removed ? "so the bucket was not created"
                                : "and the bucket it created without it could not be removed (" +
                                      removed.status().message() + "): remove it with 'slip kv rm " +
                                      config.name + "'";
  return Status::invalid_argument(dropped + ": the server left it out of bucket " + config.name +
                                  ", " + outcome);
}

}  // namespace slip::nats
