// Connecting to NATS. The only public entry point of src/nats/: everything
// else is reached through the kv:: interfaces.
#pragma once

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "slip/kv.h"
#include "slip/status.h"

namespace slip::nats {

// Everything a connection needs, already resolved from flags, environment
// and natscli contexts (see cmd/connection_flags.h). Secrets live here and
// must never be printed: use redact_url() for URLs.
struct ConnectOptions {
  std::vector<std::string> servers{"nats://127.0.0.1:4222"};
  std::string user;
  std::string password;
  std::string token;
  std::string creds_file;
  // A .creds file's text, for credentials given as content (--creds-base64,
  // NATS_CREDS_B64), and where it came from, for errors. Never written out.
  std::string creds_content;
  std::string creds_source;
  std::string nkey_seed_file;
  std::string tls_ca;
  std::string tls_cert;
  std::string tls_key;
  bool tls_first = false;
  std::chrono::milliseconds timeout{5000};
  std::string name = "slip";
  // Reconnect forever with backoff once connected (daemons), or give up
  // after a few attempts (one-shot commands).
  bool reconnect_forever = false;
};

Result<std::unique_ptr<kv::Client>> connect(const ConnectOptions& options);

// "nats://alice:s3cret@host:4222" -> "nats://alice:***@host:4222"; a lone
// "token@host" userinfo is hidden whole.
std::string redact_url(const std::string& url);

}  // namespace slip::nats
