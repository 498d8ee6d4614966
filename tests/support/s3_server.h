// Test fixture: a real S3-compatible server (the npm package s3rver, pinned
// and installed into .tools/ by scripts/install-deps) on a free loopback
// port, with its data in a private TempDir and one bucket created.
//
//   slip::test::S3Server s3;                 // bucket "slip-test"
//   setenv/ env: s3.env()                     // AWS_* for the child or process
//   slip::location::Options o; o.endpoint = s3.endpoint();
//   auto loc = open_location(s3.url("exports/edge"), o);
//
// s3rver accepts any secret key (it does not verify SigV4 signatures) but
// only the access key id "S3RVER"; any other id is refused with 403
// InvalidAccessKeyId. It ignores If-Match / If-None-Match on PUT and does not
// enforce S3's 5 MiB minimum part size.
//
// The constructor returns once the server answers GET /BUCKET with 200; it
// throws std::runtime_error (with the server's log) when node or s3rver is
// missing or the server does not come up within 15 s. The destructor kills
// the server and removes its data. Not thread-safe.
//
// SLIP_S3RVER, when set, names the s3rver.js to run instead of
// <source>/.tools/node_modules/s3rver/bin/s3rver.js.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "support/background.h"
#include "support/files.h"

namespace slip::test {

class S3Server {
 public:
  explicit S3Server(std::string bucket = "slip-test");
  ~S3Server();
  S3Server(const S3Server&) = delete;
  S3Server& operator=(const S3Server&) = delete;

  static constexpr const char* kAccessKey = "S3RVER";
  static constexpr const char* kSecretKey = "S3RVER";

  int port() const { return port_; }
  const std::string& bucket() const { return bucket_; }
  // "http://127.0.0.1:PORT": for Options::endpoint, --endpoint or AWS_ENDPOINT_URL.
  std::string endpoint() const;
  // "s3://BUCKET/PREFIX".
  std::string url(const std::string& prefix) const;
  // The environment a slip process needs to reach this server, as
  // run_process/run_slip take it: AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY,
  // AWS_REGION, AWS_ENDPOINT_URL; AWS_SESSION_TOKEN and
  // SLIP_S3_CONDITIONAL_WRITES unset.
  std::vector<std::string> env() const;
  // Sets the same variables in this process (for tests calling the library).
  void set_env() const;
  // Where s3rver keeps the bucket's objects (to check nothing is left).
  std::string data_dir() const { return dir_.file("data"); }

  bool running();
  // SIGKILL: a crash. The port stays unanswered.
  void kill9();
  std::string log() const;

 private:
  TempDir dir_;
  std::string bucket_;
  int port_ = 0;
  std::unique_ptr<BackgroundProcess> process_;
};

// The s3rver.js the fixture runs; throws when it is not installed.
std::string s3rver_script();

}  // namespace slip::test
