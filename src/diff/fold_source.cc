// A LevelDB fold as a diff source: the store's iterator, one prefix of the
// scope after the other. Values are views of what LevelDB has in hand.
#include <algorithm>
#include <vector>

#include "slip/diff.h"
#include "slip/fold.h"

namespace slip::diff {

namespace {

// The prefixes of SCOPE as ranges to walk in order: sorted, and without
// any prefix that an earlier one already covers. Two prefixes where neither
// starts with the other cover disjoint key ranges, so walking them in
// sorted order hands out keys in ascending order.
std::vector<std::string> walk_order(const kv::Scope& scope) {
  std::vector<std::string> sorted = scope.prefixes;
  if (sorted.empty()) sorted.emplace_back();
  std::sort(sorted.begin(), sorted.end());
  std::vector<std::string> out;
  for (const std::string& p : sorted) {
    if (!out.empty() && p.compare(0, out.back().size(), out.back()) == 0) continue;
    out.push_back(p);
  }
  return out;
}

class FoldSource final : public Source {
 public:
  FoldSource(std::shared_ptr<fold::Store> store, const kv::Scope& scope)
      : store_(std::move(store)), prefixes_(walk_order(scope)) {}

  Result<bool> next() override {
    for (;;) {
      if (!it_) {
        if (next_prefix_ == prefixes_.size()) return false;
        it_ = store_->iterate(prefixes_[next_prefix_++]);
      }
      if (it_->next()) return true;
      SLIP_RETURN_IF_ERROR(it_->status());
      it_.reset();
    }
  }

  std::string_view key() const override { return it_->key(); }
  const VersionToken& version() const override { return it_->version(); }
  std::uint64_t value_size() const override { return it_->value().size(); }
  Result<std::string_view> value() override { return it_->value(); }
  std::optional<VersionToken> cursor() const override { return store_->cursor(); }

 private:
  std::shared_ptr<fold::Store> store_;
  std::vector<std::string> prefixes_;
  std::size_t next_prefix_ = 0;
  std::unique_ptr<fold::Iterator> it_;
};

}  // namespace

std::unique_ptr<Source> fold_source(std::shared_ptr<fold::Store> store, const kv::Scope& scope) {
  return std::make_unique<FoldSource>(std::move(store), scope);
}

Result<std::unique_ptr<Source>> open_leveldb_fold(const std::string& path, const kv::Scope& scope) {
  fold::Options options;
  options.read_only = true;
  auto store = fold::open_leveldb(path, options);
  if (!store) return store.status();
  return fold_source(std::shared_ptr<fold::Store>(std::move(*store)), scope);
}

}  // namespace slip::diff
