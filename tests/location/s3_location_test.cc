// s3:// locations against a real S3-compatible server (s3rver) on loopback.
#include <doctest/doctest.h>

#include <stdlib.h>

#include <filesystem>

#include "slip/exit_codes.h"
#include "slip/location.h"
#include "support/s3_server.h"

namespace loc = slip::location;
using slip::StatusKind;

namespace {

std::unique_ptr<loc::Location> open(const slip::test::S3Server& s3, const std::string& prefix,
                                    loc::Options options = {}) {
  s3.set_env();
  options.endpoint = s3.endpoint();
  auto l = loc::open_location(s3.url(prefix), options);
  REQUIRE_MESSAGE(l.is_ok(), l.status().to_string());
  return std::move(*l);
}

std::string pattern(std::size_t n, int seed) {
  std::string out(n, '\0');
  uint32_t x = 2463534242u + static_cast<uint32_t>(seed);
  for (auto& c : out) {
    x ^= x << 13;
    x ^= x >> 17;
    x ^= x << 5;
    c = static_cast<char>(x);
  }
  return out;
}

std::string read_all(loc::Download& d, std::size_t step = 100000) {
  std::string out;
  std::string buf(step, '\0');
  for (;;) {
    auto n = d.read(buf.data(), buf.size());
    REQUIRE_MESSAGE(n.is_ok(), n.status().to_string());
    if (*n == 0) return out;
    out.append(buf.data(), *n);
  }
}

// Regular files under s3rver's data dir whose names contain NEEDLE.
int stored_files_with(const slip::test::S3Server& s3, const std::string& needle) {
  int n = 0;
  std::error_code ec;
  for (auto& e : std::filesystem::recursive_directory_iterator(s3.data_dir(), ec)) {
    if (e.is_regular_file() && e.path().string().find(needle) != std::string::npos) ++n;
  }
  return n;
}

}  // namespace

TEST_CASE("s3 location: small objects, put/get/list/remove, through s3rver") {
  slip::test::S3Server s3;
  auto l = open(s3, "exports/edge");
  CHECK(l->display() == "s3://slip-test/exports/edge");
  CHECK_FALSE(l->supports_conditional_writes());  // not declared for this server

  REQUIRE(l->put_small("manifests/m1.json", "{\"a\":1}", loc::Precondition::none()).is_ok());
  std::string etag;
  auto got = l->get_small("manifests/m1.json", &etag);
  REQUIRE_MESSAGE(got.is_ok(), got.status().to_string());
  CHECK(*got == "{\"a\":1}");
  CHECK_FALSE(etag.empty());

  auto missing = l->get_small("manifests/none", nullptr);
  REQUIRE_FALSE(missing.is_ok());
  CHECK(missing.status().kind() == StatusKind::kNotFound);
  CHECK(l->download("none").status().kind() == StatusKind::kNotFound);

  // Keys that need escaping survive the round trip and the listing.
  const std::string odd = "odd/a b&c+d=e%f<g>'h\"i.json";
  REQUIRE(l->put_small(odd, "odd", loc::Precondition::none()).is_ok());
  CHECK(*l->get_small(odd, nullptr) == "odd");

  auto listed = l->list("");
  REQUIRE_MESSAGE(listed.is_ok(), listed.status().to_string());
  REQUIRE(listed->size() == 2);
  CHECK((*listed)[0].key == "manifests/m1.json");
  CHECK((*listed)[0].size == 7);
  CHECK((*listed)[0].etag == etag);
  CHECK((*listed)[0].modified_ns > 0);
  CHECK((*listed)[1].key == odd);

  // Another prefix in the same bucket is another location.
  auto other = open(s3, "exports/other");
  CHECK(other->list("")->empty());

  REQUIRE(l->remove(odd).is_ok());
  CHECK(l->remove(odd).is_ok());  // already gone
  CHECK(l->get_small(odd, nullptr).status().kind() == StatusKind::kNotFound);
  CHECK(l->list("")->size() == 1);
}

