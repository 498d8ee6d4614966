// A counter stream's bucket (stream allow_msg_counter, nats-server 2.12+):
// read like any other (a value is the counter's JSON body, {"val":"N"}),
// but every write is refused before it is sent. The server would refuse a
// plain put too (it needs a Nats-Incr header), only later and less clearly.
#include "nats/connection.h"

namespace slip::nats {

namespace {

class CounterBucket final : public kv::Bucket {
 public:
  explicit CounterBucket(std::unique_ptr<kv::Bucket> inner) : inner_(std::move(inner)) {}

  const std::string& name() const override { return inner_->name(); }
  Result<kv::Entry> get(std::string_view key) override { return inner_->get(key); }
  Result<kv::Entry> entry(std::string_view key) override { return inner_->entry(key); }

  Result<std::uint64_t> put(std::string_view, std::string_view) override { return refused(); }
  Result<std::uint64_t> create(std::string_view, std::string_view) override { return refused(); }
  Result<std::uint64_t> update(std::string_view, std::string_view, std::uint64_t) override {
    return refused();
  }
  Result<std::uint64_t> del(std::string_view, std::optional<std::uint64_t>) override {
    return refused();
  }
  Result<std::uint64_t> purge(std::string_view) override { return refused(); }
  Result<std::uint64_t> create_with_ttl(std::string_view, std::string_view,
                                        std::chrono::nanoseconds) override {
    return refused();
  }
  Result<std::uint64_t> purge_with_ttl(std::string_view, std::chrono::nanoseconds) override {
    return refused();
  }

  Status scan(const kv::Scope& scope, bool with_values,
              const std::function<bool(const kv::Entry&)>& visit) override {
    return inner_->scan(scope, with_values, visit);
  }
  Result<std::vector<kv::Entry>> history(std::string_view key) override {
    return inner_->history(key);
  }
  Result<kv::BucketStatus> status() override { return inner_->status(); }
  Result<std::unique_ptr<kv::Watcher>> watch(const kv::WatchOptions& options) override {
    return inner_->watch(options);
  }

 private:
  Status refused() const {
    return Status::invalid_argument("bucket " + inner_->name() +
                                    " is a counter stream (allow_msg_counter): its values change "
                                    "only by increments, which slip does not write");
  }

  std::unique_ptr<kv::Bucket> inner_;
};

}  // namespace

std::unique_ptr<kv::Bucket> refuse_writes_to_counter(std::unique_ptr<kv::Bucket> bucket) {
  return std::make_unique<CounterBucket>(std::move(bucket));
}

}  // namespace slip::nats
