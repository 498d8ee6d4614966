// kv_load: creates a KV bucket (history 1) and fills it for the watch
// and mirror benchmarks.
//
//   kv_load --server URL --bucket NAME [--keys N] [--value-size V]
//           [--update --first K] [--purge-every M]
//
// Keys are "key/" plus the key number as 12 zero-padded digits (16 bytes,
// as in make_snapshot); values are V printable ASCII bytes, so slip prints
// them under "value", not "value_b64". Each key is written once, with
// js_PublishAsync on $KV.<bucket>.<key> (what kvStore_Put does, without
// waiting for each ack), and js_PublishAsyncComplete waits for the last
// acks. An existing bucket of that name is deleted first, so every run
// starts from exactly N revisions. With --update the bucket is kept and N
// keys from number K (default 0) are written again, with values that differ
// from the loaded ones: N new revisions on top of the bucket. With
// --purge-every M nothing is written: every M-th of the N keys from K is
// purged through the stream purge API with a subject filter, as an
// operator's tool would, which leaves no marker a watcher could see.
#include <nats/nats.h>

#include <chrono>
#include <cinttypes>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

#include "nats/handles.h"

namespace {

using slip::nats::ConnectionPtr;
using slip::nats::Deleter;
using slip::nats::JsCtxPtr;
using KvStorePtr = std::unique_ptr<kvStore, Deleter<kvStore_Destroy>>;

struct Options {
  std::string server = "nats://127.0.0.1:4222";
  std::string bucket;
  std::uint64_t keys = 1000000;
  std::size_t value_size = 100;
  bool update = false;
  std::uint64_t first = 0;
  std::uint64_t purge_every = 0;
};

[[noreturn]] void usage(const char* why) {
  std::fprintf(stderr,
               "kv_load: %s\n"
               "usage: kv_load --server URL --bucket NAME [--keys N] [--value-size V]\n"
               "               [--update [--first K]] [--purge-every M]\n",
               why);
  std::exit(2);
}

[[noreturn]] void fail(const char* what, natsStatus s) {
  std::fprintf(stderr, "kv_load: %s: %s\n", what, natsStatus_GetText(s));
  nats_PrintLastErrorStack(stderr);
  std::exit(1);
}

std::uint64_t parse_number(const char* text) {
  char* end = nullptr;
  std::uint64_t v = std::strtoull(text, &end, 10);
  if (end == text || *end != '\0') usage("bad number");
  return v;
}

Options parse(int argc, char** argv) {
  Options o;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    if (arg == "--update") {
      o.update = true;
      continue;
    }
    if (i + 1 >= argc) usage(("missing value for " + arg).c_str());
    const char* value = argv[++i];
    if (arg == "--server") {
      o.server = value;
    } else if (arg == "--bucket") {
      o.bucket = value;
    } else if (arg == "--keys") {
      o.keys = parse_number(value);
    } else if (arg == "--value-size") {
      o.value_size = parse_number(value);
    } else if (arg == "--first") {
      o.first = parse_number(value);
    } else if (arg == "--purge-every") {
      o.purge_every = parse_number(value);
      o.update = true;
    } else {
      usage(("unknown argument " + arg).c_str());
    }
  }
  if (o.bucket.empty()) usage("--bucket is required");
  return o;
}

// Counts publishes the server refused (the callback runs on cnats' own thread).
void on_publish_error(jsCtx*, jsPubAckErr* pae, void* closure) {
  auto* failures = static_cast<std::uint64_t*>(closure);
  if ((*failures)++ == 0) {
    std::fprintf(stderr, "kv_load: publish failed: %s\n",
                 pae->ErrText != nullptr ? pae->ErrText : natsStatus_GetText(pae->Err));
  }
}

}  // namespace

