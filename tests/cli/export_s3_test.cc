// `slip export` / `slip import` through an S3-compatible server (s3rver on
// loopback, tests/support/s3_server.h): a round trip, the server killed
// in the middle of an upload, and wrong credentials.
#include <doctest/doctest.h>
#include <signal.h>
#include <unistd.h>

#include <filesystem>
#include <map>
#include <nlohmann/json.hpp>
#include <random>
#include <regex>

#include "slip/exit_codes.h"
#include "slip/fold.h"
#include "support/background.h"
#include "support/files.h"
#include "support/folds.h"
#include "support/nats_server.h"
#include "support/process.h"
#include "support/s3_server.h"
#include "support/silent_server.h"

using slip::test::fold_model;
using slip::test::put_value;
using slip::test::run_slip;
using slip::test::S3Server;
using slip::test::SilentServer;
using slip::test::TempDir;
namespace ec = slip::exit_code;
using Model = std::map<std::string, std::string>;
using namespace std::chrono_literals;

namespace {

// A log fold with N keys whose values are VALUE_SIZE random bytes (so the
// payload does not shrink under zstd), at CURSOR.
Model make_fold(const std::string& path, int n, std::size_t value_size, std::uint64_t cursor,
                unsigned seed) {
  auto store = slip::fold::open_log(path, {});
  REQUIRE(store.is_ok());
  std::mt19937_64 rng(seed);
  Model model;
  std::vector<slip::fold::Mutation> batch;
  for (int i = 0; i < n; ++i) {
    std::string v(value_size, '\0');
    for (char& c : v) c = static_cast<char>('a' + rng() % 26);
    char key[32];
    std::snprintf(key, sizeof(key), "key/%08d", i);
    model[key] = v;
    batch.push_back(
        {key, v, slip::VersionToken::from_revision(static_cast<std::uint64_t>(i + 1)), false});
    if (batch.size() == 10000) {
      REQUIRE((*store)->commit(batch, slip::VersionToken::from_revision(cursor)).is_ok());
      batch.clear();
    }
  }
  REQUIRE((*store)->commit(batch, slip::VersionToken::from_revision(cursor)).is_ok());
  return model;
}

std::vector<std::string> with(std::vector<std::string> env, const std::string& extra) {
  env.push_back(extra);
  return env;
}

// `env VARS... slip export --from FOLD --bucket cfg --to URL`, for a
// BackgroundProcess: ENV as run_slip takes it (a bare NAME, which unsets
// for run_slip, is left out).
std::vector<std::string> background_export(const std::vector<std::string>& env,
                                           const std::string& fold, const std::string& url) {
  std::vector<std::string> argv = {"env"};
  for (const std::string& e : env) {
    if (e.find('=') != std::string::npos) argv.push_back(e);
  }
  for (const std::string& a :
       {std::string(SLIP_BINARY), std::string("export"), std::string("--from"), fold,
        std::string("--bucket"), std::string("cfg"), std::string("--to"), url}) {
    argv.push_back(a);
  }
  return argv;
}

// A second s3rver on the data directory of a killed one, so what the first
// one stored can be read again.
class RevivedS3 {
 public:
  explicit RevivedS3(const std::string& data_dir, const std::string& bucket) {
    const std::string log = dir_.file("s3rver.log");
    process_ = std::make_unique<slip::test::BackgroundProcess>(
        std::vector<std::string>{"node", "--openssl-legacy-provider", slip::test::s3rver_script(),
                                 "-d", data_dir, "-a", "127.0.0.1", "-p", "0", "--silent",
                                 "--configure-bucket", bucket},
        log);
    static const std::regex kListening(R"(listening on [0-9.]+:([0-9]+))");
    REQUIRE(slip::test::wait_until(
        [&] {
          std::string out;
          if (slip::test::file_exists(log)) out = slip::test::read_file(log);
          std::smatch m;
          if (!std::regex_search(out, m, kListening)) return false;
          port_ = std::stoi(m[1].str());
          return slip::test::http_get(port_, "/" + bucket).status == 200;
        },
        15s));
  }
  std::string endpoint() const { return "http://127.0.0.1:" + std::to_string(port_); }

