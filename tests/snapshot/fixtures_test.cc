// Every fixture of ../shared/spec/fixtures decodes to its .expect.json,
// through the library and through the slip binary run as a process.
#include <doctest/doctest.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <filesystem>
#include <sstream>

#include "core/text.h"
#include "slip/exit_codes.h"
#include "slip/snapshot.h"
#include "support/files.h"
#include "support/process.h"
#include "support/snapshot_model.h"

using nlohmann::json;
namespace snap = slip::snapshot;

namespace {

struct Fixture {
  std::string name;
  std::string snap_path;
  json expect;
};

std::vector<Fixture> load_fixtures() {
  std::vector<Fixture> fixtures;
  for (const auto& entry : std::filesystem::directory_iterator(slip::test::fixture_dir())) {
    if (entry.path().extension() != ".snap") continue;
    std::string base = entry.path().string();
    base.resize(base.size() - 5);
    fixtures.push_back({entry.path().stem().string(), entry.path().string(),
                        json::parse(slip::test::read_file(base + ".expect.json"))});
  }
  std::sort(fixtures.begin(), fixtures.end(), [](auto& a, auto& b) { return a.name < b.name; });
  return fixtures;
}

const char* type_name(snap::RecordType t) {
  switch (t) {
    case snap::RecordType::kPut:
      return "put";
    case snap::RecordType::kDelete:
      return "delete";
    case snap::RecordType::kCursor:
      return "cursor";
  }
  return "?";
}

int expected_exit(const std::string& status) {
  if (status == "ok") return slip::exit_code::kOk;
  if (status == "torn_tail") return slip::exit_code::kNegative;
  return slip::exit_code::kDamaged;
}

}  // namespace

TEST_CASE("fixtures: the shared fixture set is present") {
  auto fixtures = load_fixtures();
  CHECK(fixtures.size() >= 11);
}

TEST_CASE("fixtures: records, status and offset through the streaming reader") {
  for (const Fixture& f : load_fixtures()) {
    CAPTURE(f.name);
    auto reader = snap::Reader::open(f.snap_path);
    REQUIRE(reader.is_ok());
    json records = json::array();
    snap::Record rec;
    while ((*reader)->next(&rec)) {
      json r;
      r["offset"] = rec.offset;
      r["type"] = type_name(rec.type);
      r["key"] = rec.type == snap::RecordType::kCursor ? json(nullptr) : json(std::string(rec.key));
      r["value_len"] = rec.type == snap::RecordType::kPut ? json(rec.value.size()) : json(nullptr);
      r["version_hex"] = rec.version.hex();
      records.push_back(r);
    }
    const snap::Problem& problem = (*reader)->problem();
    CHECK(snap::damage_name(problem.damage) == f.expect["status"].get<std::string>());
    if (f.expect.contains("offset"))
      CHECK(problem.offset == f.expect["offset"].get<std::uint64_t>());
    if (f.expect.contains("reason")) CHECK(problem.reason == f.expect["reason"].get<std::string>());
    // For corrupted files the expectation lists no records, even intact ones before the damage.
    if (f.expect["status"] != "corrupted") CHECK(records == f.expect["records"]);
  }
}

TEST_CASE("fixtures: replay gives the expected entries and cursor") {
  for (const Fixture& f : load_fixtures()) {
    CAPTURE(f.name);
    auto state = snap::replay(f.snap_path);
    REQUIRE(state.is_ok());
    json entries = json::object();
    for (const auto& [key, live] : state->entries) {
      entries[key] = {{"value_hex", slip::to_hex(live.value)}, {"version_hex", live.version.hex()}};
    }
    CHECK(entries == f.expect["entries"]);
    json cursor = state->cursor ? json(state->cursor->hex()) : json(nullptr);
    CHECK(cursor == f.expect["cursor"]);
    CHECK(snap::damage_name(state->problem.damage) == f.expect["status"].get<std::string>());
  }
}

