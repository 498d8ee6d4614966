// Messages carrying Nats-Marker-Reason are tombstones for every reader,
// whatever else they carry. Servers up to 2.15 write only MaxAge; Purge and
// Remove are published here by hand, which works on every server (a header
// like any other), so this runs on the whole matrix.
#include <doctest/doctest.h>
#include <nlohmann/json.hpp>

#include <map>
#include <sstream>

#include "slip/exit_codes.h"
#include "support/files.h"
#include "support/folds.h"
#include "support/nats_server.h"
#include "support/process.h"
#include "support/raw_stream.h"

using nlohmann::json;
using slip::test::NatsServer;
using slip::test::run_slip;
namespace ec = slip::exit_code;

namespace {

std::vector<json> json_lines(const std::string& text) {
  std::vector<json> out;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) {
    if (!line.empty()) out.push_back(json::parse(line));
  }
  return out;
}

}  // namespace

TEST_CASE("kv markers: MaxAge, Purge and Remove markers are tombstones for every reader" * doctest::test_suite("nats")) {
  NatsServer server;
  auto slip = [&](std::vector<std::string> args) {
    args.push_back("-s");
    args.push_back(server.url());
    return run_slip(args);
  };
  REQUIRE(slip({"kv", "add", "m", "--history", "5"}).exit_code == ec::kOk);
  for (const char* key : {"aged", "purged", "removed", "kept"}) {
    REQUIRE(slip({"kv", "put", "m", key, "v1"}).exit_code == ec::kOk);
  }
  slip::test::RawStream raw(server.url(), "m");
  // As the server writes them: an empty body, a rollup, no KV-Operation.
  raw.publish_with_headers("aged", "", {{"Nats-Marker-Reason", "MaxAge"}, {"Nats-Rollup", "sub"}});
  // Whatever else it carries: a body and even KV-Operation: PUT.
  raw.publish_with_headers("purged", "ghost",
                           {{"Nats-Marker-Reason", "Purge"}, {"KV-Operation", "PUT"}});
  raw.publish_with_headers("removed", "", {{"Nats-Marker-Reason", "Remove"}});
  const std::map<std::string, std::string> truth = raw.truth();
  REQUIRE(truth == std::map<std::string, std::string>{{"kept", "v1"}});

  for (const char* key : {"aged", "purged", "removed"}) {
    CAPTURE(key);
    CHECK(slip({"kv", "get", "m", key}).exit_code == ec::kNegative);
  }
  CHECK(slip({"kv", "keys", "m"}).out == "kept\n");
  // History shows each marker as the tombstone it is, with its reason.
  const std::map<std::string, std::pair<std::string, std::string>> want{
      {"aged", {"PURGE", "MaxAge"}}, {"purged", {"PURGE", "Purge"}}, {"removed", {"DEL", "Remove"}}};
  for (const auto& [key, op_reason] : want) {
    CAPTURE(key);
    auto history = json_lines(slip({"kv", "history", "m", key}).out);
    REQUIRE(!history.empty());
    CHECK(history.back()["op"] == op_reason.first);
    CHECK(history.back()["reason"] == op_reason.second);
  }
  // A watch resumed before the markers delivers them as tombstones.
  auto watch = slip({"watch", "m", "--since", "4", "--until-caught-up"});
  REQUIRE_MESSAGE(watch.exit_code == ec::kOk, watch.err);
  auto updates = json_lines(watch.out);
  REQUIRE(updates.size() == 3);
  for (const json& u : updates) {
    CAPTURE(u.dump());
    CHECK(u["op"] == want.at(u["key"].get<std::string>()).first);
    CHECK(u["reason"] == want.at(u["key"].get<std::string>()).second);
    CHECK_FALSE(u.contains("value"));
  }
  CHECK(slip({"watch", "m", "--since", "4", "--until-caught-up", "--ignore-deletes"}).out.empty());

  // Folds of both backends hold only the live key; diff against the bucket
  // agrees; an artifact restored into a new bucket brings back no ghost.
  slip::test::TempDir dir;
  for (const char* backend : {"log", "leveldb"}) {
    CAPTURE(backend);
    const std::string fold = dir.file(std::string("fold-") + backend);
    REQUIRE(slip({"mirror", "m", "--to", fold, "--backend", backend, "--once"}).exit_code ==
            ec::kOk);
    CHECK(slip::test::fold_model(fold) == truth);
    CHECK(slip({"diff", fold, "kv:m"}).exit_code == ec::kOk);
  }
  const std::string loc = "file://" + dir.file("exports");
  REQUIRE(slip({"export", "--from", dir.file("fold-log"), "--to", loc}).exit_code == ec::kOk);
  REQUIRE(slip({"import", loc, "--to-bucket", "restored", "--create"}).exit_code == ec::kOk);
  CHECK(slip::test::RawStream(server.url(), "restored").truth() == truth);

  // Creating over a marker is creating a key that is gone.
  for (const char* key : {"aged", "purged", "removed"}) {
    CAPTURE(key);
    auto create = slip({"kv", "create", "m", key, "again"});
    CHECK_MESSAGE(create.exit_code == ec::kOk, create.err);
  }
  CHECK(slip({"kv", "create", "m", "kept", "again"}).exit_code == ec::kNegative);
}
