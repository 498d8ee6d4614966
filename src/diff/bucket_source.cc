// A live bucket as a diff source: one listing pass, sorted in memory.
#include <algorithm>
#include <vector>

#include "slip/diff.h"

namespace slip::diff {

namespace {

class BucketSource final : public Source {
 public:
  BucketSource(kv::Bucket& bucket, std::vector<kv::Entry> entries,
               std::optional<VersionToken> cursor, bool have_values)
      : bucket_(bucket),
        entries_(std::move(entries)),
        cursor_(std::move(cursor)),
        have_values_(have_values) {}

  Result<bool> next() override {
    if (started_) ++pos_;
    started_ = true;
    fetched_.reset();
    if (pos_ >= entries_.size()) return false;
    version_ = VersionToken::from_revision(entries_[pos_].revision);
    return true;
  }

  std::string_view key() const override { return entries_[pos_].key; }
  const VersionToken& version() const override { return version_; }
  std::uint64_t value_size() const override { return entries_[pos_].value_size; }

  Result<std::string_view> value() override {
    const kv::Entry& listed = entries_[pos_];
    if (have_values_) return std::string_view(listed.value);
    if (!fetched_) {
      auto e = bucket_.get(listed.key);
      if (!e && e.status().kind() == StatusKind::kNotFound) {
        return Status::unavailable("bucket " + bucket_.name() + " changed while being read: key '" +
                                   listed.key + "' is gone; run the diff again");
      }
      if (!e) return e.status();
      if (e->revision != listed.revision) {
        // The key was written again since the listing: its listed revision's
        // value is no longer the one to compare.
        return Status::unavailable("bucket " + bucket_.name() + " changed while being read: key '" +
                                   listed.key + "' was written again; run the diff again");
      }
      fetched_ = std::move(e->value);
    }
    return std::string_view(*fetched_);
  }

  std::optional<VersionToken> cursor() const override { return cursor_; }

 private:
  kv::Bucket& bucket_;
  std::vector<kv::Entry> entries_;
  std::optional<VersionToken> cursor_;
  bool have_values_;
  std::size_t pos_ = 0;
  bool started_ = false;
  VersionToken version_;
  std::optional<std::string> fetched_;
};

}  // namespace

Result<std::unique_ptr<Source>> open_bucket(kv::Bucket& bucket, const kv::Scope& scope,
                                            bool prefetch_values) {
  auto status = bucket.status();
  if (!status) return status.status();
  std::vector<kv::Entry> entries;
  SLIP_RETURN_IF_ERROR(bucket.scan(scope, prefetch_values, [&](const kv::Entry& e) {
    entries.push_back(e);
    return true;
  }));
  // A key written during the listing can come twice: keep its latest.
  std::sort(entries.begin(), entries.end(), [](const kv::Entry& x, const kv::Entry& y) {
    return x.key != y.key ? x.key < y.key : x.revision > y.revision;
  });
  entries.erase(std::unique(entries.begin(), entries.end(),
                            [](const kv::Entry& x, const kv::Entry& y) { return x.key == y.key; }),
                entries.end());
  return std::unique_ptr<Source>(std::make_unique<BucketSource>(
      bucket, std::move(entries), VersionToken::from_revision(status->last_sequence),
      prefetch_values));
}

}  // namespace slip::diff
