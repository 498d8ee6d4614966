// Connecting like natscli: NKeys, TLS with a CA made here, natscli
// contexts and the precedence flag > environment > context > default.
#include <doctest/doctest.h>

#include "nats/nkey.h"
#include "slip/exit_codes.h"
#include "slip/nats.h"
#include "support/files.h"
#include "support/nats_server.h"
#include "support/process.h"

using slip::test::NatsServer;
using slip::test::run_slip;
namespace ec = slip::exit_code;

namespace {

// The NKey user pair from the NATS server documentation.
constexpr const char* kSeed = "SUACSSL3UAHUDXKFSNVUZRF5UHPMWZ6BFDTJ7M6USDXIEDNPPQYYYCU3VY";
constexpr const char* kPublic = "UDXU4RCSJNZOIQHZNWXHXORDPRTGNJAHAHFRGZNEEJCPQTT2M7NLCNF4";

// The environment of a slip run that sees no NATS settings of the machine.
std::vector<std::string> clean_env(const std::string& home) {
  return {"HOME=" + home, "XDG_CONFIG_HOME", "NATS_URL",   "NATS_CONTEXT",
          "NATS_USER",    "NATS_PASSWORD",   "NATS_CREDS", "NATS_NKEY",
          "NATS_CA",      "NATS_CERT",       "NATS_KEY",   "NATS_TIMEOUT"};
}

}  // namespace

TEST_CASE("connection: an NKey seed gives the documented public key") {
  auto pub = slip::nats::nkey_public_from_seed(kSeed);
  REQUIRE(pub.is_ok());
  CHECK(*pub == kPublic);
  std::string broken = kSeed;
  broken[10] = broken[10] == 'A' ? 'B' : 'A';  // the checksum no longer matches
  CHECK(slip::nats::nkey_public_from_seed(broken).status().kind() ==
        slip::StatusKind::kInvalidArgument);
  CHECK(slip::nats::nkey_public_from_seed("SXYZZYSEED").status().message().find("XYZZY") ==
        std::string::npos);
}

TEST_CASE("connection: redact_url hides passwords and tokens") {
  using slip::nats::redact_url;
  CHECK(redact_url("nats://alice:s3cret@host:4222") == "nats://alice:***@host:4222");
  CHECK(redact_url("nats://tok3n@host:4222") == "nats://***@host:4222");
  CHECK(redact_url("nats://host:4222") == "nats://host:4222");
  CHECK(redact_url("tls://u:p@h") == "tls://u:***@h");
  // A password may hold '/', '@' and ':' itself.
  CHECK(redact_url("nats://alice:pa/ss@w:rd@host:4222") == "nats://alice:***@host:4222");
}

TEST_CASE("connection: a file flag naming nothing readable is exit 2; URL passwords never echo") {
  auto ca = run_slip({"kv", "ls", "-s", "nats://127.0.0.1:1", "--tlsca", "/nonexistent/ca.pem"});
  CHECK(ca.exit_code == ec::kUsage);
  CHECK(ca.err.find("--tlsca") != std::string::npos);
  auto creds =
      run_slip({"kv", "ls", "-s", "nats://127.0.0.1:1", "--creds", "/nonexistent/u.creds"});
  CHECK(creds.exit_code == ec::kUsage);
  auto url = run_slip({"kv", "ls", "-s", "nats://alice:pa/ssW0RD@127.0.0.1:1"});
  CHECK(url.exit_code == ec::kUnavailable);
  CHECK(url.err.find("pa/ssW0RD") == std::string::npos);
  CHECK(url.err.find("ssW0RD") == std::string::npos);
}

TEST_CASE("connection: an NKey user authenticates with --nkey; a bad seed file is exit 2") {
  NatsServer server(
      {.config = std::string("authorization { users = [ { nkey: \"") + kPublic + "\" } ] }\n"});
  slip::test::TempDir dir;
  slip::test::write_file(dir.file("user.nk"), std::string(kSeed) + "\n");
  auto ok = run_slip({"kv", "add", "b", "-s", server.url(), "--nkey", dir.file("user.nk")});
  CHECK_MESSAGE(ok.exit_code == ec::kOk, ok.err);
  auto none = run_slip({"kv", "add", "b", "-s", server.url()});
  CHECK(none.exit_code == ec::kUnavailable);
  slip::test::write_file(dir.file("bad.nk"), "SUAGARBAGE\n");
  auto bad = run_slip({"kv", "add", "b", "-s", server.url(), "--nkey", dir.file("bad.nk")});
  CHECK(bad.exit_code == ec::kUsage);
  CHECK(bad.err.find("SUAGARBAGE") == std::string::npos);
}

