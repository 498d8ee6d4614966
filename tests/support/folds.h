// Reading folds and writing keys in tests, the same way everywhere.
#pragma once

#include <cstdint>
#include <map>
#include <string>

#include "slip/fold.h"
#include "support/nats_server.h"

namespace slip::test {

using FoldModel = std::map<std::string, std::string>;

// Opens the fold at PATH (either backend, detected) that no mirror holds,
// and returns its live keys and values; fills *CURSOR (0 without one).
FoldModel fold_model(const std::string& path, std::uint64_t* cursor = nullptr);

// The live keys and values of an open STORE.
FoldModel store_model(fold::Store& store);

// `slip kv put BUCKET KEY VALUE` against SERVER; fails the test on error.
void put_value(const NatsServer& server, const std::string& bucket, const std::string& key,
               const std::string& value);

}  // namespace slip::test