 private:
  TempDir dir_;
  std::unique_ptr<slip::test::BackgroundProcess> process_;
  int port_ = 0;
};

bool has_upload_part(const std::string& data_dir) {
  std::error_code ec;
  for (auto it = std::filesystem::recursive_directory_iterator(data_dir, ec);
       it != std::filesystem::recursive_directory_iterator(); it.increment(ec)) {
    if (ec) return false;
    const std::string p = it->path().string();
    if (p.find("uploads") != std::string::npos && it->path().filename() == "1") return true;
  }
  return false;
}

}  // namespace

TEST_CASE("export s3: round trip through an S3-compatible server") {
  S3Server s3;
  TempDir tmp;
  const Model data = make_fold(tmp.file("fold.snap"), 2000, 200, 5000, 1);
  const std::string url = s3.url("exports/edge");
  auto exp = run_slip(
      {"export", "--from", tmp.file("fold.snap"), "--bucket", "cfg", "--to", url, "--json"}, "",
      s3.env());
  REQUIRE_MESSAGE(exp.exit_code == ec::kOk, exp.err);
  auto j = nlohmann::json::parse(exp.out);
  CHECK(j["cursor"] == 5000);
  CHECK(j["entries"] == data.size());

  auto ls = run_slip({"export", "ls", url, "--json"}, "", s3.env());
  REQUIRE_MESSAGE(ls.exit_code == ec::kOk, ls.err);
  CHECK(nlohmann::json::parse(ls.out)["id"] == j["id"]);
  CHECK(nlohmann::json::parse(ls.out)["current"] == true);

  for (std::string backend : {"log", "leveldb"}) {
    auto imp = run_slip({"import", url, "--to", tmp.file("dst-" + backend), "--backend", backend},
                        "", s3.env());
    REQUIRE_MESSAGE(imp.exit_code == ec::kOk, imp.err);
  }
  CHECK(fold_model(tmp.file("dst-log")) == data);
  // --endpoint instead of AWS_ENDPOINT_URL.
  auto flag = run_slip({"import", url, "--to", tmp.file("dst2"), "--endpoint", s3.endpoint()}, "",
                       with(s3.env(), "AWS_ENDPOINT_URL"));
  CHECK_MESSAGE(flag.exit_code == ec::kOk, flag.err);
}

TEST_CASE("export s3: the server killed mid-upload leaves the pointer and the old artifact") {
  auto s3 = std::make_unique<S3Server>();
  TempDir tmp;
  const Model first = make_fold(tmp.file("first.snap"), 1000, 100, 100, 2);
  const std::string url = s3->url("exports");
  auto ok = run_slip({"export", "--from", tmp.file("first.snap"), "--bucket", "cfg", "--to", url},
                     "", s3->env());
  REQUIRE_MESSAGE(ok.exit_code == ec::kOk, ok.err);

  // About 64 MB that zstd cannot shrink: eight 8 MiB parts.
  make_fold(tmp.file("big.snap"), 64000, 1000, 200, 3);
  slip::test::BackgroundProcess exporter(background_export(s3->env(), tmp.file("big.snap"), url),
                                         tmp.file("export.out"));
  // The event: the first part of the multipart upload is stored.
  REQUIRE(slip::test::wait_until([&] { return has_upload_part(s3->data_dir()); }, 60s));
  const std::string data_dir = s3->data_dir();
  // Keep the data directory: move it out of the fixture's TempDir first.
  s3->kill9();
  std::filesystem::rename(data_dir, tmp.file("s3data"));
  s3.reset();
  const int code = exporter.wait(120s);
  CHECK(code == ec::kUnavailable);
  const std::string err = slip::test::read_file(tmp.file("export.out.err"));
  CHECK(err.rfind("slip: error: ", 0) == 0);

  RevivedS3 revived(tmp.file("s3data"), "slip-test");
  auto env = with(
      with({"AWS_ACCESS_KEY_ID=S3RVER", "AWS_SECRET_ACCESS_KEY=S3RVER"}, "AWS_REGION=us-east-1"),
      "AWS_ENDPOINT_URL=" + revived.endpoint());
  auto ls = run_slip({"export", "ls", url, "--json"}, "", env);
  REQUIRE_MESSAGE(ls.exit_code == ec::kOk, ls.err);
  auto listed = nlohmann::json::parse(ls.out.substr(0, ls.out.find('\n')));
  CHECK(listed["cursor"] == 100);
  CHECK(listed["current"] == true);
  CHECK(std::count(ls.out.begin(), ls.out.end(), '\n') == 1);  // no manifest of the big one
  auto imp = run_slip({"import", url, "--to", tmp.file("dst")}, "", env);
  REQUIRE_MESSAGE(imp.exit_code == ec::kOk, imp.err);
  CHECK(fold_model(tmp.file("dst")) == first);
}