TEST_CASE("s3 location: streamed multipart upload and ranged download") {
  slip::test::S3Server s3;
  loc::Options options;
  options.part_size = 256 << 10;  // s3rver enforces no minimum part size
  auto l = open(s3, "p", options);
  const std::string payload = pattern((3 << 20) + 12345, 1);  // 12+ parts, a short last one
  auto up = l->upload("payloads/big.zst");
  REQUIRE(up.is_ok());
  for (std::size_t at = 0; at < payload.size(); at += 100000) {
    auto s = (*up)->write(payload.data() + at, std::min<std::size_t>(100000, payload.size() - at));
    REQUIRE_MESSAGE(s.is_ok(), s.to_string());
  }
  // Parts are uploaded (s3rver keeps them under ._S3rver_uploads/ID/N), the
  // object is not there yet.
  CHECK(l->list("payloads/")->empty());
  CHECK(stored_files_with(s3, "_S3rver_uploads") >= 12);
  auto done = (*up)->finish();
  REQUIRE_MESSAGE(done.is_ok(), done.to_string());
  CHECK(stored_files_with(s3, "_S3rver_uploads") == 0);  // completed: parts assembled

  auto listed = l->list("payloads/");
  REQUIRE(listed->size() == 1);
  CHECK((*listed)[0].size == payload.size());

  // Downloads come in 8 MiB ranges: a 20 MiB object takes three.
  const std::string large = pattern(20 << 20, 2);
  {
    loc::Options big;
    big.part_size = 5 << 20;
    auto lb = open(s3, "p", big);
    auto u = lb->upload("payloads/large");
    REQUIRE(u.is_ok());
    REQUIRE((*u)->write(large.data(), large.size()).is_ok());
    REQUIRE((*u)->finish().is_ok());
  }
  auto down = l->download("payloads/large");
  REQUIRE_MESSAGE(down.is_ok(), down.status().to_string());
  CHECK((*down)->size() == large.size());
  CHECK(read_all(**down, 3 << 20) == large);

  auto small_down = l->download("payloads/big.zst");
  REQUIRE(small_down.is_ok());
  CHECK(read_all(**small_down) == payload);

  // A small upload is one PUT; an empty object downloads empty.
  auto empty = l->upload("payloads/empty");
  REQUIRE(empty.is_ok());
  REQUIRE((*empty)->finish().is_ok());
  auto e = l->download("payloads/empty");
  REQUIRE_MESSAGE(e.is_ok(), e.status().to_string());
  CHECK((*e)->size() == 0);
  CHECK(read_all(**e).empty());
}

TEST_CASE("s3 location: an aborted multipart upload leaves no object") {
  slip::test::S3Server s3;
  loc::Options options;
  options.part_size = 64 << 10;
  auto l = open(s3, "p", options);
  {
    auto up = l->upload("payloads/aborted");
    REQUIRE(up.is_ok());
    const std::string data = pattern(300 << 10, 3);
    REQUIRE((*up)->write(data.data(), data.size()).is_ok());
    (*up)->abort();
    CHECK_FALSE((*up)->finish().is_ok());
  }
  {
    auto up = l->upload("payloads/abandoned");
    REQUIRE(up.is_ok());
    const std::string data = pattern(300 << 10, 4);
    REQUIRE((*up)->write(data.data(), data.size()).is_ok());
  }  // destroyed without finish()
  CHECK(l->list("")->empty());
  CHECK(l->get_small("payloads/aborted", nullptr).status().kind() == StatusKind::kNotFound);
}

TEST_CASE("s3 location: listing follows continuation tokens") {
  slip::test::S3Server s3;
  loc::Options options;
  options.list_page_size = 7;
  auto l = open(s3, "many", options);
  std::vector<std::string> keys;
  for (int i = 0; i < 45; ++i) {
    char key[32];
    std::snprintf(key, sizeof key, "k/%03d", i);
    keys.push_back(key);
    REQUIRE(l->put_small(key, std::to_string(i), loc::Precondition::none()).is_ok());
  }
  REQUIRE(l->put_small("z-outside", "x", loc::Precondition::none()).is_ok());
  auto listed = l->list("k/");
  REQUIRE_MESSAGE(listed.is_ok(), listed.status().to_string());
  std::vector<std::string> got;
  for (auto& o : *listed) got.push_back(o.key);
  CHECK(got == keys);  // 7 pages, in order, nothing twice
  CHECK(l->list("")->size() == 46);
}

