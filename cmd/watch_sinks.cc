#include "watch_sinks.h"

#include <fcntl.h>
#include <spawn.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <csignal>

#include "core/time_format.h"
#include "fs/io.h"
#include "json_fields.h"
#include "signals.h"

extern char** environ;

namespace slip::cli {

void append_update_json(std::string* out, const kv::Entry& e) {
  out->append("{\"op\":\"").append(kv::operation_name(e.op)).append("\",\"key\":");
  append_json_string(out, e.key);
  char revision[24];
  char* end = std::to_chars(revision, revision + sizeof(revision), e.revision).ptr;
  out->append(",\"revision\":").append(revision, end);
  out->append(",\"created\":\"");
  append_rfc3339(out, e.created_ns);
  out->push_back('"');
  if (!e.reason.empty()) {
    out->append(",\"reason\":");
    append_json_string(out, e.reason);
  }
  if (e.op == kv::Operation::kPut) append_value_field(out, e.value);
  out->push_back('}');
}

std::string reset_json(std::uint64_t expired_cursor) {
  return "{\"op\":\"RESET\",\"expired_cursor\":" + std::to_string(expired_cursor) + "}";
}

std::string update_json(const kv::Entry& e) {
  std::string line;
  append_update_json(&line, e);
  return line;
}

Status PrintSink::apply(const std::vector<kv::Entry>& batch) {
  std::string& buf = out_.buffer();
  for (const kv::Entry& e : batch) {
    if (format_ == "value") {
      if (e.op != kv::Operation::kPut) continue;
      buf += e.value;
    } else if (format_ == "text") {
      buf += kv::operation_name(e.op);
      buf += ' ';
      buf += e.key;
      buf += " @" + std::to_string(e.revision);
      if (!e.reason.empty()) buf += " (" + e.reason + ")";
      if (e.op == kv::Operation::kPut) {
        buf += " = ";
        buf += is_valid_utf8(e.value) ? e.value : "<" + std::to_string(e.value.size()) + " bytes>";
      }
    } else {
      append_update_json(&buf, e);
    }
    buf += '\n';
    SLIP_RETURN_IF_ERROR(out_.maybe_flush());
  }
  SLIP_RETURN_IF_ERROR(out_.flush());
  // Redirected to a file, the lines must be on disk before the cursor that
  // names them is (the cursor file is fsynced).
  if (!stdout_checked_) {
    struct stat st;
    stdout_is_file_ = ::fstat(1, &st) == 0 && S_ISREG(st.st_mode);
    stdout_checked_ = true;
  }
  if (stdout_is_file_ && ::fdatasync(1) != 0)
    return Status::from_errno(errno, "fsync standard output");
  return Status::ok();
}

Status PrintSink::reset(std::uint64_t expired_cursor) {
  if (format_ == "value") return Status::ok();
  out_.buffer() += format_ == "text" ? "RESET after @" + std::to_string(expired_cursor)
                                     : reset_json(expired_cursor);
  out_.buffer() += '\n';
  return out_.flush();
}

Status ExecSink::apply(const std::vector<kv::Entry>& batch) {
  std::string input;
  for (const kv::Entry& e : batch) {
    append_update_json(&input, e);
    input += '\n';
  }
  return run(input, "a batch of " + std::to_string(batch.size()) + " updates ending at revision " +
                        std::to_string(batch.back().revision));
}

Status ExecSink::reset(std::uint64_t expired_cursor) {
  return run(reset_json(expired_cursor) + "\n", "the RESET line");
}

Status ExecSink::run(const std::string& input, const std::string& what) {
  int in[2];
  if (::pipe2(in, O_CLOEXEC) != 0) return Status::from_errno(errno, "pipe");
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, in[0], 0);
  // The command sees stdin/stdout/stderr only, not slip's NATS socket.
  posix_spawn_file_actions_addclosefrom_np(&actions, 3);
  // Its own process group: a Ctrl-C meant for slip lets the batch finish.
  posix_spawnattr_t attr;
  posix_spawnattr_init(&attr);
  posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETPGROUP);
  posix_spawnattr_setpgroup(&attr, 0);
  const char* argv[] = {"/bin/sh", "-c", command_.c_str(), nullptr};
  pid_t pid = 0;
  int rc = ::posix_spawn(&pid, "/bin/sh", &actions, &attr, const_cast<char**>(argv), environ);
  posix_spawn_file_actions_destroy(&actions);
  posix_spawnattr_destroy(&attr);
  ::close(in[0]);
  if (rc != 0) {
    ::close(in[1]);
    return Status::from_errno(rc, "start --exec command");
  }
  // A command that does not read its input is its own business: EPIPE here
  // is not an error, its exit status decides.
  Status wrote = fs::write_all(in[1], input.data(), input.size(), "--exec command input");
  ::close(in[1]);
  int status = 0;
  set_waited_child_group(pid);  // its own group: POSIX_SPAWN_SETPGROUP with 0
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  set_waited_child_group(0);
  if (!wrote.is_ok() && wrote.kind() != StatusKind::kPipeClosed) return wrote;
  if (WIFEXITED(status) && WEXITSTATUS(status) == 0) return Status::ok();
  std::string how = WIFEXITED(status) ? "exited with status " + std::to_string(WEXITSTATUS(status))
                                      : "was killed by signal " + std::to_string(WTERMSIG(status));
  return Status::check_failed("--exec command " + how + " on " + what +
                              "; the cursor was not advanced, so a restart delivers it again");
}

}  // namespace slip::cli
