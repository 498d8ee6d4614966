// Location URLs: which scheme opens what, what is refused, what is shown;
// and how an s3:// URL, options and the environment become a client config.
#include <doctest/doctest.h>

#include <map>

#include "location/s3_client.h"
#include "slip/location.h"
#include "support/files.h"

namespace loc = slip::location;
namespace s3 = slip::location::s3;
using slip::StatusKind;

namespace {

// A fake environment for make_config.
struct Env {
  std::map<std::string, std::string> vars = {{"AWS_ACCESS_KEY_ID", "AKIDEXAMPLE"},
                                             {"AWS_SECRET_ACCESS_KEY", "top-secret-key"}};
  s3::Getenv get() const {
    return [this](const char* name) -> const char* {
      auto it = vars.find(name);
      return it == vars.end() ? nullptr : it->second.c_str();
    };
  }
};

}  // namespace

TEST_CASE("location: file URLs and bare paths open the directory") {
  slip::test::TempDir dir;
  for (const std::string& url :
       {"file://" + dir.path() + "/x", dir.path() + "/x", "file://localhost" + dir.path() + "/x"}) {
    auto l = loc::open_location(url);
    REQUIRE_MESSAGE(l.is_ok(), l.status().to_string());
    CHECK((*l)->display() == url);
    CHECK((*l)->supports_conditional_writes());
    CHECK((*l)->put_small("k", "v", loc::Precondition::none()).is_ok());
  }
  CHECK(slip::test::read_file(dir.path() + "/x/k") == "v");
  // Percent escapes in file URLs are decoded.
  auto spaced = loc::open_location("file://" + dir.path() + "/a%20b");
  REQUIRE(spaced.is_ok());
  CHECK((*spaced)->put_small("k", "v", loc::Precondition::none()).is_ok());
  CHECK(slip::test::file_exists(dir.path() + "/a b/k"));
}

TEST_CASE("location: bad URLs are usage errors that say what to write") {
  auto unknown = loc::open_location("gs://bucket/x");
  REQUIRE_FALSE(unknown.is_ok());
  CHECK(unknown.status().kind() == StatusKind::kInvalidArgument);
  CHECK(unknown.status().message().find("unknown location scheme 'gs://'") != std::string::npos);
  CHECK(unknown.status().message().find("s3://bucket/prefix") != std::string::npos);

  auto http = loc::open_location("https://minio:9000/bucket");
  REQUIRE_FALSE(http.is_ok());
  CHECK(http.status().message().find("endpoint") != std::string::npos);

  auto two_slashes = loc::open_location("file://relative/dir");
  REQUIRE_FALSE(two_slashes.is_ok());
  CHECK(two_slashes.status().kind() == StatusKind::kInvalidArgument);
  CHECK(two_slashes.status().message().find("three slashes") != std::string::npos);

  auto missing_slashes = loc::open_location("s3:bucket/prefix");
  REQUIRE_FALSE(missing_slashes.is_ok());
  CHECK(missing_slashes.status().message().find("did you mean s3://bucket/prefix") !=
        std::string::npos);

  CHECK(loc::open_location("").status().kind() == StatusKind::kInvalidArgument);
  CHECK(loc::open_location("s3:///prefix").status().kind() == StatusKind::kInvalidArgument);
  CHECK(loc::open_location("file:///tmp/a%zz").status().kind() == StatusKind::kInvalidArgument);

  slip::test::TempDir dir;
  slip::test::write_file(dir.file("f"), "x");
  auto not_dir = loc::open_location(dir.file("f"));
  REQUIRE_FALSE(not_dir.is_ok());
  CHECK(not_dir.status().message().find("not a directory") != std::string::npos);
}