TEST_CASE("connection: TLS verifies the server against --tlsca and refuses without it" * doctest::test_suite("nats")) {
  slip::test::TempDir dir;
  auto openssl = [&](std::vector<std::string> args) {
    args.insert(args.begin(), "openssl");
    auto r = slip::test::run_process(args);
    REQUIRE_MESSAGE(r.exit_code == 0, r.err);
  };
  openssl({"req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj",
           "/CN=slip test CA", "-keyout", dir.file("ca.key"), "-out", dir.file("ca.pem")});
  openssl({"req", "-newkey", "rsa:2048", "-nodes", "-subj", "/CN=127.0.0.1", "-keyout",
           dir.file("server.key"), "-out", dir.file("server.csr")});
  slip::test::write_file(dir.file("san.ext"), "subjectAltName=IP:127.0.0.1\n");
  openssl({"x509", "-req", "-in", dir.file("server.csr"), "-CA", dir.file("ca.pem"), "-CAkey",
           dir.file("ca.key"), "-CAcreateserial", "-days", "2", "-extfile", dir.file("san.ext"),
           "-out", dir.file("server.pem")});
  NatsServer server({.config = "tls { cert_file: \"" + dir.file("server.pem") +
                               "\"\n key_file: \"" + dir.file("server.key") + "\" }\n"});
  const std::string url = "tls://127.0.0.1:" + std::to_string(server.port());

  auto verified = run_slip({"kv", "add", "b", "-s", url, "--tlsca", dir.file("ca.pem")});
  CHECK_MESSAGE(verified.exit_code == ec::kOk, verified.err);
  auto put =
      run_slip({"kv", "put", "b", "k", "v", "-s", url}, "", {"NATS_CA=" + dir.file("ca.pem")});
  CHECK_MESSAGE(put.exit_code == ec::kOk, put.err);

  // No CA: the self-signed chain must not be accepted.
  auto unverified = run_slip({"kv", "get", "b", "k", "-s", url}, "",
                             {"NATS_CA", "SSL_CERT_FILE", "SSL_CERT_DIR"});
  CHECK(unverified.exit_code == ec::kUnavailable);
  CHECK(unverified.out.empty());
}

TEST_CASE("connection: natscli contexts, and flag > environment > context > default" * doctest::test_suite("nats")) {
  NatsServer server({.user = "ctx", .password = "C0ntext-Pa55"});
  slip::test::TempDir home;
  const std::string ctx_dir = home.path() + "/.config/nats/context";
  REQUIRE(slip::test::run_process({"mkdir", "-p", ctx_dir}).exit_code == 0);
  slip::test::write_file(
      ctx_dir + "/dev.json",
      "{\"url\": \"" + server.url() + "\", \"user\": \"ctx\", \"password\": \"C0ntext-Pa55\"}");
  slip::test::write_file(
      ctx_dir + "/wrong.json",
      "{\"url\": \"" + server.url() + "\", \"user\": \"ctx\", \"password\": \"Wr0ng-Pa55\"}");
  auto env = clean_env(home.path());

  // The selected context (context.txt) applies without any flag.
  slip::test::write_file(home.path() + "/.config/nats/context.txt", "dev\n");
  auto selected = run_slip({"kv", "add", "b"}, "", env);
  CHECK_MESSAGE(selected.exit_code == ec::kOk, selected.err);

  // --context names another one; a wrong password there is exit 4, unseen.
  auto wrong = run_slip({"kv", "ls", "--context", "wrong"}, "", env);
  CHECK(wrong.exit_code == ec::kUnavailable);
  CHECK(wrong.err.find("Wr0ng-Pa55") == std::string::npos);
  auto missing = run_slip({"kv", "ls", "--context", "nope"}, "", env);
  CHECK(missing.exit_code == ec::kUsage);

  // The environment beats the context: a dead URL there makes it fail.
  auto env_url = env;
  env_url.push_back("NATS_URL=nats://127.0.0.1:1");
  CHECK(run_slip({"kv", "ls"}, "", env_url).exit_code == ec::kUnavailable);
  // ... and a flag beats the environment.
  CHECK(run_slip({"kv", "ls", "-s", server.url()}, "", env_url).exit_code == ec::kOk);

  // Without context and environment the default is nats://127.0.0.1:4222.
  slip::test::write_file(home.path() + "/.config/nats/context.txt", "");
  auto defaulted = run_slip({"kv", "ls", "--timeout", "1s"}, "", env);
  if (defaulted.exit_code != ec::kOk)
    CHECK(defaulted.err.find("nats://127.0.0.1:4222") != std::string::npos);
}
