// raw_consumer: the limit for `slip watch BUCKET --until-caught-up`, a
// bare cnats ordered consumer that reads a bucket's current state.
//
//   raw_consumer --server URL --bucket NAME --expect N [--wait-ms MS]
//
// A synchronous ordered push consumer on stream KV_<bucket>, filter
// $KV.<bucket>.>, DeliverLastPerSubject (what slip's state-sync uses), read
// with natsSubscription_NextMsg until N messages have arrived. Per message
// it does only what any reader must: take the message, parse its JetStream
// metadata, look at the data. Like slip, it lifts the client's pending
// limits (a consumer that falls behind would otherwise drop messages and
// make the ordered consumer start over). Prints one line with the count,
// the payload bytes and the time from subscribing to the last message.
// Exits 1 when no message arrives for 10 s before N were seen. --wait-ms is
// the JetStream API timeout (default 5000, cnats' default), which creating
// a DeliverLastPerSubject consumer on a big bucket can exceed.
#include <nats/nats.h>

#include <chrono>
#include <cinttypes>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "nats/handles.h"

namespace {

using slip::nats::ConnectionPtr;
using slip::nats::JsCtxPtr;
using slip::nats::MetaPtr;
using slip::nats::MsgPtr;
using slip::nats::Subscription;

constexpr std::int64_t kNextTimeoutMs = 1000;
constexpr int kIdleLimit = 10;  // timeouts in a row before giving up

[[noreturn]] void usage(const char* why) {
  std::fprintf(stderr,
               "raw_consumer: %s\n"
               "usage: raw_consumer --server URL --bucket NAME --expect N [--wait-ms MS]\n",
               why);
  std::exit(2);
}

[[noreturn]] void fail(const char* what, natsStatus s) {
  std::fprintf(stderr, "raw_consumer: %s: %s\n", what, natsStatus_GetText(s));
  nats_PrintLastErrorStack(stderr);
  std::exit(1);
}

}  // namespace

int main(int argc, char** argv) {
  std::string server = "nats://127.0.0.1:4222";
  std::string bucket;
  std::uint64_t expect = 0;
  std::int64_t wait_ms = 5000;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    if (i + 1 >= argc) usage(("missing value for " + arg).c_str());
    const char* value = argv[++i];
    if (arg == "--server") {
      server = value;
    } else if (arg == "--bucket") {
      bucket = value;
    } else if (arg == "--expect") {
      expect = std::strtoull(value, nullptr, 10);
    } else if (arg == "--wait-ms") {
      wait_ms = std::strtoll(value, nullptr, 10);
    } else {
      usage(("unknown argument " + arg).c_str());
    }
  }
  if (bucket.empty() || expect == 0) usage("--bucket and --expect are required");

  natsConnection* nc_raw = nullptr;
  natsStatus s = natsConnection_ConnectTo(&nc_raw, server.c_str());
  ConnectionPtr nc(nc_raw);
  if (s != NATS_OK) fail("connect", s);
  jsOptions jo;
  jsOptions_Init(&jo);
  jo.Wait = wait_ms;
  jsCtx* js_raw = nullptr;
  s = natsConnection_JetStream(&js_raw, nc.get(), &jo);
  JsCtxPtr js(js_raw);
  if (s != NATS_OK) fail("JetStream context", s);

  const auto start = std::chrono::steady_clock::now();
  const std::string stream = "KV_" + bucket;
  const std::string filter = "$KV." + bucket + ".>";
  jsSubOptions so;
  jsSubOptions_Init(&so);
  so.Stream = stream.c_str();
  so.Ordered = true;
  so.Config.DeliverPolicy = js_DeliverLastPerSubject;
  jsErrCode jerr = static_cast<jsErrCode>(0);
  natsSubscription* sub_raw = nullptr;
  s = js_SubscribeSync(&sub_raw, js.get(), filter.c_str(), nullptr, &so, &jerr);
  Subscription sub(nc.get(), sub_raw);  // declared after nc: dropped before it
  if (s != NATS_OK) fail("subscribe", s);
  natsSubscription_SetPendingLimits(sub.get(), -1, -1);

  std::uint64_t count = 0;
  std::uint64_t bytes = 0;
  std::uint64_t last_seq = 0;
  int idle = 0;
  while (count < expect) {
    natsMsg* msg_raw = nullptr;
    s = natsSubscription_NextMsg(&msg_raw, sub.get(), kNextTimeoutMs);
    MsgPtr msg(msg_raw);
    if (s == NATS_TIMEOUT) {
      if (++idle == kIdleLimit) {
        std::fprintf(stderr, "raw_consumer: only %" PRIu64 " of %" PRIu64 " messages arrived\n",
                     count, expect);
        return 1;
      }
      continue;
    }
    if (s != NATS_OK) fail("next message", s);
    idle = 0;
    jsMsgMetaData* meta_raw = nullptr;
    s = natsMsg_GetMetaData(&meta_raw, msg.get());
    MetaPtr meta(meta_raw);
    if (s != NATS_OK) fail("message metadata", s);
    if (natsMsg_GetData(msg.get()) != nullptr) {
      bytes += static_cast<std::uint64_t>(natsMsg_GetDataLength(msg.get()));
    }
    last_seq = meta->Sequence.Stream;
    ++count;
  }
  const double secs =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::printf("raw_consumer: %" PRIu64 " entries, %" PRIu64 " value bytes, last revision %" PRIu64
              ", %.3f s, %.0f entries/s\n",
              count, bytes, last_seq, secs, count / secs);
  return 0;
}