TEST_CASE("s3 location: conditional small writes, checked before the PUT on s3rver") {
  slip::test::S3Server s3;
  auto l = open(s3, "cond");
  REQUIRE(l->put_small("pointer", "v1", loc::Precondition::create_only()).is_ok());
  CHECK(l->put_small("pointer", "v1'", loc::Precondition::create_only()).kind() ==
        StatusKind::kConflict);
  std::string etag;
  REQUIRE(*l->get_small("pointer", &etag) == "v1");
  REQUIRE(l->put_small("pointer", "v2", loc::Precondition::if_match(etag)).is_ok());
  auto stale = l->put_small("pointer", "v3", loc::Precondition::if_match(etag));
  CHECK(stale.kind() == StatusKind::kConflict);
  CHECK(l->put_small("nothing", "x", loc::Precondition::if_match(etag)).kind() ==
        StatusKind::kConflict);
  CHECK(*l->get_small("pointer", nullptr) == "v2");

  // Declared support is reported as such.
  loc::Options declared;
  declared.conditional_writes = true;
  CHECK(open(s3, "cond", declared)->supports_conditional_writes());
  ::setenv("SLIP_S3_CONDITIONAL_WRITES", "1", 1);
  auto by_env = loc::open_location(s3.url("cond"), loc::Options{s3.endpoint()});
  ::unsetenv("SLIP_S3_CONDITIONAL_WRITES");
  REQUIRE(by_env.is_ok());
  CHECK((*by_env)->supports_conditional_writes());
}

TEST_CASE("s3 location: wrong credentials and a missing bucket are clear errors") {
  slip::test::S3Server s3;
  s3.set_env();
  ::setenv("AWS_ACCESS_KEY_ID", "AKIAWRONGKEY", 1);
  ::setenv("AWS_SECRET_ACCESS_KEY", "wrong-secret-do-not-print", 1);
  ::setenv("AWS_SESSION_TOKEN", "token-do-not-print", 1);
  auto l = loc::open_location(s3.url("x"), loc::Options{s3.endpoint()});
  REQUIRE(l.is_ok());
  auto s = (*l)->put_small("k", "v", loc::Precondition::none());
  CHECK(s.kind() == StatusKind::kUnavailable);
  CHECK(slip::exit_code_for(s) == 4);
  CHECK(s.message().find("access denied (InvalidAccessKeyId") != std::string::npos);
  CHECK(s.message().find("AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY") != std::string::npos);
  CHECK(s.message().find("wrong-secret-do-not-print") == std::string::npos);
  CHECK(s.message().find("token-do-not-print") == std::string::npos);
  auto listed = (*l)->list("");
  CHECK(listed.status().kind() == StatusKind::kUnavailable);

  s3.set_env();
  auto nobucket = loc::open_location("s3://no-such-bucket/x", loc::Options{s3.endpoint()});
  REQUIRE(nobucket.is_ok());
  auto nb = (*nobucket)->list("");
  CHECK(nb.status().kind() == StatusKind::kInvalidArgument);
  CHECK(nb.status().message().find("bucket no-such-bucket does not exist") != std::string::npos);
}

TEST_CASE("s3 location: the server killed mid-upload fails the upload, no object appears") {
  slip::test::S3Server s3;
  loc::Options options;
  options.part_size = 128 << 10;
  auto l = open(s3, "crash", options);
  REQUIRE(l->put_small("pointer", "old", loc::Precondition::none()).is_ok());
  auto up = l->upload("payloads/p1");
  REQUIRE(up.is_ok());
  const std::string data = pattern(1 << 20, 5);
  REQUIRE((*up)->write(data.data(), 512 << 10).is_ok());  // four parts are up
  s3.kill9();
  auto s = (*up)->write(data.data() + (512 << 10), 512 << 10);
  if (s.is_ok()) s = (*up)->finish();
  REQUIRE_FALSE(s.is_ok());
  CHECK(s.kind() == StatusKind::kUnavailable);
  CHECK(s.message().find("cannot reach http://127.0.0.1:") != std::string::npos);
  // Nothing was completed: no object file for the key in s3rver's store.
  CHECK(stored_files_with(s3, "p1") == 0);
  CHECK(stored_files_with(s3, "pointer") > 0);
}
