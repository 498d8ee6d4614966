// The manifest's JSON form and the artifact id (docs/export-artifact.md).
#include <nlohmann/json.hpp>

#include "artifact/codec.h"
#include "core/text.h"
#include "core/time_format.h"
#include "slip/artifact.h"

namespace slip::artifact {

namespace {

using nlohmann::json;

// Everything but the integrity field, in the one serialisation that is
// hashed: nlohmann's objects keep keys sorted, dump(-1) adds no spaces.
json content_json(const Manifest& m) {
  json j;
  j["schema_version"] = m.schema_version;
  j["slip_version"] = m.slip_version;
  j["id"] = m.id;
  j["bucket"] = m.bucket;
  j["scope"] = m.scope;
  j["cursor"] = m.cursor.revision() ? json(*m.cursor.revision()) : json(nullptr);
  j["cursor_hex"] = m.cursor.hex();
  j["entries"] = m.entries;
  j["created"] = format_rfc3339(m.created_ns);
  j["created_ns"] = m.created_ns;
  if (m.stream_created_ns != 0) {
    j["stream_created"] = format_rfc3339(m.stream_created_ns);
    j["stream_created_ns"] = m.stream_created_ns;
  }
  j["payload"] = m.payload;
  j["compression"] = m.compression;
  j["compression_level"] = m.compression_level;
  j["zstd_version"] = m.zstd_version;
  j["compressed_size"] = m.compressed_size;
  j["uncompressed_size"] = m.uncompressed_size;
  j["compressed_sha256"] = m.compressed_sha256;
  j["uncompressed_sha256"] = m.uncompressed_sha256;
  return j;
}

std::string dump(const json& j) { return j.dump(-1, ' ', false, json::error_handler_t::strict); }

bool is_lower_hex(const std::string& s, std::size_t size) {
  if (s.size() != size) return false;
  for (char c : s) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  }
  return true;
}

}  // namespace

std::string artifact_id(const Manifest& m) {
  json j;
  j["schema_version"] = m.schema_version;
  j["bucket"] = m.bucket;
  j["scope"] = m.scope;
  j["cursor_hex"] = m.cursor.hex();
  j["entries"] = m.entries;
  j["uncompressed_size"] = m.uncompressed_size;
  j["uncompressed_sha256"] = m.uncompressed_sha256;
  j["compression"] = m.compression;
  j["compression_level"] = m.compression_level;
  j["zstd_version"] = m.zstd_version;
  // Not stream_created_ns: the id names the content, and the same keys at
  // the same cursor exported with and without a known stream are one
  // artifact. Reusing one whose stream is unknown only costs a reconcile.
  return Sha256::hex_of(dump(j)).substr(0, 32);
}

std::string payload_key(const std::string& bucket, const std::string& id) {
  return bucket + "/artifacts/" + id + ".pgss.zst";
}

std::string manifest_key(const std::string& bucket, const std::string& id) {
  return bucket + "/artifacts/" + id + ".json";
}

std::string pointer_key(const std::string& bucket) { return bucket + "/pointer.json"; }

std::string Manifest::to_json() const {
  json j = content_json(*this);
  j["manifest_sha256"] = Sha256::hex_of(dump(j));
  return dump(j) + "\n";
}

Result<Manifest> Manifest::parse(std::string_view text) {
  json j = json::parse(text.begin(), text.end(), nullptr, /*allow_exceptions=*/false);
  if (!j.is_object()) return Status::corruption("manifest is not a JSON object");
  Manifest m;
  try {
    m.schema_version = j.at("schema_version").get<int>();
    if (m.schema_version < 1) {
      return Status::corruption("manifest: unsupported schema version " +
                                std::to_string(m.schema_version));
    }
    if (m.schema_version > kSchemaVersion) {
      return Status::not_supported("manifest schema version " + std::to_string(m.schema_version) +
                                   " is newer than this slip understands (" +
                                   std::to_string(kSchemaVersion) + "): upgrade slip");
    }
    m.slip_version = j.at("slip_version").get<std::string>();
    m.id = j.at("id").get<std::string>();
    m.bucket = j.at("bucket").get<std::string>();
    m.scope = j.at("scope").get<std::vector<std::string>>();
    auto cursor_bytes = from_hex(j.at("cursor_hex").get<std::string>());
    auto cursor = cursor_bytes ? VersionToken::from_bytes(*cursor_bytes) : std::nullopt;
    if (!cursor) return Status::corruption("manifest: bad cursor_hex");
    m.cursor = *cursor;
    m.entries = j.at("entries").get<std::uint64_t>();
    m.created_ns = j.at("created_ns").get<std::int64_t>();
    if (auto it = j.find("stream_created_ns"); it != j.end()) {
      if (m.schema_version < 2) return Status::corruption("manifest: stream_created in schema 1");
      m.stream_created_ns = it->get<std::int64_t>();
      if (m.stream_created_ns <= 0) return Status::corruption("manifest: bad stream_created_ns");
    }
    m.payload = j.at("payload").get<std::string>();
    m.compression = j.at("compression").get<std::string>();
    m.compression_level = j.at("compression_level").get<int>();
    m.zstd_version = j.at("zstd_version").get<std::string>();
    m.compressed_size = j.at("compressed_size").get<std::uint64_t>();
    m.uncompressed_size = j.at("uncompressed_size").get<std::uint64_t>();
    m.compressed_sha256 = j.at("compressed_sha256").get<std::string>();
    m.uncompressed_sha256 = j.at("uncompressed_sha256").get<std::string>();
    const std::string claimed = j.at("manifest_sha256").get<std::string>();
    // The serialisation of what we parsed must be byte for byte what was
    // hashed: this catches any changed field, known or not.
    json content = j;
    content.erase("manifest_sha256");
    if (Sha256::hex_of(dump(content)) != claimed || dump(content_json(m)) != dump(content)) {
      return Status::corruption("manifest checksum mismatch (the manifest was changed or damaged)");
    }
  } catch (const json::exception& e) {
    return Status::corruption(std::string("manifest: ") + e.what());
  }
  if (m.compression != "zstd") {
    return Status::not_supported("manifest: compression '" + m.compression + "' is not supported");
  }
  if (!is_lower_hex(m.id, 32) || !is_lower_hex(m.compressed_sha256, 64) ||
      !is_lower_hex(m.uncompressed_sha256, 64)) {
    return Status::corruption("manifest: malformed id or hash");
  }
  if (artifact_id(m) != m.id || m.payload != payload_key(m.bucket, m.id)) {
    return Status::corruption("manifest: id " + m.id + " does not match its content");
  }
  return m;
}

}  // namespace slip::artifact
