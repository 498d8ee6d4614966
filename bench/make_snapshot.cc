// make_snapshot: writes a synthetic PGSS v2 snapshot for benchmarks.
//
//   make_snapshot --out FILE [--records N | --bytes SIZE]
//                 [--value-size N | --record-size N] [--order asc|random]
//                 [--dead-ratio R] [--no-cursor]
//
// Keys are "key/" plus the key number as 12 zero-padded digits (16 bytes),
// so numeric order is byte order. Versions are 8-byte revisions counting up
// from 1; a CURSOR with the last revision ends the file unless --no-cursor.
//
// --order asc writes keys in ascending order, like a compacted export;
// --order random writes the same keys in a scrambled order (a fixed
// permutation, so runs are repeatable).
//
// --dead-ratio R makes that fraction of the PUT records dead: the file has
// N * (1 - R) distinct keys and the remaining records rewrite keys written
// earlier, interleaved with the first writes (each rewrite follows the
// first write of a later key), so the first write of a rewritten key is
// dead. R = 0.5 (the maximum) gives N/2 keys each written twice.
//
// --record-size sets the size of the whole encoded PUT (the value fills
// what the 16-byte key and the record framing leave); --value-size sets
// the value alone. --bytes stops after the first record that reaches SIZE
// (suffixes K, M, G for KiB, MiB, GiB).
#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cinttypes>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <string_view>
#include <vector>

#include "slip/snapshot_format.h"
#include "slip/snapshot_writer.h"
#include "slip/version_token.h"

namespace {

constexpr std::size_t kKeySize = 16;  // "key/" + 12 digits
// A PUT with a 16-byte key and an 8-byte version, without its value.
constexpr std::size_t kPutOverhead = slip::snapshot::kPutFixedSize + kKeySize + 8;
constexpr std::size_t kWriteChunk = 4 << 20;

struct Options {
  std::string out;
  std::uint64_t records = 0;
  std::uint64_t bytes = 0;
  std::size_t value_size = 64;
  bool random_order = false;
  double dead_ratio = 0;
  bool cursor = true;
};

[[noreturn]] void usage(const char* why) {
  std::fprintf(stderr,
               "make_snapshot: %s\n"
               "usage: make_snapshot --out FILE [--records N | --bytes SIZE]\n"
               "                     [--value-size N | --record-size N] [--order asc|random]\n"
               "                     [--dead-ratio R] [--no-cursor]\n",
               why);
  std::exit(2);
}

std::uint64_t parse_size(const std::string& text) {
  char* end = nullptr;
  errno = 0;
  std::uint64_t v = std::strtoull(text.c_str(), &end, 10);
  if (errno != 0 || end == text.c_str()) usage(("bad number: " + text).c_str());
  std::string_view suffix(end);
  if (suffix == "K") {
    v <<= 10;
  } else if (suffix == "M") {
    v <<= 20;
  } else if (suffix == "G") {
    v <<= 30;
  } else if (!suffix.empty()) {
    usage(("bad size suffix: " + text).c_str());
  }
  return v;
}

Options parse(int argc, char** argv) {
  Options o;
  std::size_t record_size = 0;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    auto value = [&]() -> std::string {
      if (i + 1 >= argc) usage((arg + " needs a value").c_str());
      return argv[++i];
    };
    if (arg == "--out") {
      o.out = value();
    } else if (arg == "--records") {
      o.records = parse_size(value());
    } else if (arg == "--bytes") {
      o.bytes = parse_size(value());
    } else if (arg == "--value-size") {
      o.value_size = parse_size(value());
    } else if (arg == "--record-size") {
      record_size = parse_size(value());
    } else if (arg == "--order") {
      std::string order = value();
      if (order != "asc" && order != "random") usage("--order is asc or random");
      o.random_order = order == "random";
    } else if (arg == "--dead-ratio") {
      o.dead_ratio = std::strtod(value().c_str(), nullptr);
      // Each key is rewritten at most once, so at most half the records are dead.
      if (!(o.dead_ratio >= 0 && o.dead_ratio <= 0.5)) usage("--dead-ratio must be in [0, 0.5]");
    } else if (arg == "--no-cursor") {
      o.cursor = false;
    } else {
      usage(("unknown argument " + arg).c_str());
    }
  }
  if (o.out.empty()) usage("--out is required");
  if ((o.records == 0) == (o.bytes == 0)) usage("give one of --records and --bytes");
  if (record_size != 0) {
    if (record_size < kPutOverhead) usage("--record-size is smaller than a PUT's framing");
    o.value_size = record_size - kPutOverhead;
  }
  if (o.bytes != 0) {
    // Records needed to reach --bytes, counting the header and the cursor.
    std::uint64_t per = kPutOverhead + o.value_size;
    o.records = (o.bytes + per - 1) / per;
  }
  return o;
}

