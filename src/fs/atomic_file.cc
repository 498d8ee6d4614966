#include "slip/atomic_file.h"

#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdlib>

#include "fs/io.h"

namespace slip {

namespace {

constexpr std::size_t kBufferSize = 1 << 20;
constexpr std::string_view kTempInfix = ".slip-tmp.";

std::string temp_prefix(const std::string& target) {
  return "." + fs::basename_of(target) + std::string(kTempInfix);
}

bool process_alive(long pid) {
  if (pid <= 0) return false;
  return ::kill(static_cast<pid_t>(pid), 0) == 0 || errno == EPERM;
}

}  // namespace

int remove_stale_temps(const std::string& target) {
  const std::string dir = fs::dirname_of(target);
  const std::string prefix = temp_prefix(target);
  DIR* d = ::opendir(dir.c_str());
  if (d == nullptr) return 0;
  int removed = 0;
  while (struct dirent* entry = ::readdir(d)) {
    std::string_view name = entry->d_name;
    if (name.substr(0, prefix.size()) != prefix) continue;
    long pid = std::strtol(std::string(name.substr(prefix.size())).c_str(), nullptr, 10);
    if (pid == ::getpid() || process_alive(pid)) continue;
    if (::unlink((dir + "/" + std::string(name)).c_str()) == 0) ++removed;
  }
  ::closedir(d);
  return removed;
}

Result<std::unique_ptr<AtomicFile>> AtomicFile::create(const std::string& target) {
  static std::atomic<unsigned> counter{0};
  remove_stale_temps(target);
  mode_t mode = 0644;
  struct stat st;
  if (::stat(target.c_str(), &st) == 0) {
    if (S_ISDIR(st.st_mode)) return Status::invalid_argument(target + " is a directory");
    mode = st.st_mode & 07777;
  }
  std::string temp = fs::dirname_of(target) + "/" + temp_prefix(target) +
                     std::to_string(::getpid()) + "." + std::to_string(counter++);
  int fd = ::open(temp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode);
  if (fd < 0)
    return Status::from_errno(errno, "create temporary file in " + fs::dirname_of(target));
  return std::unique_ptr<AtomicFile>(new AtomicFile(fd, target, std::move(temp)));
}

AtomicFile::AtomicFile(int fd, std::string target, std::string temp)
    : fd_(fd), target_(std::move(target)), temp_path_(std::move(temp)) {
  buffer_.reserve(kBufferSize);
}

AtomicFile::~AtomicFile() {
  if (fd_ >= 0) ::close(fd_);
  if (!committed_) ::unlink(temp_path_.c_str());
}

Status AtomicFile::flush_buffer() {
  SLIP_RETURN_IF_ERROR(fs::write_all(fd_, buffer_.data(), buffer_.size(), temp_path_));
  buffer_.clear();
  return Status::ok();
}

Status AtomicFile::write(std::string_view data) {
  written_ += data.size();
  if (buffer_.size() + data.size() > kBufferSize) {
    SLIP_RETURN_IF_ERROR(flush_buffer());
    if (data.size() >= kBufferSize) return fs::write_all(fd_, data.data(), data.size(), temp_path_);
  }
  buffer_.append(data);
  return Status::ok();
}

Status AtomicFile::commit() {
  SLIP_RETURN_IF_ERROR(flush_buffer());
  if (::fsync(fd_) != 0) return Status::from_errno(errno, "fsync " + temp_path_);
  if (::close(fd_) != 0) {
    fd_ = -1;
    return Status::from_errno(errno, "close " + temp_path_);
  }
  fd_ = -1;
  if (::rename(temp_path_.c_str(), target_.c_str()) != 0) {
    return Status::from_errno(errno, "rename over " + target_);
  }
  committed_ = true;
  return fs::fsync_parent_dir(target_);
}

}  // namespace slip
