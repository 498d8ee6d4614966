// Helpers shared by snapshot tests: decoding JSON test fields and building
// snapshot files from a list of operations.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "slip/snapshot.h"
#include "slip/version_token.h"

namespace slip::test {

std::string from_hex(const std::string& hex);
std::string from_base64(const std::string& text);

// One operation of a generated snapshot file.
struct Op {
  snapshot::RecordType type;
  std::string key;
  std::string value;
  VersionToken version;
};

// Encodes header + OPS.
std::string encode_ops(const std::vector<Op>& ops);

// The state OPS describe, by the spec's replay rules.
struct ModelState {
  std::map<std::string, std::pair<std::string, std::string>>
      entries;                        // key -> (value, version bytes)
  std::optional<std::string> cursor;  // version bytes
  bool operator==(const ModelState&) const = default;
};
ModelState model_of(const std::vector<Op>& ops);
ModelState model_of(const snapshot::State& state);

}  // namespace slip::test
