#include "support/snapshot_model.h"

#include <stdexcept>

#include "slip/snapshot_writer.h"

namespace slip::test {

std::string from_hex(const std::string& hex) {
  std::string out;
  for (std::size_t i = 0; i + 1 < hex.size(); i += 2) {
    out.push_back(static_cast<char>(std::stoi(hex.substr(i, 2), nullptr, 16)));
  }
  return out;
}

std::string from_base64(const std::string& text) {
  auto value = [](char c) -> int {
    if (c >= 'A' && c <= 'Z') return c - 'A';
    if (c >= 'a' && c <= 'z') return c - 'a' + 26;
    if (c >= '0' && c <= '9') return c - '0' + 52;
    if (c == '+') return 62;
    if (c == '/') return 63;
    return -1;
  };
  std::string out;
  unsigned bits = 0;
  int nbits = 0;
  for (char c : text) {
    int v = value(c);
    if (v < 0) continue;  // '=' padding
    bits = (bits << 6) | static_cast<unsigned>(v);
    nbits += 6;
    if (nbits >= 8) {
      nbits -= 8;
      out.push_back(static_cast<char>((bits >> nbits) & 0xff));
    }
  }
  return out;
}

std::string encode_ops(const std::vector<Op>& ops) {
  std::string out;
  snapshot::encode_header(&out);
  for (const Op& op : ops) {
    switch (op.type) {
      case snapshot::RecordType::kPut:
        snapshot::encode_put(&out, op.key, op.value, op.version);
        break;
      case snapshot::RecordType::kDelete: snapshot::encode_delete(&out, op.key, op.version); break;
      case snapshot::RecordType::kCursor: snapshot::encode_cursor(&out, op.version); break;
    }
  }
  return out;
}

ModelState model_of(const std::vector<Op>& ops) {
  ModelState m;
  for (const Op& op : ops) {
    switch (op.type) {
      case snapshot::RecordType::kPut:
        m.entries[op.key] = {op.value, std::string(op.version.bytes())};
        break;
      case snapshot::RecordType::kDelete: m.entries.erase(op.key); break;
      case snapshot::RecordType::kCursor: m.cursor = std::string(op.version.bytes()); break;
    }
  }
  return m;
}

ModelState model_of(const snapshot::State& state) {
  ModelState m;
  for (const auto& [key, live] : state.entries) {
    m.entries[key] = {live.value, std::string(live.version.bytes())};
  }
  if (state.cursor) m.cursor = std::string(state.cursor->bytes());
  return m;
}

}  // namespace slip::test
