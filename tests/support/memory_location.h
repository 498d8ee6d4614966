// An in-memory location::Location for unit tests of the artifact code:
// objects in a map, etags that change on every write, preconditions
// enforced or not (like a store without conditional writes), and hooks to
// fail or observe operations.
#pragma once

#include <functional>
#include <map>
#include <string>

#include "slip/location.h"

namespace slip::test {

class MemoryLocation : public location::Location {
 public:
  struct Object {
    std::string data;
    std::string etag;
    std::int64_t modified_ns = 0;
  };

  explicit MemoryLocation(bool conditional = true) : conditional_(conditional) {}

  std::map<std::string, Object> objects;
  // Called before every put_small; a non-OK Status fails the put.
  std::function<Status(const std::string& key)> before_put;
  // An upload fails once this many bytes were written to it (0: never).
  std::uint64_t fail_upload_after = 0;
  int puts = 0;

  std::string display() const override { return "mem://test"; }
  bool supports_conditional_writes() const override { return conditional_; }

  Result<std::unique_ptr<location::Upload>> upload(const std::string& key) override;
  Result<std::unique_ptr<location::Download>> download(const std::string& key) override;
  Status put_small(const std::string& key, std::string_view data,
                   const location::Precondition& pre) override;
  Result<std::string> get_small(const std::string& key, std::string* etag) override;
  Result<std::vector<location::ObjectInfo>> list(const std::string& prefix) override;
  Status remove(const std::string& key) override;

  void store(const std::string& key, std::string data);

 private:
  bool conditional_;
  int next_etag_ = 0;
};

}  // namespace slip::test
