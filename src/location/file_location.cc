// file:// locations: one file per object under a directory; a key with '/'
// makes subdirectories.
//
// Uploads go through AtomicFile (temporary in the target's directory, fsync,
// rename, fsync of the directory), so an object is either absent or
// complete. put_small checks its precondition and replaces the file while
// holding an flock on ".slip-location.lock" in the location's directory, so
// two writers on this machine (or on a file system with working flock)
// cannot both win. The etag of a file object is the hex SHA-256 of its bytes.
#include <dirent.h>
#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <functional>

#include "fs/io.h"
#include "location/digest.h"
#include "location/schemes.h"
#include "slip/atomic_file.h"

namespace slip::location {

namespace {

constexpr const char* kLockName = ".slip-location.lock";
constexpr std::string_view kTempInfix = ".slip-tmp.";
constexpr uint64_t kListEtagLimit = 1 << 20;  // see Location::list
constexpr uint64_t kSmallLimit = 64 << 20;
constexpr std::chrono::seconds kStaleStaged{24 * 3600};

struct Fd {
  int fd = -1;
  explicit Fd(int f) : fd(f) {}
  ~Fd() {
    if (fd >= 0) ::close(fd);
  }
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
};

// Our own bookkeeping files, which are never objects.
bool is_internal_name(std::string_view name) {
  return name == kLockName ||
         (name.size() > 1 && name[0] == '.' && name.find(kTempInfix) != std::string_view::npos);
}

Status check_key(const std::string& key) {
  if (key.empty()) return Status::invalid_argument("empty object key");
  std::size_t start = 0;
  for (;;) {
    auto slash = key.find('/', start);
    std::string_view segment =
        std::string_view(key).substr(start, slash == std::string::npos ? slash : slash - start);
    if (segment.empty() || segment == "." || segment == ".." || is_internal_name(segment) ||
        segment.find('\0') != std::string_view::npos) {
      return Status::invalid_argument(
          "object key '" + key + "' cannot be a file name (empty, '.', '..' or reserved part)");
    }
    if (slash == std::string::npos) return Status::ok();
    start = slash + 1;
  }
}

Status make_dirs(const std::string& dir) {
  if (dir.empty()) return Status::ok();
  struct stat st;
  if (::stat(dir.c_str(), &st) == 0) {
    return S_ISDIR(st.st_mode) ? Status::ok()
                               : Status::invalid_argument(dir + " is not a directory");
  }
  auto slash = dir.find_last_of('/');
  if (slash != std::string::npos && slash > 0)
    SLIP_RETURN_IF_ERROR(make_dirs(dir.substr(0, slash)));
  if (::mkdir(dir.c_str(), 0755) != 0) {
    if (errno == EEXIST) return Status::ok();
    return Status::from_errno(errno, "create directory " + dir);
  }
  return fs::fsync_parent_dir(dir);  // the new entry must survive a crash too
}

// Best effort: what cannot be removed stays for the next look.
void remove_stale_files(const std::string& dir, std::chrono::seconds age) {
  DIR* d = ::opendir(dir.c_str());
  if (d == nullptr) return;
  const auto cutoff = std::chrono::system_clock::now() - age;
  while (struct dirent* e = ::readdir(d)) {
    const std::string path = dir + "/" + e->d_name;
    struct stat st;
    if (::lstat(path.c_str(), &st) != 0 || !S_ISREG(st.st_mode)) continue;
    if (std::chrono::system_clock::from_time_t(st.st_mtime) < cutoff) ::unlink(path.c_str());
  }
  ::closedir(d);
}

Result<std::string> read_whole(const std::string& path, const std::string& key) {
  Fd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (fd.fd < 0) {
    if (errno == ENOENT || errno == ENOTDIR) return Status::not_found("no object " + key);
    return Status::from_errno(errno, "open " + path);
  }
  struct stat st;
  if (::fstat(fd.fd, &st) != 0) return Status::from_errno(errno, "stat " + path);
  if (S_ISDIR(st.st_mode)) return Status::not_found("no object " + key + " (a directory)");
  if (static_cast<uint64_t>(st.st_size) > kSmallLimit) {
    return Status::invalid_argument("object " + key + " is too large to read whole");
  }
  std::string data(static_cast<std::size_t>(st.st_size), '\0');
  if (!data.empty()) SLIP_RETURN_IF_ERROR(fs::pread_all(fd.fd, data.data(), data.size(), 0, path));
  return data;
}

class FileUpload : public Upload {
 public:
  explicit FileUpload(std::unique_ptr<AtomicFile> file) : file_(std::move(file)) {}
  Status write(const void* data, size_t size) override {
    if (!file_) return Status::invalid_argument("upload already finished or aborted");
    Status s = file_->write(std::string_view(static_cast<const char*>(data), size));
    if (!s) file_.reset();
    return s;
  }
  Status finish() override {
    if (!file_) return Status::invalid_argument("upload already finished or aborted");
    Status s = file_->commit();
    file_.reset();
    return s;
  }
  void abort() override { file_.reset(); }  // the destructor removes the temporary

