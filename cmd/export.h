// `slip export` (a fold or a live bucket to a Location), `slip export ls`
// and `slip import` (a Location to a fold or a bucket). Artifact format and
// protocol: slip-artifact(5).
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "command.h"
#include "connection_flags.h"
#include "location_flags.h"
#include "slip/artifact.h"

namespace slip::cli {

struct ExportOptions {
  ConnectionFlags conn;
  LocationFlags loc;
  std::string from;    // a fold; empty: read the bucket live
  std::string bucket;  // the bucket the artifacts are of
  std::string to;      // the location
  std::vector<std::string> prefixes;
  int keep = 0;  // 0: no pruning
  std::string grace = "1h";
  int level = artifact::kDefaultLevel;
  std::string lease;  // LEASE_BUCKET/KEY
  std::string lease_ttl;
  bool json = false;
};
void register_export(CLI::App& parent, Registry& registry);
Status run_export(const ExportOptions& options, Context& ctx);

struct ExportLsOptions {
  LocationFlags loc;
  std::string location;
  std::string bucket;  // empty: every bucket under the location
  bool json = false;
};
void register_export_ls(CLI::App& parent, Registry& registry);
Status run_export_ls(const ExportLsOptions& options, Context& ctx);

struct ImportOptions {
  ConnectionFlags conn;
  LocationFlags loc;
  std::string location;
  std::string bucket;  // the artifacts' bucket; empty: the only one there
  std::string artifact;
  std::string to;         // a fold
  std::string to_bucket;  // or a bucket
  std::string backend = "log";
  bool force = false;
  bool create = false;
};
void register_import(CLI::App& parent, Registry& registry);
Status run_import(const ImportOptions& options, Context& ctx);

// The bucket whose artifacts LOCATION holds when there is exactly one
// (used when --bucket is omitted).
Result<std::string> only_bucket(location::Location& location);

// The manifest of artifact ID (empty: the one the pointer names) of BUCKET
// (empty: the only bucket under LOCATION).
Result<artifact::Manifest> resolve_manifest(location::Location& location, const std::string& bucket,
                                            const std::string& id);

}  // namespace slip::cli