TEST_CASE("export s3: wrong credentials are a clear error that prints no secret") {
  S3Server s3;
  TempDir tmp;
  make_fold(tmp.file("fold.snap"), 10, 10, 10, 4);
  const std::string secret = "wJalrXUtnFEMI-K7MDENG-bPxRfiCYEXAMPLEKEY";
  auto env = s3.env();
  env.push_back("AWS_ACCESS_KEY_ID=AKIAWRONGWRONGWRONG");
  env.push_back("AWS_SECRET_ACCESS_KEY=" + secret);
  for (const std::vector<std::string>& args :
       {std::vector<std::string>{"export", "--from", tmp.file("fold.snap"), "--bucket", "cfg",
                                 "--to", s3.url("x")},
        std::vector<std::string>{"import", s3.url("x"), "--to", tmp.file("dst")},
        std::vector<std::string>{"export", "ls", s3.url("x")}}) {
    CAPTURE(args[0]);
    auto r = run_slip(args, "", env);
    CHECK(r.exit_code != ec::kOk);
    CHECK(r.exit_code != ec::kDamaged);
    CHECK(r.err.rfind("slip: error: ", 0) == 0);
    CHECK(r.err.find('\n') == r.err.size() - 1);
    CHECK(r.err.find(secret) == std::string::npos);
    CHECK(r.out.find(secret) == std::string::npos);
  }
  CHECK_FALSE(slip::test::file_exists(tmp.file("dst")));
}

TEST_CASE("export s3: interrupted while the server hangs, it leaves no payload in TMPDIR") {
  SilentServer silent;
  TempDir tmp;
  make_fold(tmp.file("fold.snap"), 2000, 200, 50, 5);
  const std::string scratch = tmp.file("scratch");
  std::filesystem::create_directory(scratch);
  slip::test::BackgroundProcess exporter(
      background_export(
          {"TMPDIR=" + scratch, "AWS_ACCESS_KEY_ID=AKIDEXAMPLE", "AWS_SECRET_ACCESS_KEY=x",
           "AWS_REGION=us-east-1", "AWS_ENDPOINT_URL=" + silent.endpoint()},
          tmp.file("fold.snap"), "s3://b/exports"),
      tmp.file("export.out"));
  // The event: the payload is staged in TMPDIR and a request is waiting on
  // a server that never answers (the signal reaches it in flight).
  REQUIRE(slip::test::wait_until([&] { return silent.connected(); }, 30s));
  REQUIRE_FALSE(std::filesystem::is_empty(scratch));
  CHECK(exporter.stop(SIGINT) == ec::kInterrupted);
  CHECK(std::filesystem::is_empty(scratch));
}

TEST_CASE("export s3: interrupted mid-upload, it stops, publishes nothing and exits 130") {
  S3Server s3;
  TempDir tmp;
  const std::string url = s3.url("exports");
  // About 64 MB that zstd cannot shrink: eight 8 MiB parts.
  make_fold(tmp.file("big.snap"), 64000, 1000, 200, 6);
  const std::string scratch = tmp.file("scratch");
  std::filesystem::create_directory(scratch);
  slip::test::BackgroundProcess exporter(
      background_export(with(s3.env(), "TMPDIR=" + scratch), tmp.file("big.snap"), url),
      tmp.file("export.out"));
  // The event: the first part of the multipart upload is stored.
  REQUIRE(slip::test::wait_until([&] { return has_upload_part(s3.data_dir()); }, 60s));
  CHECK(exporter.stop(SIGINT) == ec::kInterrupted);
  CHECK(slip::test::read_file(tmp.file("export.out.err")).find("interrupted") != std::string::npos);
  // (The multipart upload is aborted on the way out; s3rver does not
  // implement AbortMultipartUpload, so its parts stay on this server.)
  CHECK(std::filesystem::is_empty(scratch));
  auto ls = run_slip({"export", "ls", url, "--json"}, "", s3.env());
  CHECK(ls.exit_code == ec::kOk);
  CHECK(ls.out.empty());  // nothing was published
}
