// A bucket whose stream mirrors another bucket's (stream config mirror:
// {name: KV_origin}) keeps the origin's subjects ($KV.origin.key). slip
// reads it through them and writes go to the origin, as the official
// clients do. The truth is cnats's own KV API on the origin bucket, and
// the mirror stream's message count read through the JetStream API.
#include <doctest/doctest.h>
#include <nats/nats.h>

#include <chrono>
#include <map>
#include <sstream>
#include <thread>

#include "slip/exit_codes.h"
#include <nlohmann/json.hpp>

#include "support/files.h"
#include "support/nats_server.h"
#include "support/process.h"

using slip::test::NatsServer;
using slip::test::run_slip;
namespace ec = slip::exit_code;

namespace {

// cnats, not slip: connection, JetStream context, and the mirror stream.
struct Cnats {
  natsConnection* nc = nullptr;
  jsCtx* js = nullptr;
  explicit Cnats(const std::string& url) {
    REQUIRE(natsConnection_ConnectTo(&nc, url.c_str()) == NATS_OK);
    REQUIRE(natsConnection_JetStream(&js, nc, nullptr) == NATS_OK);
  }
  ~Cnats() {
    jsCtx_Destroy(js);
    natsConnection_Destroy(nc);
  }
  void add_mirror(const std::string& name, const std::string& origin) {
    jsStreamConfig cfg;
    jsStreamConfig_Init(&cfg);
    const std::string stream = "KV_" + name;
    const std::string origin_stream = "KV_" + origin;
    cfg.Name = stream.c_str();
    jsStreamSource src;
    jsStreamSource_Init(&src);
    src.Name = origin_stream.c_str();
    cfg.Mirror = &src;
    cfg.MaxMsgsPerSubject = 5;
    cfg.AllowDirect = true;
    cfg.MirrorDirect = true;
    cfg.AllowRollup = true;
    cfg.DenyDelete = true;
    jsStreamInfo* si = nullptr;
    REQUIRE(js_AddStream(&si, js, &cfg, nullptr, nullptr) == NATS_OK);
    jsStreamInfo_Destroy(si);
  }
  std::uint64_t messages(const std::string& name) {
    jsStreamInfo* si = nullptr;
    REQUIRE(js_GetStreamInfo(&si, js, ("KV_" + name).c_str(), nullptr, nullptr) == NATS_OK);
    const std::uint64_t n = si->State.Msgs;
    jsStreamInfo_Destroy(si);
    return n;
  }
  // Every live key of BUCKET with its value, through cnats's kvStore.
  std::map<std::string, std::string> contents(const std::string& bucket) {
    kvStore* kv = nullptr;
    REQUIRE(js_KeyValue(&kv, js, bucket.c_str()) == NATS_OK);
    kvKeysList keys;
    std::map<std::string, std::string> out;
    if (kvStore_Keys(&keys, kv, nullptr) == NATS_OK) {
      for (int i = 0; i < keys.Count; ++i) {
        kvEntry* e = nullptr;
        REQUIRE(kvStore_Get(&e, kv, keys.Keys[i]) == NATS_OK);
        out[keys.Keys[i]] = kvEntry_ValueString(e);
        kvEntry_Destroy(e);
      }
      kvKeysList_Destroy(&keys);
    }
    kvStore_Destroy(kv);
    return out;
  }
};

// Waits (up to 10 s) until the mirror stream holds N messages.
void await_mirrored(Cnats& c, const std::string& name, std::uint64_t n) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (c.messages(name) < n) {
    REQUIRE_MESSAGE(std::chrono::steady_clock::now() < deadline, "the mirror did not catch up");
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
}

std::map<std::string, std::string> json_lines_fold(const std::string& text) {
  std::map<std::string, std::string> out;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) {
    auto j = nlohmann::json::parse(line);
    if (j["op"] == "PUT") out[j["key"]] = j["value"];
    else out.erase(j["key"].get<std::string>());
  }
  return out;
}

}  // namespace

TEST_CASE("mirror bucket: reads go through the origin's subjects, writes reach the origin" *
          doctest::test_suite("nats")) {
  NatsServer server;
  auto slip = [&](std::vector<std::string> args) {
    args.insert(args.end(), {"-s", server.url()});
    return run_slip(args);
  };
  REQUIRE(slip({"kv", "add", "origin", "--history", "5"}).exit_code == ec::kOk);
  for (const char* k : {"a", "b", "c"}) REQUIRE(slip({"kv", "put", "origin", k, std::string("v") + k}).exit_code == ec::kOk);
  REQUIRE(slip({"kv", "del", "origin", "b"}).exit_code == ec::kOk);
  Cnats c(server.url());
  c.add_mirror("copy", "origin");
  await_mirrored(c, "copy", 4);
  const auto truth = c.contents("origin");
  REQUIRE(truth == std::map<std::string, std::string>{{"a", "va"}, {"c", "vc"}});

  auto get = slip({"kv", "get", "copy", "a"});
  CHECK(get.exit_code == ec::kOk);
  CHECK(get.out == "va");
  CHECK(slip({"kv", "get", "copy", "b"}).exit_code == ec::kNegative);  // deleted at the origin
  CHECK(slip({"kv", "keys", "copy"}).out == "a\nc\n");

  auto watch = slip({"watch", "copy", "--until-caught-up"});
  REQUIRE_MESSAGE(watch.exit_code == ec::kOk, watch.err);
  CHECK(json_lines_fold(watch.out) == truth);

  slip::test::TempDir dir;
  auto mirror = slip({"mirror", "copy", "--to", dir.file("fold.snap"), "--once"});
  REQUIRE_MESSAGE(mirror.exit_code == ec::kOk, mirror.err);
  CHECK(mirror.err.find("2 keys") != std::string::npos);

  // A write through the mirror bucket lands in the origin.
  REQUIRE(slip({"kv", "put", "copy", "d", "vd"}).exit_code == ec::kOk);
  CHECK(c.contents("origin").at("d") == "vd");
  await_mirrored(c, "copy", 5);
  auto resumed = slip({"mirror", "copy", "--to", dir.file("fold.snap"), "--once"});
  REQUIRE_MESSAGE(resumed.exit_code == ec::kOk, resumed.err);
  auto diff = slip({"diff", dir.file("fold.snap"), "kv:origin"});
  CHECK_MESSAGE(diff.exit_code == ec::kOk, (diff.out + diff.err));
}