TEST_CASE("fixtures: slip snapshot verify --json as a process") {
  for (const Fixture& f : load_fixtures()) {
    CAPTURE(f.name);
    auto run = slip::test::run_slip({"snapshot", "verify", "--json", f.snap_path});
    const std::string status = f.expect["status"];
    CHECK(run.exit_code == expected_exit(status));
    json report = json::parse(run.out);
    CHECK(report["status"] == status);
    CHECK(report["cursor_hex"] == f.expect["cursor"]);
    CHECK(report["live_keys"] == f.expect["entries"].size());
    if (f.expect.contains("offset")) {
      CHECK(report["offset"] == f.expect["offset"]);
    } else if (status == "ok") {
      CHECK(report["offset"].is_null());
    }
    if (f.expect.contains("reason")) CHECK(report["reason"] == f.expect["reason"]);
    if (status != "ok") CHECK(run.err.find("slip: ") == 0);
    if (auto cursor = f.expect["cursor"];
        cursor.is_string() && cursor.get<std::string>().size() == 16) {
      CHECK(report["cursor"] == std::stoull(cursor.get<std::string>(), nullptr, 16));
    }
  }
}

TEST_CASE("fixtures: slip snapshot dump prints every intact record") {
  for (const Fixture& f : load_fixtures()) {
    CAPTURE(f.name);
    auto run = slip::test::run_slip({"snapshot", "dump", f.snap_path});
    const std::string status = f.expect["status"];
    CHECK(run.exit_code == expected_exit(status));
    std::vector<json> lines;
    std::istringstream in(run.out);
    for (std::string line; std::getline(in, line);) lines.push_back(json::parse(line));
    if (status == "corrupted") continue;  // records before the damage are printed, none expected
    const json& records = f.expect["records"];
    REQUIRE(lines.size() == records.size());
    for (std::size_t i = 0; i < lines.size(); ++i) {
      CAPTURE(i);
      CHECK(lines[i]["offset"] == records[i]["offset"]);
      CHECK(lines[i]["type"] == records[i]["type"]);
      if (records[i]["key"].is_null()) {
        CHECK_FALSE(lines[i].contains("key"));
      } else {
        CHECK(lines[i]["key"] == records[i]["key"]);
      }
      const std::string version_hex = records[i]["version_hex"];
      if (version_hex.size() == 16) {
        CHECK(lines[i]["version"] == std::stoull(version_hex, nullptr, 16));
      } else {
        CHECK(lines[i]["version"] == version_hex);
      }
      if (records[i]["type"] == "put") {
        std::string value = lines[i].contains("value")
                                ? lines[i]["value"].get<std::string>()
                                : slip::test::from_base64(lines[i]["value_b64"]);
        CHECK(value.size() == records[i]["value_len"].get<std::size_t>());
        if (f.expect["entries"].contains(records[i]["key"].get<std::string>()) &&
            i + 1 == lines.size()) {
          CHECK(slip::to_hex(value) ==
                f.expect["entries"][records[i]["key"].get<std::string>()]["value_hex"]);
        }
      }
    }
  }
}

TEST_CASE("fixtures: dump values equal the expected live values") {
  // The last PUT of each live key in the dump carries the expected value.
  for (const Fixture& f : load_fixtures()) {
    if (f.expect["status"] != "ok") continue;
    CAPTURE(f.name);
    auto run = slip::test::run_slip({"snapshot", "dump", f.snap_path});
    std::map<std::string, std::string> last;
    std::istringstream in(run.out);
    for (std::string line; std::getline(in, line);) {
      json j = json::parse(line);
      if (j["type"] == "put") {
        last[j["key"]] = j.contains("value") ? j["value"].get<std::string>()
                                             : slip::test::from_base64(j["value_b64"]);
      } else if (j["type"] == "delete") {
        last.erase(j["key"].get<std::string>());
      }
    }
    json entries = json::object();
    for (const auto& [key, value] : last) entries[key] = slip::to_hex(value);
    json expected = json::object();
    for (const auto& [key, e] : f.expect["entries"].items()) expected[key] = e["value_hex"];
    CHECK(entries == expected);
  }
}
