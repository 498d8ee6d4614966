#include "fold/origin.h"

#include "slip/atomic_file.h"

#include <algorithm>
#include <cerrno>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

namespace slip::fold {

Origin make_origin(std::string bucket, std::vector<std::string> prefixes) {
  std::sort(prefixes.begin(), prefixes.end());
  prefixes.erase(std::unique(prefixes.begin(), prefixes.end()), prefixes.end());
  return Origin{std::move(bucket), std::move(prefixes)};
}

bool same_scope(const Origin& a, const Origin& b) {
  return a.bucket == b.bucket && a.prefixes == b.prefixes;
}

std::string describe(const Origin& origin) {
  std::string out = "bucket " + origin.bucket;
  if (origin.prefixes.empty()) return out + ", every key";
  out += ", prefixes";
  for (const std::string& p : origin.prefixes) out += " '" + p + "'";
  return out;
}

std::string encode_origin(const Origin& origin) {
  nlohmann::json j;
  j["bucket"] = origin.bucket;
  j["prefixes"] = origin.prefixes;
  if (origin.stream_created_ns != 0) j["stream_created_ns"] = origin.stream_created_ns;
  if (origin.last_commit_ns != 0) j["last_commit_ns"] = origin.last_commit_ns;
  if (origin.reconcile_owed) j["reconcile_owed"] = true;
  return j.dump();
}

Result<Origin> decode_origin(std::string_view json, const std::string& where) {
  auto j = nlohmann::json::parse(json, nullptr, /*allow_exceptions=*/false);
  if (!j.is_object() || !j.contains("bucket") || !j["bucket"].is_string() ||
      !j.contains("prefixes") || !j["prefixes"].is_array()) {
    return Status::corruption(where + ": damaged origin record; move it away to re-record it");
  }
  std::vector<std::string> prefixes;
  for (const auto& p : j["prefixes"]) {
    if (!p.is_string())
      return Status::corruption(where + ": damaged origin record; move it away to re-record it");
    prefixes.push_back(p.get<std::string>());
  }
  Origin origin = make_origin(j["bucket"].get<std::string>(), std::move(prefixes));
  // Optional: older folds have neither.
  for (auto [name, field] : {std::pair{"stream_created_ns", &origin.stream_created_ns},
                             std::pair{"last_commit_ns", &origin.last_commit_ns}}) {
    auto it = j.find(name);
    if (it == j.end()) continue;
    if (!it->is_number_integer())
      return Status::corruption(where + ": damaged origin record; move it away to re-record it");
    *field = it->get<std::int64_t>();
  }
  if (auto it = j.find("reconcile_owed"); it != j.end()) {
    if (!it->is_boolean())
      return Status::corruption(where + ": damaged origin record; move it away to re-record it");
    origin.reconcile_owed = it->get<bool>();
  }
  return origin;
}

Result<std::optional<Origin>> read_origin_sidecar(const std::string& path) {
  const std::string sidecar = path + ".origin";
  std::ifstream in(sidecar, std::ios::binary);
  if (!in) {
    if (errno == ENOENT) return std::optional<Origin>();
    return Status::from_errno(errno, "read " + sidecar);
  }
  std::stringstream text;
  text << in.rdbuf();
  auto o = decode_origin(text.str(), sidecar);
  if (!o) return o.status();
  return std::optional<Origin>(std::move(*o));
}

Status write_origin_sidecar(const std::string& path, const Origin& origin) {
  auto file = AtomicFile::create(path + ".origin");
  if (!file) return file.status();
  SLIP_RETURN_IF_ERROR((*file)->write(encode_origin(origin) + "\n"));
  return (*file)->commit();
}

}  // namespace slip::fold
