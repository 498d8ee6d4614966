// Thin, Status-returning wrappers over POSIX file calls.
#pragma once

#include <cstddef>
#include <string>

#include "slip/status.h"

namespace slip::fs {

// write(2) until LEN bytes are written, retrying on EINTR.
Status write_all(int fd, const void* data, std::size_t len, const std::string& name);

// pread(2) exactly LEN bytes at OFFSET; a short read is an I/O error.
Status pread_all(int fd, void* data, std::size_t len, std::uint64_t offset,
                 const std::string& name);

// fsync the directory holding PATH, so that a rename in it is durable.
Status fsync_parent_dir(const std::string& path);

std::string dirname_of(const std::string& path);
std::string basename_of(const std::string& path);

}  // namespace slip::fs