// Key number of the I-th distinct key: the identity in ascending order, a
// fixed bijection of [0, N) otherwise (multiplication by a constant that is
// prime to N, which the loop below makes sure of).
struct KeyOrder {
  std::uint64_t n;
  std::uint64_t mul = 1;
  KeyOrder(std::uint64_t keys, bool random) : n(keys) {
    if (!random || n < 2) return;
    auto gcd = [](std::uint64_t a, std::uint64_t b) {
      while (b) a %= b, std::swap(a, b);
      return a;
    };
    mul = 2654435761u % n;
    while (mul < 2 || gcd(mul, n) != 1) mul = (mul + 1) % n;
  }
  std::uint64_t operator()(std::uint64_t i) const {
    return static_cast<std::uint64_t>((static_cast<unsigned __int128>(i) * mul) % n);
  }
};

class Output {
 public:
  explicit Output(const std::string& path) : path_(path) {
    fd_ = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd_ < 0) die("open");
    buf_.reserve(kWriteChunk + (1 << 20));
  }
  std::string* buffer() { return &buf_; }
  void maybe_flush() {
    if (buf_.size() >= kWriteChunk) flush();
  }
  std::uint64_t finish() {
    flush();
    if (::close(fd_) != 0) die("close");
    return written_;
  }

 private:
  void flush() {
    const char* p = buf_.data();
    std::size_t left = buf_.size();
    while (left > 0) {
      ssize_t n = ::write(fd_, p, left);
      if (n < 0) {
        if (errno == EINTR) continue;
        die("write");
      }
      p += n;
      left -= static_cast<std::size_t>(n);
    }
    written_ += buf_.size();
    buf_.clear();
  }
  [[noreturn]] void die(const char* what) {
    std::fprintf(stderr, "make_snapshot: %s %s: %s\n", what, path_.c_str(), std::strerror(errno));
    std::exit(1);
  }

  std::string path_;
  int fd_;
  std::string buf_;
  std::uint64_t written_ = 0;
};

}  // namespace

int main(int argc, char** argv) {
  const Options o = parse(argc, argv);
  const auto keys = static_cast<std::uint64_t>(static_cast<double>(o.records) * (1 - o.dead_ratio));
  if (keys == 0) usage("no keys to write");
  const std::uint64_t rewrites = o.records - keys;
  // How many first writes come between a key's first write and its rewrite.
  const std::uint64_t lag = std::min<std::uint64_t>(1000, keys - 1);
  const KeyOrder order(keys, o.random_order);

  // Values are slices of one pseudo-random buffer at a shifting offset, so
  // neighbouring records differ without generating bytes per record.
  std::string noise(o.value_size + 4096, '\0');
  std::uint64_t x = 0x9e3779b97f4a7c15u;
  for (char& c : noise) {
    x ^= x << 13, x ^= x >> 7, x ^= x << 17;
    c = static_cast<char>(x);
  }

  Output out(o.out);
  slip::snapshot::encode_header(out.buffer());
  std::uint64_t revision = 0;
  char key[32];  // 16 used: key numbers stay below 10^12
  auto put = [&](std::uint64_t key_index) {
    std::snprintf(key, sizeof(key), "key/%012" PRIu64, order(key_index));
    ++revision;
    std::string_view value(noise.data() + (revision * 61) % 4096, o.value_size);
    slip::snapshot::encode_put(out.buffer(), std::string_view(key, kKeySize), value,
                               slip::VersionToken::from_revision(revision));
    out.maybe_flush();
  };
  // Rewrites are spread evenly over the keys: key I is rewritten when the
  // running share of rewrites steps past it, right after the first write of
  // key I + LAG (or at the end, for the last LAG keys).
  auto rewritten = [&](std::uint64_t i) {
    return rewrites != 0 && ((i + 1) * rewrites) / keys != (i * rewrites) / keys;
  };
  std::uint64_t done_rewrites = 0;
  for (std::uint64_t i = 0; i < keys; ++i) {
    put(i);
    if (i >= lag && rewritten(i - lag)) put(i - lag), ++done_rewrites;
  }
  for (std::uint64_t i = keys - lag; i < keys && done_rewrites < rewrites; ++i) {
    if (rewritten(i)) put(i), ++done_rewrites;
  }
  if (o.cursor)
    slip::snapshot::encode_cursor(out.buffer(), slip::VersionToken::from_revision(revision));
  const std::uint64_t size = out.finish();
  std::printf("%s: %" PRIu64 " records (%" PRIu64 " keys, %" PRIu64 " rewrites), %" PRIu64
              " bytes\n",
              o.out.c_str(), revision, keys, done_rewrites, size);
  return 0;
}
