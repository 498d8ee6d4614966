// Just enough XML for S3's answers: the text of named elements, with
// entity escapes decoded. S3 answers are flat, generated documents without
// comments, CDATA or namespaces prefixes on the elements we read, and a
// literal '<' cannot occur in text, so finding "<Tag>" is finding the
// element. Internal header.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "slip/location.h"

namespace slip::location::s3 {

// Decodes &lt; &gt; &amp; &quot; &apos; &#N; &#xH; (to UTF-8). An unknown
// or malformed entity is kept as written.
std::string xml_unescape(std::string_view text);
// Escapes & < > " ' for element text.
std::string xml_escape(std::string_view text);

// The raw (still escaped) contents of each <TAG>...</TAG> in XML, in order;
// <TAG/> gives an empty string. Elements nested in others are found too.
std::vector<std::string_view> xml_elements(std::string_view xml, std::string_view tag);
// The decoded text of the first <TAG>, if any.
std::optional<std::string> xml_text(std::string_view xml, std::string_view tag);

// One page of a ListObjectsV2 answer. Keys are full object keys.
struct ListPage {
  std::vector<ObjectInfo> objects;
  bool truncated = false;
  std::string next_token;  // decoded NextContinuationToken
};
// False when XML is not a ListBucketResult.
bool parse_list_page(std::string_view xml, ListPage* page);

// "2026-11-25T23:27:18.123Z" to nanoseconds since the epoch; 0 if malformed.
long long parse_iso8601_ns(std::string_view text);

}  // namespace slip::location::s3
