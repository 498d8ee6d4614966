#include "snapshot_fold.h"

#include <sys/stat.h>
#include <nlohmann/json.hpp>

#include "json_fields.h"
#include "slip/fold.h"

namespace slip::cli {

namespace {

// Opens an existing LevelDB fold (never creates one).
Result<std::unique_ptr<fold::Store>> open_existing(const std::string& path) {
  auto backend = fold::detect_backend(path);
  if (!backend) return backend.status();
  if (!*backend || **backend != "leveldb") {
    return Status::invalid_argument(path + " is a directory but not a LevelDB fold");
  }
  return fold::open_leveldb(path, {});
}

}  // namespace

bool is_directory(const std::string& path) {
  struct stat st;
  return ::stat(path.c_str(), &st) == 0 && S_ISDIR(st.st_mode);
}

Status inspect_leveldb_fold(const SnapshotInspectOptions& o, Context& ctx) {
  auto store = open_existing(o.file);
  if (!store) return store.status();
  if (o.get) {
    auto v = (*store)->get(*o.get);
    if (!v) return v.status();
    if (!*v) return Status::not_found("key '" + *o.get + "' is not live in " + o.file);
    return ctx.out.write((*v)->value);
  }
  std::uint64_t keys = 0, value_bytes = 0;
  Status visit_status;
  SLIP_RETURN_IF_ERROR((*store)->scan("", [&](std::string_view key, const fold::Value& v) {
    ++keys;
    value_bytes += v.value.size();
    if (o.keys) visit_status = ctx.out.line(key);
    return visit_status.is_ok();
  }));
  SLIP_RETURN_IF_ERROR(visit_status);
  if (o.keys) return Status::ok();
  auto cursor = (*store)->cursor();
  if (o.json) {
    nlohmann::json j{
        {"file", o.file},
        {"backend", "leveldb"},
        {"live_keys", keys},
        {"value_bytes", value_bytes},
        {"cursor", version_json(cursor)},
        {"cursor_hex", cursor ? nlohmann::json(cursor->hex()) : nlohmann::json(nullptr)},
        {"status", "ok"}};
    return ctx.out.line(j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
  }
  return ctx.out.line(
      "file:        " + o.file + "\nbackend:     leveldb\nlive keys:   " + std::to_string(keys) +
      "\nvalue bytes: " + std::to_string(value_bytes) +
      "\ncursor:      " + (cursor ? cursor->display() : std::string("none")) + "\nstatus:      ok");
}

Status verify_leveldb_fold(const SnapshotVerifyOptions& o, Context& ctx) {
  if (o.repair)
    return Status::invalid_argument("--repair is for snapshot files; LevelDB repairs its own log");
  auto store = open_existing(o.file);
  if (!store) return store.status();
  std::uint64_t keys = 0;
  // The scan decodes every value record, so a damaged one is found here.
  Status scanned = (*store)->scan("", [&](std::string_view, const fold::Value&) {
    ++keys;
    return true;
  });
  auto cursor = (*store)->cursor();
  std::string status = "ok";
  std::string reason;
  if (!scanned) {
    status = "corrupted";
    reason = scanned.message();
  } else if (!cursor) {
    status = "invalid";
    reason = "the fold has no cursor";
  }
  if (o.json) {
    nlohmann::json j{
        {"status", status},
        {"offset", nullptr},
        {"reason", reason.empty() ? nlohmann::json(nullptr) : nlohmann::json(reason)},
        {"records", keys},
        {"live_keys", keys},
        {"backend", "leveldb"},
        {"cursor", version_json(cursor)},
        {"cursor_hex", cursor ? nlohmann::json(cursor->hex()) : nlohmann::json(nullptr)}};
    SLIP_RETURN_IF_ERROR(
        ctx.out.line(j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace)));
  } else {
    SLIP_RETURN_IF_ERROR(ctx.out.line(
        status + (reason.empty() ? "" : ": " + reason) + "\nlive keys: " + std::to_string(keys) +
        "\ncursor:  " + (cursor ? cursor->display() : std::string("none"))));
  }
  if (status == "ok") return Status::ok();
  return Status::corruption(o.file + ": " + status + ": " + reason);
}

Status dump_leveldb_fold(const SnapshotDumpOptions& o, Context& ctx) {
  auto store = open_existing(o.file);
  if (!store) return store.status();
  std::string& line = ctx.out.buffer();
  Status out;
  SLIP_RETURN_IF_ERROR((*store)->scan("", [&](std::string_view key, const fold::Value& v) {
    line.append("{\"type\":\"put\",\"key\":");
    append_json_string(&line, key);
    append_value_field(&line, v.value);
    append_version_field(&line, "version", v.version);
    line.append("}\n");
    out = ctx.out.maybe_flush();
    return out.is_ok();
  }));
  SLIP_RETURN_IF_ERROR(out);
  if (auto cursor = (*store)->cursor()) {
    line.append("{\"type\":\"cursor\"");
    append_version_field(&line, "version", *cursor);
    line.append("}\n");
  }
  return Status::ok();
}

}  // namespace slip::cli