TEST_CASE("location: redaction hides userinfo and query strings") {
  CHECK(loc::redact_location("s3://bucket/prefix") == "s3://bucket/prefix");
  CHECK(loc::redact_location("/srv/exports") == "/srv/exports");
  CHECK(loc::redact_location("s3://AKID:se/cr@t@bucket/p") == "s3://***@bucket/p");
  CHECK(loc::redact_location("s3://bucket/p?X-Amz-Signature=abc") == "s3://bucket/p?***");
  // Credentials in an s3 URL are refused, and the message does not echo them.
  auto l = loc::open_location("s3://AKID:hunter2@bucket/p");
  REQUIRE_FALSE(l.is_ok());
  CHECK(l.status().message().find("hunter2") == std::string::npos);
  CHECK(l.status().message().find("AWS_ACCESS_KEY_ID") != std::string::npos);
}

TEST_CASE("s3 config: bucket, prefix, region and the AWS endpoint, virtual-hosted") {
  Env env;
  env.vars["AWS_DEFAULT_REGION"] = "eu-west-1";
  auto c = s3::make_config("my-bucket/exports/edge/", {}, env.get());
  REQUIRE_MESSAGE(c.is_ok(), c.status().to_string());
  CHECK(c->bucket == "my-bucket");
  CHECK(c->prefix == "exports/edge/");
  CHECK(c->region == "eu-west-1");
  CHECK(c->scheme == "https");
  CHECK(c->host == "s3.eu-west-1.amazonaws.com");
  CHECK_FALSE(c->path_style);
  CHECK(c->part_size == 8u << 20);
  CHECK(c->conditional_writes);  // AWS enforces If-Match and If-None-Match
  CHECK(c->display == "s3://my-bucket/exports/edge/");

  auto p = s3::prepare(*c, s3::Request{"GET", "exports/edge/a b", {{"x", "1"}}, {}, {}}, 0);
  CHECK(p.url == "https://my-bucket.s3.eu-west-1.amazonaws.com/exports/edge/a%20b?x=1");
  CHECK(p.signing.canonical_uri == "/exports/edge/a%20b");
  CHECK(p.authorization.find("Credential=AKIDEXAMPLE/19700101/eu-west-1/s3/aws4_request") !=
        std::string::npos);
  CHECK(p.authorization.find("top-secret-key") == std::string::npos);

  env.vars["AWS_REGION"] = "us-west-2";  // wins over AWS_DEFAULT_REGION
  CHECK(s3::make_config("b", {}, env.get())->region == "us-west-2");
  CHECK(s3::make_config("b", {}, env.get())->prefix.empty());
  // A dotted bucket name goes path-style over https.
  CHECK(s3::make_config("my.bucket/x", {}, env.get())->path_style);
}

TEST_CASE("s3 config: a custom endpoint means path-style unless virtual-hosted is asked") {
  Env env;
  env.vars["AWS_ENDPOINT_URL"] = "http://127.0.0.1:9000/";
  auto c = s3::make_config("b/p", {}, env.get());
  REQUIRE(c.is_ok());
  CHECK(c->region == "us-east-1");
  CHECK(c->scheme == "http");
  CHECK(c->host == "127.0.0.1:9000");
  CHECK(c->path_style);
  auto p = s3::prepare(*c, s3::Request{"PUT", "p/k", {}, {}, "data"}, 0);
  CHECK(p.url == "http://127.0.0.1:9000/b/p/k");
  CHECK(p.signing.canonical_uri == "/b/p/k");

  loc::Options o;
  o.endpoint = "https://minio.example:9000";  // the option wins over the environment
  o.virtual_hosted = true;
  o.part_size = 5 << 20;
  o.list_page_size = 7;
  auto v = s3::make_config("b/p", o, env.get());
  REQUIRE(v.is_ok());
  CHECK(v->host == "minio.example:9000");
  CHECK_FALSE(v->path_style);
  CHECK(v->part_size == 5u << 20);
  CHECK(v->list_page_size == 7);
  CHECK(s3::prepare(*v, s3::Request{"GET", "", {}, {}, {}}, 0).url ==
        "https://b.minio.example:9000/");

  o.endpoint = "minio:9000";
  CHECK(s3::make_config("b", o, env.get()).status().kind() == StatusKind::kInvalidArgument);
  o.endpoint = "https://user:pw@minio:9000";
  auto creds = s3::make_config("b", o, env.get());
  REQUIRE_FALSE(creds.is_ok());
  CHECK(creds.status().message().find("pw") == std::string::npos);
}

