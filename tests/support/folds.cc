#include "support/folds.h"

#include <doctest/doctest.h>

#include "slip/fold.h"
#include "support/process.h"

namespace slip::test {

FoldModel fold_model(const std::string& path, std::uint64_t* cursor) {
  auto backend = fold::detect_backend(path);
  REQUIRE_MESSAGE(backend.is_ok(), backend.status().to_string());
  REQUIRE_MESSAGE(backend->has_value(), path << " does not exist");
  auto store = **backend == "log" ? fold::open_log(path, {}) : fold::open_leveldb(path, {});
  REQUIRE_MESSAGE(store.is_ok(), store.status().to_string());
  FoldModel m = store_model(**store);
  if (cursor != nullptr) *cursor = (*store)->cursor() ? *(*store)->cursor()->revision() : 0;
  return m;
}

FoldModel store_model(fold::Store& store) {
  FoldModel m;
  CHECK(store
            .scan("",
                  [&](std::string_view k, const fold::Value& v) {
                    m.emplace(std::string(k), v.value);
                    return true;
                  })
            .is_ok());
  return m;
}

void put_value(const NatsServer& server, const std::string& bucket, const std::string& key,
               const std::string& value) {
  // Through standard input: a value may hold NUL bytes, which argv cannot.
  auto r = run_slip({"kv", "put", bucket, key, "-s", server.url()}, value);
  REQUIRE_MESSAGE(r.exit_code == 0, r.err);
}

}  // namespace slip::test
