#include "generate.h"

#include <filesystem>
#include <system_error>

#include "slip/atomic_file.h"

namespace slip::cli {

void register_generate(CLI::App& parent, Registry& registry) {
  auto opts = std::make_shared<GenerateOptions>();
  CLI::App* app = parent.add_subcommand("generate", "Generate man pages and shell completions");
  app->group("");  // hidden: a tool for packagers and the build
  app->add_option("WHAT", opts->what, "man, bash, zsh or fish")
      ->required()
      ->check(CLI::IsMember({"man", "bash", "zsh", "fish"}));
  app->add_option("-o,--out", opts->out_dir, "Directory to write into")->type_name("DIR");
  set_long_help(app,
                "Writes the man pages (one per command) or a completion script for bash, zsh "
                "or fish, generated from the command definitions. Completion scripts go to "
                "standard output unless -o is given; man pages need -o. The output has no dates, "
                "so regenerating gives the same bytes.\n\n"
                "EXIT STATUS\n"
                "0 written; 2 bad arguments, or man without -o; 4 I/O error.");
  registry.set_runner(app, [opts](Context& ctx) { return run_generate(*opts, ctx); });
}

namespace {

Status write_files(const std::string& dir, const std::vector<GeneratedFile>& files) {
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) return Status::from_errno(ec.value(), "create directory " + dir);
  for (const GeneratedFile& file : files) {
    auto out = AtomicFile::create(dir + "/" + file.name);
    if (!out) return out.status();
    SLIP_RETURN_IF_ERROR((*out)->write(file.content));
    SLIP_RETURN_IF_ERROR((*out)->commit());
  }
  return Status::ok();
}

}  // namespace

Status run_generate(const GenerateOptions& options, Context& ctx) {
  // A fresh tree rather than the one being run: it is the same definitions,
  // and run_generate stays callable without a parsed command line.
  Registry registry;
  std::unique_ptr<CLI::App> app = build_app(registry);
  const CommandDoc root = describe_command(*app);

  std::vector<GeneratedFile> files;
  if (options.what == "man") {
    if (options.out_dir.empty()) {
      return Status::invalid_argument(
          "man pages are one file per command and need an output directory: "
          "use 'slip generate man -o DIR'");
    }
    files = generate_man_pages(root, SLIP_VERSION);
  } else if (options.what == "bash") {
    files.push_back({"slip.bash", generate_bash_completion(root)});
  } else if (options.what == "zsh") {
    files.push_back({"_slip", generate_zsh_completion(root)});
  } else if (options.what == "fish") {
    files.push_back({"slip.fish", generate_fish_completion(root)});
  } else {
    return Status::invalid_argument("unknown kind '" + options.what +
                                    "': expected man, bash, zsh or fish");
  }

  if (options.out_dir.empty()) return ctx.out.write(files.front().content);
  return write_files(options.out_dir, files);
}

}  // namespace slip::cli