TEST_CASE("s3 config: credentials and the conditional-writes switch come from the environment") {
  Env env;
  env.vars.erase("AWS_SECRET_ACCESS_KEY");
  auto c = s3::make_config("b", {}, env.get());
  REQUIRE_FALSE(c.is_ok());
  CHECK(c.status().kind() == StatusKind::kInvalidArgument);
  CHECK(c.status().message().find("AWS_SECRET_ACCESS_KEY") != std::string::npos);

  Env full;
  full.vars["AWS_SESSION_TOKEN"] = "session-token-value";
  full.vars["SLIP_S3_CONDITIONAL_WRITES"] = "1";
  auto t = s3::make_config("b", {}, full.get());
  REQUIRE(t.is_ok());
  CHECK(t->conditional_writes);
  auto p = s3::prepare(*t, s3::Request{"GET", "k", {}, {}, {}}, 0);
  CHECK(p.authorization.find("x-amz-security-token") != std::string::npos);  // signed
  CHECK(p.authorization.find("session-token-value") == std::string::npos);

  loc::Options o;
  o.endpoint = "http://127.0.0.1:9000";
  CHECK_FALSE(s3::make_config("b", o, Env().get())->conditional_writes);
  o.conditional_writes = true;
  CHECK(s3::make_config("b", o, Env().get())->conditional_writes);
}

TEST_CASE("s3 config: conditional writes are on for AWS itself, stated for other servers") {
  auto conditional = [](const std::string& endpoint, const char* setting) {
    Env env;
    if (!endpoint.empty()) env.vars["AWS_ENDPOINT_URL"] = endpoint;
    if (setting != nullptr) env.vars["SLIP_S3_CONDITIONAL_WRITES"] = setting;
    auto c = s3::make_config("b/p", {}, env.get());
    REQUIRE(c.is_ok());
    return c->conditional_writes;
  };
  CHECK(conditional("", nullptr));  // https://s3.us-east-1.amazonaws.com
  CHECK(conditional("https://s3.eu-west-1.AmazonAWS.com", nullptr));
  CHECK(conditional("https://s3-fips.us-east-2.amazonaws.com:443", nullptr));
  CHECK(conditional("https://s3.dualstack.us-east-1.amazonaws.com", nullptr));
  // Other AWS hosts may front any server.
  CHECK_FALSE(conditional("http://ec2-1-2-3-4.compute-1.amazonaws.com:9000", nullptr));
  CHECK_FALSE(conditional("https://minio-1234.elb.us-east-1.amazonaws.com", nullptr));
  CHECK_FALSE(conditional("", "0"));  // stated off wins on AWS too
  CHECK_FALSE(conditional("https://minio.example:9000", nullptr));
  CHECK_FALSE(conditional("https://amazonaws.com.evil.example", nullptr));
  CHECK_FALSE(conditional("https://notamazonaws.com", nullptr));
  CHECK(conditional("https://minio.example:9000", "yes"));
  CHECK(conditional("https://minio.example:9000", "TRUE"));
  CHECK_FALSE(conditional("https://minio.example:9000", "off"));

  Env bad;
  bad.vars["SLIP_S3_CONDITIONAL_WRITES"] = "sometimes";
  auto c = s3::make_config("b", {}, bad.get());
  REQUIRE_FALSE(c.is_ok());
  CHECK(c.status().kind() == StatusKind::kInvalidArgument);
  CHECK(c.status().message().find("SLIP_S3_CONDITIONAL_WRITES") != std::string::npos);
}
