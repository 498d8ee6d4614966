// SigV4 against the examples published in the S3 API reference
// ("Signature Calculations for the Authorization Header: Transferring
// Payload in a Single Chunk"): example credentials AKIAIOSFODNN7EXAMPLE /
// wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY, 2013-05-24, us-east-1.
#include <doctest/doctest.h>

#include "location/digest.h"
#include "location/s3_sigv4.h"

namespace s3 = slip::location::s3;

namespace {

const s3::Credentials kExample{"AKIAIOSFODNN7EXAMPLE", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
                               ""};
const std::string kHost = "examplebucket.s3.amazonaws.com";
const std::string kDate = "20130524T000000Z";

s3::SigningInput get_input(std::string uri, std::string query,
                           std::vector<std::pair<std::string, std::string>> extra = {}) {
  s3::SigningInput in;
  in.method = "GET";
  in.canonical_uri = std::move(uri);
  in.canonical_query = std::move(query);
  in.headers = {{"Host", kHost},
                {"x-amz-date", kDate},
                {"x-amz-content-sha256", std::string(s3::kEmptyPayloadHash)}};
  for (auto& h : extra) in.headers.push_back(h);
  in.payload_hash = std::string(s3::kEmptyPayloadHash);
  in.amz_date = kDate;
  in.region = "us-east-1";
  return in;
}

}  // namespace

TEST_CASE("sigv4: the GET Object example, step by step") {
  auto in = get_input("/test.txt", "", {{"Range", "bytes=0-9"}});
  CHECK(s3::canonical_request(in) ==
        "GET\n/test.txt\n\n"
        "host:examplebucket.s3.amazonaws.com\n"
        "range:bytes=0-9\n"
        "x-amz-content-sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855\n"
        "x-amz-date:20130524T000000Z\n\n"
        "host;range;x-amz-content-sha256;x-amz-date\n"
        "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  CHECK(s3::string_to_sign(in) ==
        "AWS4-HMAC-SHA256\n20130524T000000Z\n20130524/us-east-1/s3/aws4_request\n"
        "7344ae5b7ee6c3e7e6b0fe0640412a37625d1fbfff95c48bbb2dc43964946972");
  CHECK(s3::authorization_header(in, kExample) ==
        "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request,"
        "SignedHeaders=host;range;x-amz-content-sha256;x-amz-date,"
        "Signature=f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41");
}

TEST_CASE("sigv4: the PUT Object example (signed payload, '$' in the key)") {
  const std::string body = "Welcome to Amazon S3.";
  const std::string hash = slip::location::sha256_hex(body);
  CHECK(hash == "44ce7dd67c959e0d3524ffac1771dfbba87d2b6b4b4e99e42034a8b803f8b072");
  s3::SigningInput in;
  in.method = "PUT";
  in.canonical_uri = "/" + s3::uri_encode("test$file.text", false);
  CHECK(in.canonical_uri == "/test%24file.text");
  in.headers = {{"Host", kHost},
                {"Date", "Fri, 24 May 2013 00:00:00 GMT"},
                {"x-amz-date", kDate},
                {"x-amz-storage-class", "REDUCED_REDUNDANCY"},
                {"x-amz-content-sha256", hash}};
  in.payload_hash = hash;
  in.amz_date = kDate;
  in.region = "us-east-1";
  CHECK(s3::signature(in, kExample.secret_key) ==
        "98ad721746da40c64f1a55b78f14c238d841ea1380cd77a1b5971af0ece108bd");
  CHECK(s3::authorization_header(in, kExample)
            .find("SignedHeaders=date;host;x-amz-content-sha256;x-amz-date;x-amz-storage-class,") !=
        std::string::npos);
}

TEST_CASE("sigv4: the GET Bucket Lifecycle and List Objects examples (query strings)") {
  CHECK(s3::canonical_query_string({{"lifecycle", ""}}) == "lifecycle=");
  CHECK(s3::signature(get_input("/", "lifecycle="), kExample.secret_key) ==
        "fea454ca298b7da1c68078a5d1bdbfbbe0d65c699e0f91ac7a200a0136783543");
  // Given out of order: the canonical form sorts them.
  std::string query = s3::canonical_query_string({{"prefix", "J"}, {"max-keys", "2"}});
  CHECK(query == "max-keys=2&prefix=J");
  CHECK(s3::signature(get_input("/", query), kExample.secret_key) ==
        "34b48302e7b5fa45bde8084f4b7868a86f0a534bc59db6670ed5711ef69dc6f7");
}

TEST_CASE("sigv4: URI encoding keeps only unreserved bytes; header values are trimmed") {
  CHECK(s3::uri_encode("a-b_c.d~e", true) == "a-b_c.d~e");
  CHECK(s3::uri_encode("a b/c+d=\xc3\xa9", true) == "a%20b%2Fc%2Bd%3D%C3%A9");
  CHECK(s3::uri_encode("edge/a b", false) == "edge/a%20b");
  CHECK(s3::canonical_query_string({{"prefix", "edge/x y"}, {"list-type", "2"}}) ==
        "list-type=2&prefix=edge%2Fx%20y");
  // Spaces around and inside a value do not change the signature.
  auto a = get_input("/test.txt", "", {{"Range", "bytes=0-9"}});
  auto b = get_input("/test.txt", "", {{"RANGE", "  bytes=0-9 "}});
  CHECK(s3::signature(a, "k") == s3::signature(b, "k"));
  CHECK(s3::amz_date(1369353600) == "20130524T000000Z");
}