 private:
  std::unique_ptr<AtomicFile> file_;
};

class FileDownload : public Download {
 public:
  FileDownload(int fd, uint64_t size, std::string path) : fd_(fd), size_(size), path_(path) {}
  ~FileDownload() override { ::close(fd_); }
  Result<size_t> read(void* buffer, size_t size) override {
    for (;;) {
      ssize_t n = ::read(fd_, buffer, size);
      if (n >= 0) return static_cast<size_t>(n);
      if (errno != EINTR) return Status::from_errno(errno, "read " + path_);
    }
  }
  uint64_t size() const override { return size_; }

 private:
  int fd_;
  uint64_t size_;
  std::string path_;
};

class FileLocation : public Location {
 public:
  FileLocation(std::string dir, std::string display)
      : dir_(std::move(dir)), display_(std::move(display)) {}

  std::string display() const override { return display_; }

  Result<std::unique_ptr<Upload>> upload(const std::string& key) override {
    SLIP_RETURN_IF_ERROR(check_key(key));
    const std::string path = path_of(key);
    SLIP_RETURN_IF_ERROR(make_dirs(fs::dirname_of(path)));
    auto file = AtomicFile::create(path);
    if (!file) return file.status();
    return std::unique_ptr<Upload>(new FileUpload(std::move(*file)));
  }

  // An internal name, so list() passes over it and no key can reach it.
  // Files an export left there when it died are removed once a day old (a
  // running export's file is younger: it is written to continuously).
  Result<std::string> staging_dir() override {
    const std::string dir = dir_ + "/.slip-tmp.staging";
    SLIP_RETURN_IF_ERROR(make_dirs(dir));
    remove_stale_files(dir, kStaleStaged);
    return dir;
  }

  Status adopt(const std::string& key, const std::string& path) override {
    SLIP_RETURN_IF_ERROR(check_key(key));
    const std::string target = path_of(key);
    SLIP_RETURN_IF_ERROR(make_dirs(fs::dirname_of(target)));
    {
      // Its mode is the caller's: created as the object would have been.
      Fd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
      if (fd.fd < 0) return Status::from_errno(errno, "open " + path);
      if (::fsync(fd.fd) != 0) return Status::from_errno(errno, "fsync " + path);
    }
    if (::rename(path.c_str(), target.c_str()) != 0) {
      if (errno == EXDEV) return Status::not_supported(path + " is on another file system");
      return Status::from_errno(errno, "rename " + path + " to " + target);
    }
    return fs::fsync_parent_dir(target);
  }

  Result<std::unique_ptr<Download>> download(const std::string& key) override {
    SLIP_RETURN_IF_ERROR(check_key(key));
    const std::string path = path_of(key);
    int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
      if (errno == ENOENT || errno == ENOTDIR) {
        return Status::not_found("no object " + key + " in " + display_);
      }
      return Status::from_errno(errno, "open " + path);
    }
    struct stat st;
    if (::fstat(fd, &st) != 0 || S_ISDIR(st.st_mode)) {
      ::close(fd);
      return Status::not_found("no object " + key + " in " + display_);
    }
    return std::unique_ptr<Download>(new FileDownload(fd, static_cast<uint64_t>(st.st_size), path));
  }

  Status put_small(const std::string& key, std::string_view data,
                   const Precondition& precondition) override {
    SLIP_RETURN_IF_ERROR(check_key(key));
    const std::string path = path_of(key);
    SLIP_RETURN_IF_ERROR(make_dirs(fs::dirname_of(path)));
    auto lock = lock_dir();
    if (!lock) return lock.status();
    if (precondition.kind != Precondition::Kind::kNone) {
      auto current = read_whole(path, key);
      if (!current && current.status().kind() != StatusKind::kNotFound) return current.status();
      if (precondition.kind == Precondition::Kind::kIfNoneMatch && current) {
        return Status::conflict("object " + key + " already exists in " + display_);
      }
      if (precondition.kind == Precondition::Kind::kIfMatch) {
        if (!current) return Status::conflict("object " + key + " no longer exists in " + display_);
        if (sha256_hex(*current) != precondition.etag) {
          return Status::conflict("object " + key + " changed in " + display_);
        }
      }
    }
    auto file = AtomicFile::create(path);
    if (!file) return file.status();
    SLIP_RETURN_IF_ERROR((*file)->write(data));
    return (*file)->commit();
  }

  Result<std::string> get_small(const std::string& key, std::string* etag) override {
    SLIP_RETURN_IF_ERROR(check_key(key));
    auto data = read_whole(path_of(key), key);
    if (!data) {
      if (data.status().kind() == StatusKind::kNotFound) {
        return Status::not_found("no object " + key + " in " + display_);
      }
      return data.status();
    }
    if (etag != nullptr) *etag = sha256_hex(*data);
    return data;
  }

