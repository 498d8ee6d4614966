// `slip kv add`'s bucket options (natscli's spellings) against every server
// of the matrix: each one round-trips through `kv status --json`, one a
// server does not have is refused with nothing left behind, and mirror and
// sourced buckets read as their origin does (the truth read from the
// origin's raw stream, not through slip).
#include <doctest/doctest.h>
#include <nlohmann/json.hpp>

#include <map>
#include <sstream>

#include "slip/exit_codes.h"
#include "support/background.h"
#include "support/nats_server.h"
#include "support/process.h"
#include "support/raw_stream.h"

using nlohmann::json;
using slip::test::NatsServer;
using slip::test::RawStream;
using slip::test::run_slip;
namespace ec = slip::exit_code;

namespace {

bool has(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

// The live keys and values of BUCKET as `slip watch --until-caught-up`
// sees them.
std::map<std::string, std::string> watched(const NatsServer& server, const std::string& bucket) {
  auto r = run_slip({"watch", bucket, "--until-caught-up", "-s", server.url()});
  REQUIRE_MESSAGE(r.exit_code == slip::exit_code::kOk, r.err);
  std::map<std::string, std::string> out;
  std::istringstream in(r.out);
  for (std::string line; std::getline(in, line);) {
    json j = json::parse(line);
    if (j["op"] == "PUT") {
      out[j["key"]] = j.value("value", std::string());
    } else {
      out.erase(j["key"].get<std::string>());
    }
  }
  return out;
}

json status(const NatsServer& server, const std::string& bucket) {
  auto r = run_slip({"kv", "status", "--json", bucket, "-s", server.url()});
  REQUIRE_MESSAGE(r.exit_code == slip::exit_code::kOk, r.err);
  return json::parse(r.out);
}

}  // namespace

TEST_CASE("kv add: every bucket option round-trips through kv status --json" *
          doctest::test_suite("nats")) {
  NatsServer server;
  auto slip = [&](std::vector<std::string> args) {
    args.push_back("-s");
    args.push_back(server.url());
    return run_slip(args);
  };
  const bool v2_10 = slip::test::nats_server_version().at_least(2, 10);

  // Settings every server of the matrix has.
  REQUIRE(slip({"kv", "add", "rp", "--republish-destination", "out.>", "--republish-headers",
                "--description", "routes", "--tags", "edge", "--tags", "ssd"})
              .exit_code == ec::kOk);
  json rp = status(server, "rp");
  CHECK(rp["republish"]["destination"] == "out.>");
  CHECK(rp["republish"]["source"] == "$KV.rp.>");  // all of the bucket's keys
  CHECK(rp["republish"]["headers_only"] == true);
  CHECK(rp["description"] == "routes");
  CHECK(rp["placement"]["tags"] == json::array({"edge", "ssd"}));
  CHECK(rp["mirror_state"].is_null());
  CHECK(rp["source_states"].empty());
  // The text view has the same, one line each, and 'info' is natscli's name.
  auto text = slip({"kv", "info", "rp"});
  REQUIRE(text.exit_code == ec::kOk);
  CHECK(has(text.out, "republish:        $KV.rp.> to out.> (headers only)\n"));
  CHECK(has(text.out, "placement:        tags edge, ssd\n"));
  CHECK(has(text.out, "description:      routes\n"));
  CHECK(has(text.out, "max bytes:        unlimited\n"));

  // Flags that make no sense together are refused before connecting.
  auto lone = slip({"kv", "add", "x", "--republish-headers"});
  CHECK(lone.exit_code == ec::kUsage);
  CHECK(has(lone.err, "--republish-destination"));
  CHECK(slip({"kv", "add", "x", "--mirror", "a", "--source", "b"}).exit_code == ec::kUsage);
  CHECK(slip({"kv", "add", "x", "--mirror-domain", "hub"}).exit_code == ec::kUsage);
  CHECK(slip({"kv", "add", "x", "--metadata", "novalue"}).exit_code == ec::kUsage);
  CHECK(slip({"kv", "add", "x", "--metadata", "_nats.ver=1"}).exit_code == ec::kUsage);
  CHECK(slip({"kv", "add", "x", "--source", "x"}).exit_code == ec::kUsage);
  CHECK(slip({"kv", "add", "x", "--mirror", "bad name"}).exit_code == ec::kUsage);

  // Settings of 2.10 and later.
  auto compressed = slip({"kv", "add", "c", "--compress", "--metadata", "team=edge",
                          "--metadata", "tier=1"});
  if (!v2_10) {
    // 2.9 drops what it does not know: refused, and nothing left behind.
    CHECK(compressed.exit_code == ec::kUsage);
    CHECK(has(compressed.err, "--compress needs nats-server 2.10 or later"));
    CHECK(has(compressed.err, "was not created"));
    CHECK(compressed.err.find('\n') == compressed.err.size() - 1);  // one line
    CHECK(slip({"kv", "status", "c"}).exit_code == ec::kNegative);
    auto md = slip({"kv", "add", "m", "--metadata", "team=edge"});
    CHECK(md.exit_code == ec::kUsage);
    CHECK(has(md.err, "--metadata needs nats-server 2.10"));
    CHECK(slip({"kv", "status", "m"}).exit_code == ec::kNegative);
    return;
  }
  REQUIRE_MESSAGE(compressed.exit_code == ec::kOk, compressed.err);
  json c = status(server, "c");
  CHECK(c["compression"] == "s2");
  CHECK(c["metadata"] == json({{"team", "edge"}, {"tier", "1"}}));  // no _nats.* entries
  text = slip({"kv", "status", "c"});
  CHECK(has(text.out, "compression:      s2\n"));
  CHECK(has(text.out, "metadata:         team=edge\n"));
  // The same again is nothing to do; without compression it is another bucket.
  CHECK(slip({"kv", "add", "c", "--compress"}).exit_code == ec::kOk);
  CHECK(slip({"kv", "add", "c"}).exit_code == ec::kNegative);
  // Still a KV bucket.
  CHECK(slip({"kv", "put", "c", "k", "v"}).exit_code == ec::kOk);
  CHECK(slip({"kv", "get", "c", "k"}).out == "v");
}

TEST_CASE("kv add --mirror and --source: the bucket reads as its origin" *
          doctest::test_suite("nats")) {
  NatsServer server;
  auto slip = [&](std::vector<std::string> args) {
    args.push_back("-s");
    args.push_back(server.url());
    return run_slip(args);
  };
  REQUIRE(slip({"kv", "add", "origin", "--history", "3"}).exit_code == ec::kOk);
  for (const char* key : {"a", "b", "c", "d"}) {
    REQUIRE(slip({"kv", "put", "origin", key, std::string("v-") + key}).exit_code == ec::kOk);
  }
  REQUIRE(slip({"kv", "put", "origin", "a", "v-a2"}).exit_code == ec::kOk);
  REQUIRE(slip({"kv", "del", "origin", "b"}).exit_code == ec::kOk);
  REQUIRE(slip({"kv", "purge", "origin", "c"}).exit_code == ec::kOk);
  RawStream origin(server.url(), "origin");
  const auto truth = origin.truth();
  REQUIRE(truth.size() == 2);  // a and d
  const std::uint64_t messages = origin.state()["messages"].get<std::uint64_t>();

  auto caught_up = [&](const std::string& bucket) {
    return slip::test::wait_until(
        [&] {
          json s = status(server, bucket);
          return s["values"].get<std::uint64_t>() == messages;
        },
        std::chrono::seconds(10));
  };

  // natscli's KV_ spelling of the origin works too.
  auto add = slip({"kv", "add", "copy", "--mirror", "KV_origin", "--history", "3"});
  REQUIRE_MESSAGE(add.exit_code == ec::kOk, add.err);
  REQUIRE_MESSAGE(caught_up("copy"), "the mirror did not catch up");
  json copy = status(server, "copy");
  CHECK(copy["mirror"] == "KV_origin");
  REQUIRE(copy["mirror_state"].is_object());
  CHECK(copy["mirror_state"]["name"] == "KV_origin");
  CHECK(copy["mirror_state"]["lag"] == 0);
  CHECK(watched(server, "copy") == truth);
  CHECK(slip({"kv", "get", "copy", "a"}).out == "v-a2");
  CHECK(slip({"kv", "get", "copy", "b"}).exit_code == ec::kNegative);
  // The same mirror again is nothing to do; a mirror of another is not it.
  CHECK(slip({"kv", "add", "copy", "--mirror", "origin", "--history", "3"}).exit_code == ec::kOk);
  CHECK(slip({"kv", "add", "copy", "--history", "3"}).exit_code == ec::kNegative);

  auto sourced = slip({"kv", "add", "merged", "--source", "origin", "--history", "3"});
  if (!slip::test::nats_server_version().at_least(2, 10)) {
    // Without subject transforms the sourced keys would sit under the
    // origin's subjects, where no reader of "merged" looks: refused.
    CHECK(sourced.exit_code == ec::kUsage);
    CHECK(has(sourced.err, "--source needs nats-server 2.10"));
    CHECK(slip({"kv", "status", "merged"}).exit_code == ec::kNegative);
    return;
  }
  REQUIRE_MESSAGE(sourced.exit_code == ec::kOk, sourced.err);
  REQUIRE_MESSAGE(caught_up("merged"), "the sourced bucket did not catch up");
  json merged = status(server, "merged");
  CHECK(merged["sources"] == json::array({"KV_origin"}));
  REQUIRE(merged["source_states"].size() == 1);
  CHECK(merged["source_states"][0]["name"] == "KV_origin");
  // Its own stream holds the keys under its own subjects: the truth from
  // its raw stream equals the origin's, and slip reads the same.
  RawStream merged_raw(server.url(), "merged");
  CHECK(merged_raw.truth() == truth);
  CHECK(watched(server, "merged") == truth);
  // A sourced bucket is a bucket of its own: writes stay in it.
  REQUIRE(slip({"kv", "put", "merged", "own", "x"}).exit_code == ec::kOk);
  CHECK(slip({"kv", "get", "merged", "own"}).out == "x");
  CHECK(!origin.last("own").has_value());
}
