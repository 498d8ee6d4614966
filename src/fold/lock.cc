#include "fold/lock.h"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <cerrno>
#include <string>

namespace slip::fold {

Result<std::unique_ptr<FileLock>> FileLock::acquire(const std::string& path) {
  int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (fd < 0) return Status::from_errno(errno, "open lock file " + path);
  if (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
    int err = errno;
    char pid[32] = {0};
    ssize_t n = ::pread(fd, pid, sizeof(pid) - 1, 0);
    ::close(fd);
    if (err == EWOULDBLOCK) {
      std::string who = n > 0 ? std::string(pid, static_cast<std::size_t>(n)) : "";
      while (!who.empty() && who.back() == '\n') who.pop_back();
      const std::string holder = who.empty() ? "" : " (pid " + who + ")";
      return Status::io_error("the fold is in use by another slip process" + holder + ": " + path);
    }
    return Status::from_errno(err, "lock " + path);
  }
  std::string me = std::to_string(::getpid()) + "\n";
  if (::ftruncate(fd, 0) == 0) (void)::pwrite(fd, me.data(), me.size(), 0);
  return std::unique_ptr<FileLock>(new FileLock(fd));
}

Result<std::unique_ptr<FileLock>> FileLock::acquire_fold(const std::string& fold_path,
                                                         const std::string& backend) {
  return acquire(backend == "log" ? fold_path + ".lock" : fold_path + "/slip.lock");
}

FileLock::~FileLock() {
  if (fd_ >= 0) ::close(fd_);  // closing releases the lock
}

}  // namespace slip::fold
