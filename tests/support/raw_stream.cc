#include "support/raw_stream.h"

#include <doctest/doctest.h>
#include <strings.h>

#include <algorithm>

#include "support/snapshot_model.h"

namespace slip::test {

namespace {

constexpr int kTimeoutMs = 5000;

std::string trim(const std::string& s) {
  const auto b = s.find_first_not_of(" \t");
  if (b == std::string::npos) return "";
  const auto e = s.find_last_not_of(" \t\r\n");
  return s.substr(b, e - b + 1);
}

std::int64_t ns(std::chrono::milliseconds d) {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(d).count();
}

}  // namespace

std::map<std::string, std::string> parse_header_block(const std::string& block) {
  std::map<std::string, std::string> out;
  std::size_t pos = block.find("\r\n");  // past "NATS/1.0[ status]"
  if (block.rfind("NATS/1.0", 0) != 0 || pos == std::string::npos) return out;
  pos += 2;
  while (pos < block.size()) {
    const auto end = block.find("\r\n", pos);
    const std::string line =
        block.substr(pos, end == std::string::npos ? std::string::npos : end - pos);
    if (line.empty()) break;
    const auto colon = line.find(':');
    if (colon != std::string::npos) out[trim(line.substr(0, colon))] = trim(line.substr(colon + 1));
    if (end == std::string::npos) break;
    pos = end + 2;
  }
  return out;
}

std::optional<std::string> RawMessage::header(const std::string& name) const {
  for (const auto& [k, v] : headers) {
    if (strcasecmp(k.c_str(), name.c_str()) == 0) return v;
  }
  return std::nullopt;
}

bool RawMessage::tombstone() const {
  auto op = header("KV-Operation");
  if (op && (*op == "DEL" || *op == "PURGE")) return true;
  return header("Nats-Marker-Reason").has_value();
}

RawStream::RawStream(const std::string& url, const std::string& bucket) : bucket_(bucket) {
  REQUIRE(natsConnection_ConnectTo(&nc_, url.c_str()) == NATS_OK);
}

RawStream::~RawStream() { natsConnection_Destroy(nc_); }

nlohmann::json RawStream::api(const std::string& subject, const nlohmann::json& body) {
  natsMsg* reply = nullptr;
  const std::string text = body.is_null() ? "" : body.dump();
  const natsStatus s =
      natsConnection_RequestString(&reply, nc_, subject.c_str(), text.c_str(), kTimeoutMs);
  REQUIRE_MESSAGE(s == NATS_OK, subject << ": " << natsStatus_GetText(s));
  const std::string data(natsMsg_GetData(reply) ? natsMsg_GetData(reply) : "",
                         static_cast<std::size_t>(natsMsg_GetDataLength(reply)));
  natsMsg_Destroy(reply);
  auto j = nlohmann::json::parse(data, nullptr, false);
  REQUIRE_MESSAGE(!j.is_discarded(), subject << " answered non-JSON: " << data);
  return j;
}

void RawStream::create(const RawStreamConfig& c) {
  const auto max_age = ns(c.max_age);
  const std::int64_t two_minutes = 120'000'000'000LL;
  nlohmann::json cfg = {
      {"name", stream()},
      {"subjects", {"$KV." + bucket_ + ".>"}},
      {"retention", "limits"},
      {"max_consumers", -1},
      {"max_msgs", -1},
      {"max_bytes", -1},
      {"max_age", max_age},
      {"max_msgs_per_subject", c.history},
      {"max_msg_size", -1},
      {"discard", "new"},
      {"storage", "file"},
      {"num_replicas", 1},
      {"duplicate_window", max_age > 0 ? std::min(max_age, two_minutes) : two_minutes},
      {"allow_rollup_hdrs", true},
      {"deny_delete", c.deny_delete},
      {"deny_purge", false},
      {"allow_direct", true},
  };
  if (c.allow_msg_ttl) cfg["allow_msg_ttl"] = true;
  if (c.marker_ttl.count() > 0) cfg["subject_delete_marker_ttl"] = ns(c.marker_ttl);
  auto reply = api("$JS.API.STREAM.CREATE." + stream(), cfg);
  REQUIRE_MESSAGE(!reply.contains("error"), "stream create: " << reply.dump());
}

std::uint64_t RawStream::publish(const std::string& key, const std::string& value,
                                 const std::string& ttl) {
  std::map<std::string, std::string> headers;
  if (!ttl.empty()) headers["Nats-TTL"] = ttl;
  return publish_with_headers(key, value, headers);
}

std::uint64_t RawStream::publish_with_headers(const std::string& key, const std::string& value,
                                              const std::map<std::string, std::string>& headers) {
  natsMsg* msg = nullptr;
  REQUIRE(natsMsg_Create(&msg, subject(key).c_str(), nullptr, value.data(),
                         static_cast<int>(value.size())) == NATS_OK);
  for (const auto& [name, v] : headers) {
    REQUIRE(natsMsgHeader_Set(msg, name.c_str(), v.c_str()) == NATS_OK);
  }
  natsMsg* reply = nullptr;
  const natsStatus s = natsConnection_RequestMsg(&reply, nc_, msg, kTimeoutMs);
  natsMsg_Destroy(msg);
  REQUIRE_MESSAGE(s == NATS_OK, "publish " << key << ": " << natsStatus_GetText(s));
  const std::string data(natsMsg_GetData(reply) ? natsMsg_GetData(reply) : "",
                         static_cast<std::size_t>(natsMsg_GetDataLength(reply)));
  natsMsg_Destroy(reply);
  auto ack = nlohmann::json::parse(data, nullptr, false);
  REQUIRE_MESSAGE((!ack.is_discarded() && ack.contains("seq")), "publish " << key << ": " << data);
  return ack["seq"].get<std::uint64_t>();
}

nlohmann::json RawStream::purge_subject(const std::string& key) {
  return api("$JS.API.STREAM.PURGE." + stream(), {{"filter", subject(key)}});
}

nlohmann::json RawStream::delete_message(std::uint64_t seq) {
  return api("$JS.API.STREAM.MSG.DELETE." + stream(), {{"seq", seq}});
}

nlohmann::json RawStream::state() {
  auto info = api("$JS.API.STREAM.INFO." + stream(), nlohmann::json());
  REQUIRE_MESSAGE(info.contains("state"), info.dump());
  return info["state"];
}

std::vector<std::string> RawStream::subjects() {
  std::vector<std::string> out;
  std::size_t offset = 0;
  for (;;) {
    auto info = api("$JS.API.STREAM.INFO." + stream(),
                    {{"subjects_filter", "$KV." + bucket_ + ".>"}, {"offset", offset}});
    REQUIRE_MESSAGE(info.contains("state"), info.dump());
    const auto& st = info["state"];
    std::size_t got = 0;
    if (st.contains("subjects") && st["subjects"].is_object()) {
      for (const auto& [subject, count] : st["subjects"].items()) {
        out.push_back(subject);
        ++got;
      }
    }
    const std::size_t total = info.value("total", std::size_t{0});
    offset += got;
    if (got == 0 || offset >= total) break;
  }
  std::sort(out.begin(), out.end());
  out.erase(std::unique(out.begin(), out.end()), out.end());
  return out;
}

namespace {

RawMessage decode_message(const nlohmann::json& reply) {
  REQUIRE_MESSAGE(reply.contains("message"), reply.dump());
  const auto& m = reply["message"];
  RawMessage out;
  out.seq = m.value("seq", std::uint64_t{0});
  out.subject = m.value("subject", std::string());
  if (m.contains("hdrs") && m["hdrs"].is_string())
    out.headers = parse_header_block(from_base64(m["hdrs"].get<std::string>()));
  if (m.contains("data") && m["data"].is_string())
    out.data = from_base64(m["data"].get<std::string>());
  return out;
}

bool not_found(const nlohmann::json& reply) {
  if (!reply.contains("error")) return false;
  REQUIRE_MESSAGE(reply["error"].value("code", 0) == 404, reply.dump());
  return true;
}

}  // namespace

std::optional<RawMessage> RawStream::last(const std::string& key) {
  // By the last-message lookup, as every client reads a key. (nats-server
  // 2.9.10 answers 404 here once the message-delete API removed a
  // subject's last message, though older ones remain; 2.10 is right.)
  auto reply = api("$JS.API.STREAM.MSG.GET." + stream(), {{"last_by_subj", subject(key)}});
  if (not_found(reply)) return std::nullopt;
  return decode_message(reply);
}

std::map<std::string, std::string> RawStream::truth() {
  std::map<std::string, std::string> out;
  const std::string prefix = "$KV." + bucket_ + ".";
  for (const auto& subject : subjects()) {
    if (subject.rfind(prefix, 0) != 0) continue;
    const std::string key = subject.substr(prefix.size());
    auto m = last(key);
    // Between the listing and the get, the server may have removed the
    // subject's last message (an expiry): then the key is gone.
    if (m && !m->tombstone()) out[key] = m->data;
  }
  return out;
}

}  // namespace slip::test