int main(int argc, char** argv) {
  const Options o = parse(argc, argv);

  natsConnection* nc_raw = nullptr;
  natsStatus s = natsConnection_ConnectTo(&nc_raw, o.server.c_str());
  ConnectionPtr nc(nc_raw);
  if (s != NATS_OK) fail("connect", s);

  // The counter is shared with cnats' callback thread, but only read after
  // js_PublishAsyncComplete, when every ack has been handled.
  std::uint64_t failures = 0;
  jsOptions jo;
  jsOptions_Init(&jo);
  jo.PublishAsync.MaxPending = 4096;  // enough to keep the server busy, bounded memory
  jo.PublishAsync.StallWait = 10000;
  jo.PublishAsync.ErrHandler = on_publish_error;
  jo.PublishAsync.ErrHandlerClosure = &failures;
  jsCtx* js_raw = nullptr;
  s = natsConnection_JetStream(&js_raw, nc.get(), &jo);
  JsCtxPtr js(js_raw);
  if (s != NATS_OK) fail("JetStream context", s);

  KvStorePtr kv;
  if (!o.update) {
    const std::string stream = "KV_" + o.bucket;
    jsErrCode jerr = static_cast<jsErrCode>(0);
    s = js_DeleteStream(js.get(), stream.c_str(), nullptr, &jerr);
    if (s != NATS_OK && s != NATS_NOT_FOUND) fail("delete the old bucket", s);

    kvConfig cfg;
    kvConfig_Init(&cfg);
    cfg.Bucket = o.bucket.c_str();
    cfg.History = 1;
    kvStore* kv_raw = nullptr;
    s = js_CreateKeyValue(&kv_raw, js.get(), &cfg);
    kv.reset(kv_raw);
    if (s != NATS_OK) fail("create the bucket", s);
  }

  if (o.purge_every > 0) {
    const std::string api = "$JS.API.STREAM.PURGE.KV_" + o.bucket;
    std::uint64_t purged = 0;
    char body[512];
    for (std::uint64_t k = o.first; k < o.first + o.keys; k += o.purge_every) {
      std::snprintf(body, sizeof(body), "{\"filter\":\"$KV.%s.key/%012" PRIu64 "\"}",
                    o.bucket.c_str(), k);
      natsMsg* reply = nullptr;
      s = natsConnection_RequestString(&reply, nc.get(), api.c_str(), body, 10000);
      if (s != NATS_OK) fail("stream purge", s);
      const bool ok = std::strstr(natsMsg_GetData(reply), "\"success\":true") != nullptr;
      natsMsg_Destroy(reply);
      if (!ok) fail("stream purge refused", NATS_ERR);
      ++purged;
    }
    std::fprintf(stderr, "kv_load: purged %" PRIu64 " keys of %s through the stream API\n", purged,
                 o.bucket.c_str());
    return 0;
  }

  std::string value(o.value_size, 'v');
  for (std::size_t i = 0; i < value.size(); ++i) value[i] = static_cast<char>('a' + i % 26);
  if (o.update && !value.empty()) value[0] = 'U';
  const std::string prefix = "$KV." + o.bucket + ".key/";
  char subject[256];
  const auto start = std::chrono::steady_clock::now();
  for (std::uint64_t k = o.first; k < o.first + o.keys; ++k) {
    std::snprintf(subject, sizeof(subject), "%s%012" PRIu64, prefix.c_str(), k);
    // A stall (MaxPending acks outstanding for StallWait) is a timeout: wait and retry.
    while ((s = js_PublishAsync(js.get(), subject, value.data(), static_cast<int>(value.size()),
                                nullptr)) == NATS_TIMEOUT) {
    }
    if (s != NATS_OK) fail("publish", s);
  }
  jsPubOptions po;
  jsPubOptions_Init(&po);
  po.MaxWait = 60000;
  s = js_PublishAsyncComplete(js.get(), &po);
  if (s != NATS_OK) fail("wait for the publish acks", s);
  const double secs =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  if (failures != 0) {
    std::fprintf(stderr, "kv_load: %" PRIu64 " publishes failed\n", failures);
    return 1;
  }
  std::fprintf(stderr, "kv_load: %" PRIu64 " keys x %zu B into %s in %.2f s (%.0f keys/s)\n",
               o.keys, o.value_size, o.bucket.c_str(), secs, o.keys / secs);
  return 0;
}
