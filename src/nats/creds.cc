#include "nats/creds.h"

#include <cstdlib>
#include <cstring>
#include <vector>

#include "nats/nkey.h"

namespace slip::nats {

namespace {

std::vector<std::string_view> lines_of(std::string_view text) {
  std::vector<std::string_view> out;
  while (!text.empty()) {
    auto nl = text.find('\n');
    std::string_view line = text.substr(0, nl);
    while (!line.empty() && (line.back() == '\r' || line.back() == ' ' || line.back() == '\t'))
      line.remove_suffix(1);
    while (!line.empty() && (line.front() == ' ' || line.front() == '\t')) line.remove_prefix(1);
    out.push_back(line);
    if (nl == std::string_view::npos) break;
    text.remove_prefix(nl + 1);
  }
  return out;
}

// The one line between the line containing BEGIN and the next "-----" line.
std::string block(const std::vector<std::string_view>& lines, std::string_view begin) {
  for (std::size_t i = 0; i < lines.size(); ++i) {
    if (lines[i].rfind("---", 0) != 0 || lines[i].find(begin) == std::string_view::npos) continue;
    std::string body;
    for (std::size_t j = i + 1; j < lines.size() && lines[j].rfind("---", 0) != 0; ++j) {
      body += lines[j];
    }
    return body;
  }
  return {};
}

char* copy_for_cnats(const std::string& s) {
  char* out = static_cast<char*>(std::malloc(s.size() + 1));
  if (out != nullptr) std::memcpy(out, s.c_str(), s.size() + 1);
  return out;
}

natsStatus jwt_callback(char** jwt, char** error, void* closure) {
  const auto* creds = static_cast<const UserCredentials*>(closure);
  *jwt = copy_for_cnats(creds->jwt);
  if (*jwt != nullptr) return NATS_OK;
  *error = copy_for_cnats("out of memory");
  return NATS_NO_MEMORY;
}

natsStatus sign_callback(char** error, unsigned char** signature, int* length, const char* nonce,
                         void* closure) {
  const auto* creds = static_cast<const UserCredentials*>(closure);
  auto sig = nkey_sign(creds->seed, nonce);
  if (!sig) {
    *error = copy_for_cnats(sig.status().message());
    return NATS_ERR;
  }
  *signature = static_cast<unsigned char*>(std::malloc(sig->size()));
  if (*signature == nullptr) return NATS_NO_MEMORY;
  std::memcpy(*signature, sig->data(), sig->size());
  *length = static_cast<int>(sig->size());
  return NATS_OK;
}

}  // namespace

UserCredentials::~UserCredentials() {
  volatile char* p = seed.data();
  for (std::size_t i = 0; i < seed.size(); ++i) p[i] = 0;
}

Status parse_user_credentials(std::string_view text, const std::string& source,
                              UserCredentials* out) {
  const auto lines = lines_of(text);
  out->jwt = block(lines, "BEGIN NATS USER JWT");
  out->seed = block(lines, "BEGIN USER NKEY SEED");
  if (out->jwt.empty()) {
    return Status::invalid_argument(source + ": no user JWT in the credentials (expected the "
                                             "content of a .creds file, base64-encoded)");
  }
  if (out->seed.empty()) {
    return Status::invalid_argument(source + ": no user nkey seed in the credentials");
  }
  if (auto pub = nkey_public_from_seed(out->seed); !pub) {
    return Status::invalid_argument(source + ": " + pub.status().message());
  }
  return Status::ok();
}

natsStatus use_user_credentials(natsOptions* opts, const UserCredentials* creds) {
  void* closure = const_cast<UserCredentials*>(creds);
  return natsOptions_SetUserCredentialsCallbacks(opts, jwt_callback, closure, sign_callback,
                                                 closure);
}

}  // namespace slip::nats
