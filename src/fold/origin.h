// The fold's origin record, as the stores keep it: one JSON object,
// {"bucket":"B","prefixes":["a.","b."]}, in LevelDB under "m:origin" and
// for the log backend in the sidecar file PATH.origin.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "slip/fold.h"

namespace slip::fold {

std::string encode_origin(const Origin& origin);

// The log backend's sidecar PATH.origin for the fold file PATH: read
// (nullopt when there is none) and replaced atomically.
Result<std::optional<Origin>> read_origin_sidecar(const std::string& path);
Status write_origin_sidecar(const std::string& path, const Origin& origin);
// WHERE names the record in the error message.
Result<Origin> decode_origin(std::string_view json, const std::string& where);

}  // namespace slip::fold
