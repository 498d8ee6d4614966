#include "support/s3_server.h"

#include <signal.h>
#include <stdlib.h>
#include <unistd.h>

#include <chrono>
#include <regex>
#include <stdexcept>

#include "support/nats_server.h"

namespace slip::test {

namespace {

constexpr auto kReadyTimeout = std::chrono::seconds(15);

std::string read_or_empty(const std::string& path) {
  try {
    return read_file(path);
  } catch (const std::exception&) {
    return "";
  }
}

}  // namespace

std::string s3rver_script() {
  const char* env = std::getenv("SLIP_S3RVER");
  std::string path =
      env != nullptr && *env != '\0'
          ? env
          : std::string(SLIP_SOURCE_DIR) + "/.tools/node_modules/s3rver/bin/s3rver.js";
  if (::access(path.c_str(), R_OK) != 0) {
    throw std::runtime_error("s3rver not installed (no " + path +
                             "): run scripts/install-deps, which installs it with npm");
  }
  return path;
}

S3Server::S3Server(std::string bucket) : bucket_(std::move(bucket)) {
  const std::string script = s3rver_script();
  const std::string log_path = dir_.file("s3rver.log");
  // Port 0: the server picks a free port and prints it, so no other
  // process can take it between our choice and its bind.
  process_ = std::make_unique<BackgroundProcess>(
      // s3rver makes continuation tokens with DES, which OpenSSL 3 keeps
      // in its legacy provider.
      std::vector<std::string>{"node", "--openssl-legacy-provider", script, "-d", data_dir(), "-a",
                               "127.0.0.1", "-p", "0", "--silent", "--configure-bucket", bucket_},
      log_path);
  static const std::regex kListening(R"(listening on [0-9.]+:([0-9]+))");
  std::smatch match;
  bool up = wait_until(
      [&] {
        std::string out = read_or_empty(log_path);
        if (std::regex_search(out, match, kListening)) {
          port_ = std::stoi(match[1].str());
          return http_get(port_, "/" + bucket_).status == 200;
        }
        return !process_->running();
      },
      std::chrono::duration_cast<std::chrono::milliseconds>(kReadyTimeout));
  if (!up || port_ == 0 || !process_->running()) {
    std::string why = log();
    process_.reset();
    throw std::runtime_error("s3rver did not come up within 15 s; its output:\n" + why);
  }
}

S3Server::~S3Server() { process_.reset(); }  // SIGKILL and reap; TempDir removes the data

std::string S3Server::endpoint() const { return "http://127.0.0.1:" + std::to_string(port_); }

std::string S3Server::url(const std::string& prefix) const {
  return "s3://" + bucket_ + (prefix.empty() ? "" : "/" + prefix);
}

std::vector<std::string> S3Server::env() const {
  return {std::string("AWS_ACCESS_KEY_ID=") + kAccessKey,
          std::string("AWS_SECRET_ACCESS_KEY=") + kSecretKey,
          "AWS_REGION=us-east-1",
          "AWS_ENDPOINT_URL=" + endpoint(),
          "AWS_SESSION_TOKEN",
          "SLIP_S3_CONDITIONAL_WRITES"};
}

void S3Server::set_env() const {
  for (const auto& e : env()) {
    auto eq = e.find('=');
    if (eq == std::string::npos) {
      ::unsetenv(e.c_str());
    } else {
      ::setenv(e.substr(0, eq).c_str(), e.substr(eq + 1).c_str(), 1);
    }
  }
}

bool S3Server::running() { return process_ && process_->running(); }

void S3Server::kill9() {
  if (process_) process_->stop(SIGKILL);
}

std::string S3Server::log() const {
  return read_or_empty(dir_.file("s3rver.log")) + read_or_empty(dir_.file("s3rver.log.err"));
}

}  // namespace slip::test
