// make_fold: writes a synthetic fold for the diff benchmark (bench/diff_bench.sh).
//
//   make_fold --out PATH --backend log|leveldb --keys N [--value-size N]
//             [--changed R] [--order asc|random]
//
// Keys are "key/" plus the key number as 12 zero-padded digits. Key I holds
// a printable value made from I at revision I + 1. With --changed R, one key
// in every 1/R (those with I % step == step / 2) holds another value of the
// same size at revision N + I + 1: two folds made with --changed 0 and
// --changed 0.01 differ in 1% of their keys. The cursor is the largest
// revision.
//
// log: a PGSS v2 file written with slip's encoders; --order asc (the
// default) makes it canonical, as `slip snapshot compact` would, --order
// random writes the same keys scrambled (the indexed path of slip diff).
// leveldb: a LevelDB fold written through fold::open_leveldb, 10,000 keys
// per commit, in ascending order.
#include <cinttypes>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "slip/fold.h"
#include "slip/snapshot_writer.h"

namespace {

struct Options {
  std::string out;
  std::string backend;
  std::uint64_t keys = 0;
  std::size_t value_size = 100;
  double changed = 0;
  bool random_order = false;
};

[[noreturn]] void usage(const char* why) {
  std::fprintf(stderr,
               "make_fold: %s\n"
               "usage: make_fold --out PATH --backend log|leveldb --keys N [--value-size N]\n"
               "                 [--changed R] [--order asc|random]\n",
               why);
  std::exit(2);
}

[[noreturn]] void fail(const slip::Status& s) {
  std::fprintf(stderr, "make_fold: %s\n", s.to_string().c_str());
  std::exit(1);
}

Options parse(int argc, char** argv) {
  Options o;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    auto value = [&]() -> std::string {
      if (i + 1 >= argc) usage((arg + " needs a value").c_str());
      return argv[++i];
    };
    if (arg == "--out") {
      o.out = value();
    } else if (arg == "--backend") {
      o.backend = value();
    } else if (arg == "--keys") {
      o.keys = std::strtoull(value().c_str(), nullptr, 10);
    } else if (arg == "--value-size") {
      o.value_size = std::strtoull(value().c_str(), nullptr, 10);
    } else if (arg == "--changed") {
      o.changed = std::strtod(value().c_str(), nullptr);
    } else if (arg == "--order") {
      const std::string order = value();
      if (order != "asc" && order != "random") usage("--order is asc or random");
      o.random_order = order == "random";
    } else {
      usage(("unknown argument " + arg).c_str());
    }
  }
  if (o.out.empty() || o.keys == 0) usage("--out and --keys are required");
  if (o.backend != "log" && o.backend != "leveldb") usage("--backend is log or leveldb");
  if (o.random_order && o.backend != "log") usage("--order random is for the log backend");
  if (o.changed < 0 || o.changed > 1) usage("--changed is a fraction in [0, 1]");
  return o;
}

struct Entry {
  std::string key;
  std::string value;
  slip::VersionToken version;
};

// The I-th key of the fold.
class Generator {
 public:
  explicit Generator(const Options& o)
      : o_(o), step_(o.changed > 0 ? static_cast<std::uint64_t>(1 / o.changed + 0.5) : 0) {}

  std::uint64_t max_revision() const { return step_ ? 2 * o_.keys : o_.keys; }

  void make(std::uint64_t i, Entry* e) const {
    char key[32];
    std::snprintf(key, sizeof(key), "key/%012" PRIu64, i);
    e->key = key;
    const bool changed = step_ && i % step_ == step_ / 2;
    e->value.assign(o_.value_size, changed ? 'w' : 'v');
    // Some bytes that depend on the key, so values are not all alike.
    std::snprintf(key, sizeof(key), "%" PRIu64, i * 2654435761u);
    e->value.replace(0, std::min(e->value.size(), std::strlen(key)), key,
                     std::min(e->value.size(), std::strlen(key)));
    e->version = slip::VersionToken::from_revision(changed ? o_.keys + i + 1 : i + 1);
  }

 private:
  const Options& o_;
  std::uint64_t step_;
};

// I-th key number in file order: identity, or a fixed bijection of [0, N).
std::uint64_t order(const Options& o, std::uint64_t i) {
  if (!o.random_order || o.keys < 3) return i;
  static std::uint64_t mul = 0;
  if (mul == 0) {
    auto gcd = [](std::uint64_t a, std::uint64_t b) {
      while (b) a %= b, std::swap(a, b);
      return a;
    };
    mul = 2654435761u % o.keys;
    while (mul < 2 || gcd(mul, o.keys) != 1) mul = (mul + 1) % o.keys;
  }
  return static_cast<std::uint64_t>((static_cast<unsigned __int128>(i) * mul) % o.keys);
}

void write_log(const Options& o, const Generator& gen) {
  std::remove(o.out.c_str());
  auto writer = slip::snapshot::Writer::open_append(o.out, {});
  if (!writer) fail(writer.status());
  Entry e;
  for (std::uint64_t i = 0; i < o.keys; ++i) {
    gen.make(order(o, i), &e);
    slip::Status s = (*writer)->put(e.key, e.value, e.version);
    if (!s) fail(s);
  }
  slip::Status s = (*writer)->commit_cursor(slip::VersionToken::from_revision(gen.max_revision()));
  if (!s) fail(s);
}

void write_leveldb(const Options& o, const Generator& gen) {
  auto store = slip::fold::open_leveldb(o.out, {});
  if (!store) fail(store.status());
  std::vector<slip::fold::Mutation> batch;
  Entry e;
  for (std::uint64_t i = 0; i < o.keys; ++i) {
    gen.make(i, &e);
    batch.push_back({e.key, e.value, e.version});
    if (batch.size() == 10000 || i + 1 == o.keys) {
      const std::uint64_t cursor = i + 1 == o.keys ? gen.max_revision() : i + 1;
      slip::Status s = (*store)->commit(batch, slip::VersionToken::from_revision(cursor));
      if (!s) fail(s);
      batch.clear();
    }
  }
}

}  // namespace

int main(int argc, char** argv) {
  const Options o = parse(argc, argv);
  const Generator gen(o);
  if (o.backend == "log") {
    write_log(o, gen);
  } else {
    write_leveldb(o, gen);
  }
  std::fprintf(stderr, "make_fold: %s: %" PRIu64 " keys (%s)\n", o.out.c_str(), o.keys,
               o.backend.c_str());
  return 0;
}
