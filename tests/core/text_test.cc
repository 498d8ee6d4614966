// base64 both ways: RFC 4648's test vectors, and what from_base64 refuses.
#include <doctest/doctest.h>

#include "core/text.h"

TEST_CASE("text: base64 round-trips RFC 4648's vectors; line breaks are ignored") {
  const char* vectors[][2] = {{"", ""},         {"f", "Zg=="},         {"fo", "Zm8="},
                              {"foo", "Zm9v"},  {"foob", "Zm9vYg=="},  {"fooba", "Zm9vYmE="},
                              {"foobar", "Zm9vYmFy"}};
  for (const auto& v : vectors) {
    CHECK(slip::to_base64(v[0]) == v[1]);
    CHECK(slip::from_base64(v[1]) == std::optional<std::string>(v[0]));
  }
  CHECK(slip::from_base64("Zm9v\nYmFy\n") == std::optional<std::string>("foobar"));
  CHECK(slip::from_base64("Zm9vYg") == std::optional<std::string>("foob"));  // unpadded
  std::string bytes;
  for (int i = 0; i < 256; ++i) bytes.push_back(static_cast<char>(i));
  CHECK(slip::from_base64(slip::to_base64(bytes)) == std::optional<std::string>(bytes));
}

TEST_CASE("text: from_base64 refuses what is not base64") {
  CHECK_FALSE(slip::from_base64("Zm9v!").has_value());
  CHECK_FALSE(slip::from_base64("Zg==Zg").has_value());  // digits after padding
  CHECK_FALSE(slip::from_base64("Z").has_value());       // no whole byte
  CHECK_FALSE(slip::from_base64("Zm9v-_").has_value());  // the URL alphabet is another one
}
