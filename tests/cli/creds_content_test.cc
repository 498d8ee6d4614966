// Credentials as content (NATS_CREDS_B64, --creds-base64 -) against a
// server in operator (JWT) mode, on every server of the matrix: they
// authenticate like the same .creds file does, a malformed value is exit 2
// naming where it came from, and the secret never appears in output.
#include <doctest/doctest.h>

#include "core/text.h"
#include "slip/exit_codes.h"
#include "support/files.h"
#include "support/nats_jwt.h"
#include "support/nats_server.h"
#include "support/process.h"

using slip::test::NatsServer;
using slip::test::NatsServerOptions;
using slip::test::run_slip;
namespace ec = slip::exit_code;

namespace {

bool has(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

}  // namespace

TEST_CASE("connection: credentials as content authenticate, and never show" *
          doctest::test_suite("nats")) {
  const slip::test::JwtSetup jwt = slip::test::make_jwt_setup();
  NatsServerOptions options;
  options.config = jwt.server_config;
  NatsServer server(options);
  slip::test::TempDir dir;
  const std::string creds_file = dir.file("edge.creds");
  slip::test::write_file(creds_file, jwt.user_creds);
  const std::string b64 = slip::to_base64(jwt.user_creds);
  const std::vector<std::string> no_creds_env = {"NATS_CREDS", "NATS_CREDS_B64", "NATS_CONTEXT",
                                                 "HOME=" + dir.path(), "XDG_CONFIG_HOME"};
  auto env_with = [&](const std::string& extra) {
    auto env = no_creds_env;
    env.push_back(extra);
    return env;
  };
  auto with_server = [&](std::vector<std::string> args) {
    args.push_back("-s");
    args.push_back(server.url());
    return args;
  };
  auto secret_free = [&](const slip::test::ProcessResult& r) {
    return !has(r.out, jwt.user_seed) && !has(r.err, jwt.user_seed) && !has(r.err, b64);
  };

  // Without credentials the server turns slip away; with the file it is in.
  auto anonymous = run_slip(with_server({"kv", "ls"}), "", no_creds_env);
  CHECK(anonymous.exit_code != ec::kOk);
  auto by_file = run_slip(with_server({"kv", "add", "cfg", "--creds", creds_file}), "",
                          no_creds_env);
  REQUIRE_MESSAGE(by_file.exit_code == ec::kOk, by_file.err);

  // The environment variable.
  auto put = run_slip(with_server({"kv", "put", "cfg", "k", "from-env"}), "",
                      env_with("NATS_CREDS_B64=" + b64));
  REQUIRE_MESSAGE(put.exit_code == ec::kOk, put.err);
  CHECK(secret_free(put));

  // Standard input; base64 wrapped over lines, as `base64` writes it.
  std::string wrapped;
  for (std::size_t i = 0; i < b64.size(); i += 76) wrapped += b64.substr(i, 76) + "\n";
  auto get = run_slip(with_server({"kv", "get", "cfg", "k", "--creds-base64", "-"}), wrapped,
                      no_creds_env);
  REQUIRE_MESSAGE(get.exit_code == ec::kOk, get.err);
  CHECK(get.out == "from-env");
  CHECK(secret_free(get));

  // A value on the command line would be visible in ps: refused.
  auto inline_value = run_slip(with_server({"kv", "ls", "--creds-base64", b64}), "", no_creds_env);
  CHECK(inline_value.exit_code == ec::kUsage);
  CHECK(has(inline_value.err, "--creds-base64 takes '-'"));
  CHECK(!has(inline_value.err, b64));

  // A command that reads its own input from stdin cannot share it.
  auto shared = run_slip(with_server({"kv", "put", "cfg", "k", "--creds-base64", "-"}), wrapped,
                         no_creds_env);
  CHECK(shared.exit_code == ec::kUsage);
  CHECK(has(shared.err, "cannot share"));

  // Malformed values: exit 2, naming the variable, never echoing it.
  auto not_b64 = run_slip(with_server({"kv", "ls"}), "", env_with("NATS_CREDS_B64=***not base64"));
  CHECK(not_b64.exit_code == ec::kUsage);
  CHECK(has(not_b64.err, "NATS_CREDS_B64 is not base64"));
  CHECK(!has(not_b64.err, "not base64***"));
  auto no_jwt = run_slip(with_server({"kv", "ls"}), "",
                         env_with("NATS_CREDS_B64=" + slip::to_base64("just some text")));
  CHECK(no_jwt.exit_code == ec::kUsage);
  CHECK(has(no_jwt.err, "NATS_CREDS_B64: no user JWT"));
  std::string bad_seed = jwt.user_creds;
  bad_seed.replace(bad_seed.find(jwt.user_seed) + 10, 1, "0");  // 0 is not base32
  auto broken = run_slip(with_server({"kv", "ls"}), "",
                         env_with("NATS_CREDS_B64=" + slip::to_base64(bad_seed)));
  CHECK(broken.exit_code == ec::kUsage);
  CHECK(has(broken.err, "NATS_CREDS_B64"));
  CHECK(!has(broken.err, jwt.user_seed.substr(0, 20)));

  // A file and content together: refused rather than guessed.
  auto both = run_slip(with_server({"kv", "ls", "--creds", creds_file}), "",
                       env_with("NATS_CREDS_B64=" + b64));
  CHECK(both.exit_code == ec::kUsage);
  CHECK(has(both.err, "use one"));
}
