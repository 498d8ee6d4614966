#include <algorithm>
#include <cstdio>

#include <curl/curl.h>
#include <leveldb/db.h>
#include <nats/nats.h>
#include <openssl/crypto.h>
#include <zstd.h>

#include "command.h"
#include "slip/exit_codes.h"

namespace slip::cli {

namespace {

std::size_t edit_distance(const std::string& a, const std::string& b) {
  std::vector<std::size_t> row(b.size() + 1);
  for (std::size_t j = 0; j <= b.size(); ++j) row[j] = j;
  for (std::size_t i = 1; i <= a.size(); ++i) {
    std::size_t diag = row[0];
    row[0] = i;
    for (std::size_t j = 1; j <= b.size(); ++j) {
      std::size_t up = row[j];
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, diag + (a[i - 1] == b[j - 1] ? 0 : 1)});
      diag = up;
    }
  }
  return row[b.size()];
}

std::string command_path(const CLI::App* app) {
  std::string path;
  for (const CLI::App* a = app; a != nullptr && a->get_parent() != nullptr; a = a->get_parent()) {
    path = path.empty() ? a->get_name() : a->get_name() + " " + path;
  }
  return path.empty() ? "slip" : "slip " + path;
}

// Walks ARGS down the command tree; at the first word that should name a
// subcommand but names none, returns a one-line error with a suggestion.
std::string unknown_subcommand_error(CLI::App* app, const std::vector<std::string>& args) {
  for (const std::string& arg : args) {
    if (arg.empty() || arg[0] == '-') return "";
    auto subs = app->get_subcommands([](CLI::App*) { return true; });
    if (subs.empty()) return "";
    CLI::App* next = nullptr;
    std::string best;
    std::size_t best_distance = 3;  // suggest only close names
    for (CLI::App* sub : subs) {
      if (sub->check_name(arg)) next = sub;  // its name or an alias
      if (sub->get_group().empty()) continue;  // hidden commands are not suggested
      std::size_t d = edit_distance(arg, sub->get_name());
      if (d < best_distance) best_distance = d, best = sub->get_name();
    }
    if (next == nullptr) {
      std::string msg = "unknown command '" + arg + "' for '" + command_path(app) + "'";
      if (!best.empty()) msg += "; did you mean '" + best + "'?";
      return msg + " (see '" + command_path(app) + " --help')";
    }
    app = next;
  }
  return "";
}

const CLI::App* selected_leaf(const CLI::App* app) {
  for (;;) {
    auto chosen = app->get_subcommands();
    if (chosen.empty()) return app;
    app = chosen.front();
  }
}

}  // namespace

void set_long_help(CLI::App* app, const std::string& text) { app->footer(text); }

std::string environment_help(const std::vector<EnvironmentHelp>& variables) {
  std::size_t width = 0;
  for (const EnvironmentHelp& v : variables) width = std::max(width, v.name.size());
  std::string paragraph = "ENVIRONMENT";
  for (const EnvironmentHelp& v : variables) {
    paragraph += "\n  " + v.name + std::string(width - v.name.size() + 2, ' ') + v.meaning;
  }
  return paragraph;
}

std::string version_text() {
  // The libraries are the ones slip runs with, which is what a bug report needs.
  // LevelDB has no runtime query; its header version is what slip was built with.
  const curl_version_info_data* curl = curl_version_info(CURLVERSION_NOW);
  return std::string("slip ") + SLIP_VERSION + "\ncnats " + nats_GetVersion() + "\nleveldb " +
         std::to_string(leveldb::kMajorVersion) + "." + std::to_string(leveldb::kMinorVersion) +
         "\nzstd " + ZSTD_versionString() + "\nlibcurl " + curl->version + "\n" +
         OpenSSL_version(OPENSSL_VERSION) + "\n";
}

std::unique_ptr<CLI::App> build_app(Registry& registry) {
  auto app = std::make_unique<CLI::App>(
      "slip: a toolkit for operators of NATS JetStream Key-Value buckets", "slip");
  app->set_version_flag("--version", std::string("slip ") + SLIP_VERSION);
  app->require_subcommand(1);
  set_long_help(app.get(),
                "EXIT STATUS\n"
                "0 success; 1 a negative answer (not found, differences, CAS lost, torn tail); "
                "2 usage error or bad input, also a request the server refuses as it is (see JETSTREAM "
                "ERRORS in slip(1)); 3 damaged data (corrupted or invalid snapshot or "
                "artifact); 4 unavailable (server unreachable, timeout, permission, disk full); "
                "130 interrupted (SIGINT or SIGTERM: watch, mirror and a restore finish the batch "
                "in hand and record their cursor first, export stops between chunks and "
                "requests and cleans up after itself, and a second signal stops any of them at "
                "once; import and diff stop at once; temporary files are removed either way, and "
                "it is safe: nothing is recorded as applied that was not).");
  for (const CommandDef& def : command_table()) def.register_fn(*app, registry);
  return app;
}

int run_main(const std::vector<std::string>& args, Output& out, std::FILE* err) {
  Registry registry;
  auto app = build_app(registry);
  if (std::string msg = unknown_subcommand_error(app.get(), args); !msg.empty()) {
    std::fprintf(err, "slip: error: %s\n", msg.c_str());
    return exit_code::kUsage;
  }
  try {
    std::vector<std::string> reversed(args.rbegin(), args.rend());  // CLI11 consumes from the back
    app->parse(reversed);
  } catch (const CLI::CallForHelp& e) {
    (void)out.write(app->help());
    // Help for the chosen subcommand, not the top level.
    return exit_code::kOk;
  } catch (const CLI::ParseError& e) {
    if (e.get_exit_code() == 0) {
      (void)out.write(version_text());
      return exit_code::kOk;
    }
    const CLI::App* leaf = selected_leaf(app.get());
    std::fprintf(err, "slip: error: %s (see '%s --help')\n", e.what(), command_path(leaf).c_str());
    return exit_code::kUsage;
  }
  const CLI::App* leaf = selected_leaf(app.get());
  const Runner* runner = registry.find(leaf);
  if (runner == nullptr) {
    std::fprintf(err, "slip: error: '%s' needs a subcommand (see '%s --help')\n",
                 command_path(leaf).c_str(), command_path(leaf).c_str());
    return exit_code::kUsage;
  }
  Context ctx{out};
  Status status = (*runner)(ctx);
  Status flushed = out.flush();
  if (status.is_ok()) status = flushed;
  if (status.kind() == StatusKind::kPipeClosed) return exit_code::kOk;
  if (!status.is_ok() && !status.message().empty()) {
    std::fprintf(err, "slip: %s: %s\n",
                 exit_code_for(status) == exit_code::kNegative ? "note" : "error",
                 status.message().c_str());
  }
  return exit_code_for(status);
}

}  // namespace slip::cli
