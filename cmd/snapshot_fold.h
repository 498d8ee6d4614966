// `slip snapshot inspect|verify|dump` on a LevelDB fold directory: the
// same questions, answered from the store instead of a log file.
#pragma once

#include "snapshot.h"

namespace slip::cli {

// True when PATH is a directory (the snapshot commands then treat it as a
// LevelDB fold).
bool is_directory(const std::string& path);

Status inspect_leveldb_fold(const SnapshotInspectOptions& options, Context& ctx);
Status verify_leveldb_fold(const SnapshotVerifyOptions& options, Context& ctx);
Status dump_leveldb_fold(const SnapshotDumpOptions& options, Context& ctx);

}  // namespace slip::cli
