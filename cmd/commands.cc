// The ordered command table: the order here is the order of --help, the
// man pages and the completions.
#include "command.h"
#include "diff.h"
#include "export.h"
#include "generate.h"
#include "kv.h"
#include "mirror.h"
#include "snapshot.h"
#include "watch.h"

namespace slip::cli {

const std::vector<CommandDef>& command_table() {
  // One command per line, however many there are.
  // clang-format off
  static const std::vector<CommandDef> kCommands = {
      {"kv", register_kv},
      {"watch", register_watch},
      {"mirror", register_mirror},
      {"export", register_export},
      {"import", register_import},
      {"snapshot", register_snapshot},
      {"diff", register_diff},
      {"generate", register_generate},
  };
  // clang-format on
  return kCommands;
}

}  // namespace slip::cli
