#include "generate.h"

namespace slip::cli {

void register_generate(CLI::App& parent, Registry& registry) {
  auto opts = std::make_shared<GenerateOptions>();
  CLI::App* app = parent.add_subcommand("generate", "Generate man pages and shell completions");
  app->group("");  // hidden: a tool for packagers and the build
  app->add_option("WHAT", opts->what, "man, bash, zsh or fish")
      ->required()
      ->check(CLI::IsMember({"man", "bash", "zsh", "fish"}));
  app->add_option("-o,--out", opts->out_dir, "Directory to write into")->type_name("DIR");
  registry.set_runner(app, [opts](Context& ctx) { return run_generate(*opts, ctx); });
}

Status run_generate(const GenerateOptions& options, Context& ctx) {
  return Status::not_supported("generate is not implemented yet");
}

}  // namespace slip::cli
