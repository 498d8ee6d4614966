// make_json_fold: writes a fold in canonical PGSS v2 form (what a mirror's
// log fold is after compaction) whose values look like the JSON records
// operators keep in KV buckets: 100-300 bytes, repeated field names, host
// names, timestamps, enums, numbers, a few free-text words. For the export
// benchmark (bench/export_bench.sh).
//
//   make_json_fold --out FILE [--keys N] [--seed S] [--commits C]
//
// Keys are "svc/<region>/<service>/<n>" in ascending order; versions count
// up from 1; a CURSOR with the last revision ends the file. --commits C
// appends C commits as a running mirror would before its next compaction:
// 100 updates each (90 PUTs of existing keys, 10 DELETEs) and a CURSOR.
// Deterministic for a given seed.
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#include <random>
#include <string>
#include <vector>

#include "slip/snapshot_writer.h"

int main(int argc, char** argv) {
  std::string out;
  long keys = 1000000;
  unsigned seed = 1;
  long commits = 0;
  for (int i = 1; i + 1 < argc; i += 2) {
    if (!std::strcmp(argv[i], "--out"))
      out = argv[i + 1];
    else if (!std::strcmp(argv[i], "--keys"))
      keys = std::atol(argv[i + 1]);
    else if (!std::strcmp(argv[i], "--seed"))
      seed = static_cast<unsigned>(std::atol(argv[i + 1]));
    else if (!std::strcmp(argv[i], "--commits"))
      commits = std::atol(argv[i + 1]);
  }
  if (out.empty()) {
    std::fprintf(stderr, "usage: make_json_fold --out FILE [--keys N] [--seed S] [--commits C]\n");
    return 2;
  }
  static const char* kRegions[] = {"eu-west-1",  "eu-central-1",   "us-east-1", "us-west-2",
                                   "ap-south-1", "ap-northeast-1", "sa-east-1", "af-south-1"};
  static const char* kServices[] = {"api",     "auth",   "billing", "cache",  "db",    "edge",
                                    "gateway", "ingest", "mail",    "search", "queue", "web"};
  static const char* kStatus[] = {"active", "draining", "standby", "maintenance"};
  static const char* kWords[] = {"primary", "replica", "canary",   "blue", "green", "legacy",
                                 "pinned",  "spot",    "reserved", "gpu",  "arm64", "amd64",
                                 "rolling", "frozen",  "hot",      "cold", "tier1", "tier2"};
  std::mt19937_64 rng(seed);
  // Keys in ascending byte order: generate, then sort through a map.
  std::map<std::string, std::string> entries;
  for (long n = 0; n < keys; ++n) {
    const char* region = kRegions[rng() % 8];
    const char* service = kServices[rng() % 12];
    char key[96];
    std::snprintf(key, sizeof(key), "svc/%s/%s/%07ld", region, service, n);
    char value[512];
    int len = std::snprintf(
        value, sizeof(value),
        "{\"id\":%ld,\"host\":\"%s-%03u.%s.example.net\",\"ip\":\"10.%u.%u.%u\",\"port\":%u,"
        "\"status\":\"%s\",\"weight\":%u,\"version\":\"%u.%u.%u\","
        "\"updated\":\"2026-11-%02uT%02u:%02u:%02u.%03uZ\"",
        n, service, static_cast<unsigned>(rng() % 1000), region, static_cast<unsigned>(rng() % 256),
        static_cast<unsigned>(rng() % 256), static_cast<unsigned>(rng() % 256),
        static_cast<unsigned>(8000 + rng() % 2000), kStatus[rng() % 4],
        static_cast<unsigned>(rng() % 101), static_cast<unsigned>(1 + rng() % 3),
        static_cast<unsigned>(rng() % 20), static_cast<unsigned>(rng() % 50),
        static_cast<unsigned>(1 + rng() % 28), static_cast<unsigned>(rng() % 24),
        static_cast<unsigned>(rng() % 60), static_cast<unsigned>(rng() % 60),
        static_cast<unsigned>(rng() % 1000));
    std::string v(value, static_cast<std::size_t>(len));
    // Tags and a note: 0-8 words, so values spread over ~150-300 bytes.
    v += ",\"tags\":[";
    const unsigned tags = static_cast<unsigned>(rng() % 4);
    for (unsigned t = 0; t < tags; ++t) {
      v += (t ? ",\"" : "\"") + std::string(kWords[rng() % 18]) + "\"";
    }
    v += "],\"note\":\"";
    const unsigned words = static_cast<unsigned>(rng() % 9);
    for (unsigned w = 0; w < words; ++w) v += (w ? " " : "") + std::string(kWords[rng() % 18]);
    char tail[64];
    std::snprintf(tail, sizeof(tail), "\",\"checksum\":\"%016llx\"}",
                  static_cast<unsigned long long>(rng()));
    v += tail;
    entries.emplace(key, std::move(v));
  }
  std::string buf;
  slip::snapshot::encode_header(&buf);
  FILE* f = std::fopen(out.c_str(), "wb");
  if (!f) {
    std::perror(out.c_str());
    return 1;
  }
  std::uint64_t rev = 0;
  std::uint64_t value_bytes = 0;
  for (const auto& [k, v] : entries) {
    slip::snapshot::encode_put(&buf, k, v, slip::VersionToken::from_revision(++rev));
    value_bytes += v.size();
    if (buf.size() > (1 << 20)) {
      std::fwrite(buf.data(), 1, buf.size(), f);
      buf.clear();
    }
  }
  slip::snapshot::encode_cursor(&buf, slip::VersionToken::from_revision(rev));
  std::vector<const std::string*> names;
  if (commits > 0 && !entries.empty()) {
    names.reserve(entries.size());
    for (const auto& e : entries) names.push_back(&e.first);
  }
  for (long c = 0; c < commits && !names.empty(); ++c) {
    for (int i = 0; i < 100; ++i) {
      const std::string& k = *names[rng() % names.size()];
      const auto version = slip::VersionToken::from_revision(++rev);
      if (i % 10 == 0) {
        slip::snapshot::encode_delete(&buf, k, version);
      } else {
        std::string v = entries[k];
        v.replace(v.size() - 18, 16, std::to_string(rev % 10000000000000000ULL));
        slip::snapshot::encode_put(&buf, k, v, version);
      }
    }
    slip::snapshot::encode_cursor(&buf, slip::VersionToken::from_revision(rev));
  }
  std::fwrite(buf.data(), 1, buf.size(), f);
  if (std::fclose(f) != 0) {
    std::perror(out.c_str());
    return 1;
  }
  std::fprintf(stderr, "make_json_fold: %ld keys, mean value %.0f bytes\n", keys,
               keys ? static_cast<double>(value_bytes) / static_cast<double>(keys) : 0.0);
  return 0;
}
