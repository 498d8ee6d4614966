// AWS Signature Version 4 for S3 requests, as specified in the S3 API
// reference ("Authenticating Requests: Using the Authorization Header").
// Pure functions: no clock, no network. Internal header.
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace slip::location::s3 {

struct Credentials {
  std::string access_key;
  std::string secret_key;     // never printed
  std::string session_token;  // optional; sent as x-amz-security-token, never printed
};

// What is signed. The caller puts every header it will send into HEADERS
// (host, x-amz-date, x-amz-content-sha256, ...): all of them are signed.
struct SigningInput {
  std::string method;           // "GET"
  std::string canonical_uri;    // already URI-encoded: "/test%24file.text"
  std::string canonical_query;  // from canonical_query_string()
  std::vector<std::pair<std::string, std::string>> headers;  // any case, any order
  std::string payload_hash;  // hex SHA-256 of the body (or "UNSIGNED-PAYLOAD")
  std::string amz_date;      // "20130524T000000Z"
  std::string region;        // "us-east-1"
  std::string service = "s3";
};

inline constexpr std::string_view kEmptyPayloadHash =
    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

// RFC 3986 percent-encoding as S3 wants it: unreserved characters
// (A-Z a-z 0-9 - _ . ~) stay, every other byte becomes %XX (upper case);
// '/' stays unless ENCODE_SLASH.
std::string uri_encode(std::string_view text, bool encode_slash);

// Parameters (unencoded name, value) encoded and sorted by name, joined
// with '&'; a parameter without value is "name=".
std::string canonical_query_string(std::vector<std::pair<std::string, std::string>> params);

std::string canonical_request(const SigningInput& input);
std::string string_to_sign(const SigningInput& input);
// Hex signature of string_to_sign(INPUT) with the key derived from SECRET.
std::string signature(const SigningInput& input, std::string_view secret_key);
// "AWS4-HMAC-SHA256 Credential=AKID/DATE/REGION/s3/aws4_request,
// SignedHeaders=a;b,Signature=hex" (without the line break).
std::string authorization_header(const SigningInput& input, const Credentials& credentials);

// "20130524T000000Z" for a Unix time in seconds.
std::string amz_date(long long unix_seconds);

}  // namespace slip::location::s3
