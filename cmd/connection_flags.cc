#include "connection_flags.h"

#include <nlohmann/json.hpp>

#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <sstream>

#include "core/duration.h"
#include "core/text.h"

namespace slip::cli {

void add_connection_flags(CLI::App* app, ConnectionFlags& f) {
  const char* group = "Connection";
  app->add_option("-s,--server", f.server, "NATS server URLs, comma separated")
      ->envname("NATS_URL")
      ->type_name("URL")
      ->group(group);
  app->add_option("--user", f.user, "User name")
      ->envname("NATS_USER")
      ->type_name("USER")
      ->group(group);
  app->add_option("--password", f.password, "Password")
      ->envname("NATS_PASSWORD")
      ->type_name("PASSWORD")
      ->group(group);
  app->add_option("--token", f.token, "Authentication token")->type_name("TOKEN")->group(group);
  app->add_option("--creds", f.creds,
                  "User credentials file (JWT and seed); a file and credentials given as "
                  "content (--creds-base64, NATS_CREDS_B64) exclude each other")
      ->envname("NATS_CREDS")
      ->type_name("FILE")
      ->group(group);
  app->add_option("--creds-base64", f.creds_base64,
                  "'-': read the credentials (a .creds file's content, base64) from standard "
                  "input; NATS_CREDS_B64 holds the same in the environment. Never written to "
                  "disk; beats a natscli context's creds")
      ->type_name("-")
      ->group(group);
  app->add_option("--nkey", f.nkey, "User NKey seed file")
      ->envname("NATS_NKEY")
      ->type_name("FILE")
      ->group(group);
  app->add_option("--tlsca", f.tlsca, "CA certificate file to verify the server with")
      ->envname("NATS_CA")
      ->type_name("FILE")
      ->group(group);
  app->add_option("--tlscert", f.tlscert, "Client certificate file")
      ->envname("NATS_CERT")
      ->type_name("FILE")
      ->group(group);
  app->add_option("--tlskey", f.tlskey, "Client private key file")
      ->envname("NATS_KEY")
      ->type_name("FILE")
      ->group(group);
  app->add_flag("--tlsfirst", f.tlsfirst, "Start TLS before the server's INFO (needs cnats 3.7+)")
      ->group(group);
  app->add_option("--timeout", f.timeout,
                  "Time to wait for the server and for responses (default 5s)")
      ->envname("NATS_TIMEOUT")
      ->type_name("DURATION")
      ->group(group);
  app->add_option("--context", f.context, "natscli context to take connection settings from")
      ->envname("NATS_CONTEXT")
      ->type_name("NAME")
      ->group(group);
}

namespace {

// A .creds file is about 1 KB; its base64 a third more.
constexpr std::size_t kMaxCredsBytes = 64 * 1024;

Result<std::string> read_bounded_stdin(std::size_t limit) {
  std::string data;
  char buf[4096];
  for (;;) {
    ssize_t n = ::read(0, buf, sizeof(buf));
    if (n < 0) {
      if (errno == EINTR) continue;
      return Status::from_errno(errno, "read standard input");
    }
    if (n == 0) return data;
    data.append(buf, static_cast<std::size_t>(n));
    if (data.size() > limit) {
      return Status::invalid_argument("more than " + std::to_string(limit / 1024) +
                                      " KiB on standard input: not a .creds file's content");
    }
  }
}

std::string config_dir(const EnvLookup& env) {
  if (const char* xdg = env("XDG_CONFIG_HOME"); xdg != nullptr && *xdg != '\0')
    return std::string(xdg) + "/nats";
  if (const char* home = env("HOME"); home != nullptr && *home != '\0')
    return std::string(home) + "/.config/nats";
  return "";
}

// The natscli context to use, or empty for none. An explicitly named
// context that does not exist is an error; a missing context.txt is not.
Result<nlohmann::json> load_context(const std::string& explicit_name, const EnvLookup& env) {
  const std::string dir = config_dir(env);
  std::string name = explicit_name;
  if (name.empty() && !dir.empty()) {
    std::ifstream selected(dir + "/context.txt");
    std::getline(selected, name);
    while (!name.empty() && (name.back() == '\n' || name.back() == ' ' || name.back() == '\r'))
      name.pop_back();
  }
  if (name.empty()) return nlohmann::json::object();
  if (name.find('/') != std::string::npos || name.find("..") != std::string::npos) {
    return Status::invalid_argument("invalid context name '" + name + "'");
  }
  const std::string path = dir + "/context/" + name + ".json";
  std::ifstream in(path);
  if (!in) {
    return Status::invalid_argument("natscli context '" + name + "' not found (looked for " + path +
                                    ")");
  }
  std::stringstream text;
  text << in.rdbuf();
  auto j = nlohmann::json::parse(text.str(), nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded() || !j.is_object()) {
    return Status::invalid_argument("natscli context file " + path + " is not valid JSON");
  }
  return j;
}

void fill(std::string& target, const nlohmann::json& ctx, const char* field) {
  if (!target.empty()) return;
  auto it = ctx.find(field);
  if (it != ctx.end() && it->is_string()) target = it->get<std::string>();
}

std::vector<std::string> split_urls(const std::string& text) {
  std::vector<std::string> urls;
  std::stringstream in(text);
  for (std::string url; std::getline(in, url, ',');) {
    while (!url.empty() && url.front() == ' ') url.erase(url.begin());
    while (!url.empty() && url.back() == ' ') url.pop_back();
    if (url.empty()) continue;
    if (url.find("://") == std::string::npos) url = "nats://" + url;
    urls.push_back(url);
  }
  return urls;
}

}  // namespace

Result<nats::ConnectOptions> resolve_connection(const ConnectionFlags& flags,
                                                const EnvLookup& env) {
  ConnectionFlags f = flags;
  // CLI11 reads the environment for most flags; the token has no natscli
  // variable of its own beyond NATS_TOKEN, read here for direct callers too.
  auto from_env = [&](std::string& target, const char* name) {
    if (!target.empty()) return;
    if (const char* v = env(name); v != nullptr) target = v;
  };
  from_env(f.server, "NATS_URL");
  from_env(f.user, "NATS_USER");
  from_env(f.password, "NATS_PASSWORD");
  from_env(f.token, "NATS_TOKEN");
  from_env(f.creds, "NATS_CREDS");
  from_env(f.nkey, "NATS_NKEY");
  from_env(f.tlsca, "NATS_CA");
  from_env(f.tlscert, "NATS_CERT");
  from_env(f.tlskey, "NATS_KEY");
  from_env(f.timeout, "NATS_TIMEOUT");
  from_env(f.context, "NATS_CONTEXT");

  // Credentials as content: from standard input, else NATS_CREDS_B64. A
  // value on the command line would be visible to every user of the
  // machine (ps, /proc), so none is taken.
  std::string creds_b64, creds_source;
  if (!f.creds_base64.empty()) {
    if (f.creds_base64 != "-") {
      return Status::invalid_argument(
          "--creds-base64 takes '-' (the content on standard input): a value on the command line "
          "is visible to every user of this machine; or set NATS_CREDS_B64");
    }
    auto in = read_bounded_stdin(kMaxCredsBytes);
    if (!in) return in.status().with_context("--creds-base64 -");
    creds_b64 = std::move(*in);
    creds_source = "--creds-base64 (standard input)";
  } else if (const char* v = env("NATS_CREDS_B64"); v != nullptr && *v != '\0') {
    creds_b64 = v;
    creds_source = "NATS_CREDS_B64";
  }
  std::string creds_content;
  if (!creds_source.empty()) {
    auto decoded = from_base64(creds_b64);
    if (!decoded || decoded->empty()) {
      return Status::invalid_argument(creds_source + " is not base64 text (expected a .creds "
                                                     "file's content, base64-encoded)");
    }
    if (!f.creds.empty()) {
      return Status::invalid_argument("both a credentials file (--creds or NATS_CREDS) and " +
                                      creds_source + " are given: use one");
    }
    creds_content = std::move(*decoded);
  }

  auto ctx = load_context(f.context, env);
  if (!ctx) return ctx.status();
  fill(f.server, *ctx, "url");
  fill(f.user, *ctx, "user");
  fill(f.password, *ctx, "password");
  fill(f.token, *ctx, "token");
  if (creds_content.empty()) fill(f.creds, *ctx, "creds");  // content beats a context's file
  fill(f.nkey, *ctx, "nkey");
  fill(f.tlsca, *ctx, "ca");
  fill(f.tlscert, *ctx, "cert");
  fill(f.tlskey, *ctx, "key");
  if (auto it = ctx->find("tls_first"); !f.tlsfirst && it != ctx->end() && it->is_boolean())
    f.tlsfirst = it->get<bool>();

  // A file flag naming nothing readable is bad input (exit 2), not an
  // unreachable server.
  for (const auto& [flag, file] : {std::pair<const char*, const std::string*>{"--creds", &f.creds},
                                   {"--nkey", &f.nkey},
                                   {"--tlsca", &f.tlsca},
                                   {"--tlscert", &f.tlscert},
                                   {"--tlskey", &f.tlskey}}) {
    if (!file->empty() && ::access(file->c_str(), R_OK) != 0) {
      return Status::invalid_argument(std::string(flag) + ": cannot read " + *file);
    }
  }

  nats::ConnectOptions o;
  if (!f.server.empty()) o.servers = split_urls(f.server);
  if (o.servers.empty())
    return Status::invalid_argument("no NATS server URL given (use -s or NATS_URL)");
  o.user = f.user;
  o.password = f.password;
  o.token = f.token;
  o.creds_file = f.creds;
  o.creds_content = std::move(creds_content);
  o.creds_source = creds_source;
  o.nkey_seed_file = f.nkey;
  o.tls_ca = f.tlsca;
  o.tls_cert = f.tlscert;
  o.tls_key = f.tlskey;
  o.tls_first = f.tlsfirst;
  if (!f.timeout.empty()) {
    auto t = parse_duration(f.timeout);
    if (!t) return t.status().with_context("--timeout");
    if (t->count() <= 0) return Status::invalid_argument("--timeout must be positive");
    o.timeout = *t;
  }
  return o;
}

Result<std::unique_ptr<kv::Client>> connect_from_flags(const ConnectionFlags& flags, bool daemon) {
  auto options = resolve_connection(flags, [](const char* name) { return std::getenv(name); });
  if (!options) return options.status();
  options->reconnect_forever = daemon;
  return nats::connect(*options);
}

}  // namespace slip::cli
