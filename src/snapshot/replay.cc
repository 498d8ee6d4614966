#include "slip/snapshot.h"

namespace slip::snapshot {

Result<State> replay(const std::string& path) {
  auto reader = Reader::open(path);
  if (!reader) return reader.status();
  State state;
  Record rec;
  while ((*reader)->next(&rec)) {
    ++state.records;
    switch (rec.type) {
      case RecordType::kPut:
        state.entries.insert_or_assign(std::string(rec.key),
                                       LiveValue{std::string(rec.value), rec.version});
        break;
      case RecordType::kDelete:
        state.entries.erase(std::string(rec.key));
        break;
      case RecordType::kCursor:
        state.cursor = rec.version;
        break;
    }
  }
  if (!(*reader)->io_status().is_ok()) return (*reader)->io_status();
  state.problem = (*reader)->problem();
  if (state.problem.damage == Damage::kInvalid || state.problem.damage == Damage::kCorrupted) {
    // Nothing in a damaged file is trusted (spec: "Replay").
    state.entries.clear();
    state.cursor.reset();
  }
  return state;
}

}  // namespace slip::snapshot
