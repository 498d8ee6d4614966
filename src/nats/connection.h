// The shared state behind a NATS kv::Client: one connection and one
// JetStream context. Buckets and watchers hold a shared_ptr to it, so the
// connection outlives everything that uses it.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "nats/handles.h"
#include "slip/nats.h"

namespace slip::nats {

struct UserCredentials;

struct Connection {
  // Credentials given as content: cnats calls back for them on every
  // reconnect, so they outlive the connection (members go in reverse).
  std::shared_ptr<const UserCredentials> creds;
  ConnectionPtr nc;
  JsCtxPtr js;
  std::int64_t wait_ms = 5000;  // JetStream API request timeout
  int api_level = -1;           // see jetstream_api_level(): -1 until asked
  // Contexts with a longer wait, for creating consumers (consumer_context):
  // kept until the connection goes, since subscriptions hold on to them.
  std::vector<std::pair<std::int64_t, JsCtxPtr>> consumer_js;
};

// The JetStream context to create a consumer with over a stream holding
// MESSAGES: the server answers that request only once it has set the
// consumer up, which on nats-server 2.9 takes seconds per million keys
// (over 5 s for 2M), so its wait grows with the stream: 10 s plus 10 s per
// million messages, never less than --timeout. Ordinary requests keep
// --timeout. Null (with the status) when the context cannot be made.
Result<jsCtx*> consumer_context(Connection& conn, std::uint64_t messages);

// NAME is the bucket (its stream is KV_NAME); SUBJECTS the bucket whose
// subjects its messages carry: NAME itself, or for a bucket whose stream
// mirrors another bucket's, the origin's ($KV.ORIGIN.key): a mirror keeps
// the subjects of what it copies, and writes go to the origin through them.
std::unique_ptr<kv::Bucket> make_bucket(std::shared_ptr<Connection> conn, std::string name,
                                        std::string subjects);
// BUCKET, with every write refused before it is sent (kInvalidArgument,
// exit 2): for a counter stream, whose server refuses plain writes.
std::unique_ptr<kv::Bucket> refuse_writes_to_counter(std::unique_ptr<kv::Bucket> bucket);
Result<std::unique_ptr<kv::Watcher>> make_watcher(std::shared_ptr<Connection> conn,
                                                  const std::string& bucket,
                                                  const std::string& subjects,
                                                  const kv::WatchOptions& options);

// The subject filter a consumer for SCOPE uses (SUBJECTS as above): the
// bucket's wildcard, or
// for a single prefix, the longest part of it that ends on a token
// boundary ('.'), followed by '>'. Keys the filter lets through that do not
// match the scope are dropped client-side.
std::string filter_subject(const std::string& subjects, const kv::Scope& scope);

// The bucket whose subjects the messages of bucket NAME carry, from its
// status: the origin of a mirror bucket, else NAME. A mirror of a bucket in
// another JetStream domain is not supported yet.
Result<std::string> subject_bucket(const kv::BucketStatus& status);

// Stream state of a bucket (for the resume-window check and status).
Result<kv::BucketStatus> bucket_status(Connection& conn, const std::string& bucket);

}  // namespace slip::nats
