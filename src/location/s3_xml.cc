#include "location/s3_xml.h"

#include <cstdlib>
#include <ctime>

namespace slip::location::s3 {

namespace {

void append_utf8(std::string* out, unsigned long cp) {
  if (cp < 0x80) {
    *out += static_cast<char>(cp);
  } else if (cp < 0x800) {
    *out += static_cast<char>(0xC0 | (cp >> 6));
    *out += static_cast<char>(0x80 | (cp & 0x3F));
  } else if (cp < 0x10000) {
    *out += static_cast<char>(0xE0 | (cp >> 12));
    *out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    *out += static_cast<char>(0x80 | (cp & 0x3F));
  } else {
    *out += static_cast<char>(0xF0 | (cp >> 18));
    *out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
    *out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    *out += static_cast<char>(0x80 | (cp & 0x3F));
  }
}

// Decodes the entity at TEXT (which starts with '&'); returns its length,
// or 0 when it is not one we know.
std::size_t decode_entity(std::string_view text, std::string* out) {
  auto semi = text.find(';');
  if (semi == std::string_view::npos || semi > 12) return 0;
  std::string_view name = text.substr(1, semi - 1);
  if (name == "lt")
    *out += '<';
  else if (name == "gt")
    *out += '>';
  else if (name == "amp")
    *out += '&';
  else if (name == "quot")
    *out += '"';
  else if (name == "apos")
    *out += '\'';
  else if (name.size() >= 2 && name[0] == '#') {
    bool hex = name[1] == 'x' || name[1] == 'X';
    std::string digits(name.substr(hex ? 2 : 1));
    if (digits.empty()) return 0;
    char* end = nullptr;
    unsigned long cp = std::strtoul(digits.c_str(), &end, hex ? 16 : 10);
    if (*end != '\0' || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return 0;
    append_utf8(out, cp);
  } else {
    return 0;
  }
  return semi + 1;
}

}  // namespace

std::string xml_unescape(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (std::size_t i = 0; i < text.size();) {
    if (text[i] == '&') {
      std::size_t n = decode_entity(text.substr(i), &out);
      if (n > 0) {
        i += n;
        continue;
      }
    }
    out += text[i++];
  }
  return out;
}

std::string xml_escape(std::string_view text) {
  std::string out;
  for (char c : text) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      case '\'': out += "&apos;"; break;
      default: out += c;
    }
  }
  return out;
}

std::vector<std::string_view> xml_elements(std::string_view xml, std::string_view tag) {
  std::vector<std::string_view> out;
  const std::string open = "<" + std::string(tag);
  const std::string close = "</" + std::string(tag) + ">";
  std::size_t pos = 0;
  while ((pos = xml.find(open, pos)) != std::string_view::npos) {
    std::size_t after = pos + open.size();
    if (after >= xml.size()) break;
    char next = xml[after];
    if (next != '>' && next != ' ' && next != '/' && next != '\t' && next != '\n' && next != '\r') {
      pos = after;  // a longer tag name: <KeyCount> when looking for <Key>
      continue;
    }
    auto gt = xml.find('>', after);
    if (gt == std::string_view::npos) break;
    if (xml[gt - 1] == '/') {  // <Tag/> or <Tag attr="..."/>
      out.emplace_back();
      pos = gt + 1;
      continue;
    }
    auto end = xml.find(close, gt + 1);
    if (end == std::string_view::npos) break;
    out.push_back(xml.substr(gt + 1, end - gt - 1));
    pos = end + close.size();
  }
  return out;
}

std::optional<std::string> xml_text(std::string_view xml, std::string_view tag) {
  auto found = xml_elements(xml, tag);
  if (found.empty()) return std::nullopt;
  return xml_unescape(found.front());
}

bool parse_list_page(std::string_view xml, ListPage* page) {
  if (xml.find("<ListBucketResult") == std::string_view::npos) return false;
  page->objects.clear();
  for (std::string_view contents : xml_elements(xml, "Contents")) {
    ObjectInfo info;
    info.key = xml_text(contents, "Key").value_or("");
    info.etag = xml_text(contents, "ETag").value_or("");
    info.size = std::strtoull(xml_text(contents, "Size").value_or("0").c_str(), nullptr, 10);
    info.modified_ns = parse_iso8601_ns(xml_text(contents, "LastModified").value_or(""));
    page->objects.push_back(std::move(info));
  }
  page->truncated = xml_text(xml, "IsTruncated").value_or("false") == "true";
  page->next_token = xml_text(xml, "NextContinuationToken").value_or("");
  return true;
}

long long parse_iso8601_ns(std::string_view text) {
  // YYYY-MM-DDTHH:MM:SS[.fraction]Z
  if (text.size() < 20 || text[4] != '-' || text[7] != '-' || text[10] != 'T' || text[13] != ':' ||
      text[16] != ':') {
    return 0;
  }
  auto num = [&](std::size_t at, std::size_t n) {
    int v = 0;
    for (std::size_t i = at; i < at + n; ++i) {
      if (text[i] < '0' || text[i] > '9') return -1;
      v = v * 10 + (text[i] - '0');
    }
    return v;
  };
  std::tm tm{};
  tm.tm_year = num(0, 4) - 1900;
  tm.tm_mon = num(5, 2) - 1;
  tm.tm_mday = num(8, 2);
  tm.tm_hour = num(11, 2);
  tm.tm_min = num(14, 2);
  tm.tm_sec = num(17, 2);
  if (tm.tm_year < 0 || tm.tm_mon < 0 || tm.tm_mday < 0 || tm.tm_hour < 0 || tm.tm_min < 0 ||
      tm.tm_sec < 0) {
    return 0;
  }
  long long ns = 0;
  std::size_t i = 19;
  if (i < text.size() && text[i] == '.') {
    long long scale = 100000000;
    for (++i; i < text.size() && text[i] >= '0' && text[i] <= '9'; ++i) {
      ns += (text[i] - '0') * scale;
      scale /= 10;
    }
  }
  return static_cast<long long>(::timegm(&tm)) * 1000000000LL + ns;
}

}  // namespace slip::location::s3