  Result<std::vector<ObjectInfo>> list(const std::string& prefix) override {
    std::vector<ObjectInfo> out;
    // Walk only the directory the prefix is certainly inside.
    auto slash = prefix.rfind('/');
    std::string base = slash == std::string::npos ? "" : prefix.substr(0, slash + 1);
    std::string start = dir_ + (base.empty() ? "" : "/" + base.substr(0, base.size() - 1));
    SLIP_RETURN_IF_ERROR(walk(start, base, prefix, &out));
    std::sort(out.begin(), out.end(),
              [](const ObjectInfo& a, const ObjectInfo& b) { return a.key < b.key; });
    return out;
  }

  Status remove(const std::string& key) override {
    SLIP_RETURN_IF_ERROR(check_key(key));
    const std::string path = path_of(key);
    if (::unlink(path.c_str()) != 0) {
      if (errno == ENOENT || errno == ENOTDIR) return Status::ok();
      return Status::from_errno(errno, "remove " + path);
    }
    SLIP_RETURN_IF_ERROR(fs::fsync_parent_dir(path));
    // Empty subdirectories the key made go too; the location's own stays.
    std::string dir = fs::dirname_of(path);
    while (dir.size() > dir_.size() && ::rmdir(dir.c_str()) == 0) dir = fs::dirname_of(dir);
    return Status::ok();
  }

  bool supports_conditional_writes() const override { return true; }

 private:
  std::string path_of(const std::string& key) const { return dir_ + "/" + key; }

  Result<std::unique_ptr<Fd>> lock_dir() {
    const std::string path = dir_ + "/" + kLockName;
    auto fd = std::make_unique<Fd>(::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644));
    if (fd->fd < 0) return Status::from_errno(errno, "open lock file " + path);
    // Writers hold it for one small write: waiting is right.
    while (::flock(fd->fd, LOCK_EX) != 0) {
      if (errno != EINTR) return Status::from_errno(errno, "lock " + path);
    }
    return fd;
  }

  // Adds the objects under DIR (whose key prefix is REL) that start with
  // PREFIX.
  Status walk(const std::string& dir, const std::string& rel, const std::string& prefix,
              std::vector<ObjectInfo>* out) {
    DIR* d = ::opendir(dir.c_str());
    if (d == nullptr) {
      if (errno == ENOENT || errno == ENOTDIR) return Status::ok();
      return Status::from_errno(errno, "list " + dir);
    }
    std::unique_ptr<DIR, int (*)(DIR*)> closer(d, ::closedir);
    while (struct dirent* entry = ::readdir(d)) {
      std::string name = entry->d_name;
      if (name == "." || name == ".." || is_internal_name(name)) continue;
      std::string key = rel + name;
      std::string path = dir + "/" + name;
      struct stat st;
      if (::lstat(path.c_str(), &st) != 0) {
        if (errno == ENOENT) continue;  // removed while we looked
        return Status::from_errno(errno, "stat " + path);
      }
      if (S_ISDIR(st.st_mode)) {
        // Descend only where keys may still start with PREFIX.
        std::string sub = key + "/";
        std::size_t n = std::min(sub.size(), prefix.size());
        if (sub.compare(0, n, prefix, 0, n) == 0)
          SLIP_RETURN_IF_ERROR(walk(path, sub, prefix, out));
        continue;
      }
      if (!S_ISREG(st.st_mode) || key.compare(0, prefix.size(), prefix) != 0) continue;
      ObjectInfo info;
      info.key = key;
      info.size = static_cast<uint64_t>(st.st_size);
      info.modified_ns = static_cast<int64_t>(st.st_mtim.tv_sec) * 1000000000 + st.st_mtim.tv_nsec;
      if (info.size <= kListEtagLimit) {
        auto data = read_whole(path, key);
        if (data) info.etag = sha256_hex(*data);
      }
      out->push_back(std::move(info));
    }
    return Status::ok();
  }

  std::string dir_;
  std::string display_;
};

}  // namespace

Result<std::unique_ptr<Location>> open_file_location(const std::string& rest,
                                                     const Options& options,
                                                     const std::string& display) {
  if (rest.empty()) return Status::invalid_argument("empty location path");
  std::string dir = rest;
  while (dir.size() > 1 && dir.back() == '/') dir.pop_back();
  struct stat st;
  if (::stat(dir.c_str(), &st) == 0 && !S_ISDIR(st.st_mode)) {
    return Status::invalid_argument("location " + dir + " is not a directory");
  }
  if (dir == "/") dir.clear();  // keys become "/" + key
  return std::unique_ptr<Location>(new FileLocation(dir, display.empty() ? rest : display));
}

}  // namespace slip::location
