#include "support/nats_jwt.h"

#include <openssl/rand.h>

#include <chrono>
#include <nlohmann/json.hpp>
#include <stdexcept>

#include "core/text.h"
#include "nats/nkey.h"

namespace slip::test {

namespace {

struct Identity {
  std::string seed;
  std::string pub;
};

Identity make_identity(char type) {
  std::string raw(32, '\0');
  if (RAND_bytes(reinterpret_cast<unsigned char*>(raw.data()), 32) != 1)
    throw std::runtime_error("RAND_bytes failed");
  Identity id;
  id.seed = nats::nkey_encode_seed(type, raw);
  auto pub = nats::nkey_public_from_seed(id.seed);
  if (!pub) throw std::runtime_error(pub.status().message());
  id.pub = *pub;
  return id;
}

std::string base64url(std::string_view bytes) {
  std::string out = to_base64(bytes);
  while (!out.empty() && out.back() == '=') out.pop_back();
  for (char& c : out) {
    if (c == '+') c = '-';
    if (c == '/') c = '_';
  }
  return out;
}

// A NATS JWT: claims signed by ISSUER with the ed25519-nkey algorithm.
std::string encode_jwt(nlohmann::json claims, const Identity& issuer, const std::string& subject) {
  static int serial = 0;
  claims["jti"] = "slip-test-" + std::to_string(++serial) + "-" + subject.substr(0, 8);
  claims["iat"] = std::chrono::duration_cast<std::chrono::seconds>(
                      std::chrono::system_clock::now().time_since_epoch())
                      .count();
  claims["iss"] = issuer.pub;
  claims["sub"] = subject;
  const std::string signing_input =
      base64url(R"({"typ":"JWT","alg":"ed25519-nkey"})") + "." + base64url(claims.dump());
  auto sig = nats::nkey_sign(issuer.seed, signing_input);
  if (!sig) throw std::runtime_error(sig.status().message());
  return signing_input + "." + base64url(*sig);
}

}  // namespace

JwtSetup make_jwt_setup() {
  const Identity op = make_identity('O');
  const Identity account = make_identity('A');
  // JetStream in operator mode needs a system account.
  const Identity system = make_identity('A');
  const Identity user = make_identity('U');
  const std::string op_jwt =
      encode_jwt({{"name", "slip-test"}, {"nats", {{"type", "operator"}, {"version", 2}}}}, op,
                 op.pub);
  const nlohmann::json unlimited = {
      {"subs", -1},     {"data", -1},         {"payload", -1},      {"imports", -1},
      {"exports", -1},  {"wildcards", true},  {"conn", -1},         {"leaf", -1},
      {"mem_storage", -1}, {"disk_storage", -1}, {"streams", -1}, {"consumer", -1}};
  const std::string account_jwt = encode_jwt(
      {{"name", "app"},
       {"nats", {{"limits", unlimited}, {"type", "account"}, {"version", 2}}}},
      op, account.pub);
  const std::string system_jwt = encode_jwt(
      {{"name", "SYS"}, {"nats", {{"type", "account"}, {"version", 2}}}}, op, system.pub);
  const std::string user_jwt = encode_jwt(
      {{"name", "edge"},
       {"nats",
        {{"pub", nlohmann::json::object()},
         {"sub", nlohmann::json::object()},
         {"subs", -1},
         {"data", -1},
         {"payload", -1},
         {"type", "user"},
         {"version", 2}}}},
      account, user.pub);
  JwtSetup out;
  out.server_config = "operator: " + op_jwt + "\nsystem_account: " + system.pub +
                      "\nresolver: MEMORY\nresolver_preload: {\n  " + account.pub + ": " +
                      account_jwt + "\n  " + system.pub + ": " + system_jwt + "\n}\n";
  out.user_creds = "-----BEGIN NATS USER JWT-----\n" + user_jwt +
                   "\n------END NATS USER JWT------\n\n"
                   "************************* IMPORTANT *************************\n"
                   "NKEY Seed printed below can be used to sign and prove identity.\n\n"
                   "-----BEGIN USER NKEY SEED-----\n" +
                   user.seed + "\n------END USER NKEY SEED------\n";
  out.user_seed = user.seed;
  return out;
}

}  // namespace slip::test
