#include "command_doc.h"

#include <cctype>

namespace slip::cli {

namespace {

constexpr std::string_view kExitStatusHeading = "EXIT STATUS";
constexpr std::string_view kEnvironmentHeading = "ENVIRONMENT";
constexpr std::string_view kDefaultGroup = "Options";  // CLI11's group when none is set

std::string trim(std::string_view text) {
  std::size_t begin = 0;
  std::size_t end = text.size();
  while (begin < end && std::isspace(static_cast<unsigned char>(text[begin]))) ++begin;
  while (end > begin && std::isspace(static_cast<unsigned char>(text[end - 1]))) --end;
  return std::string(text.substr(begin, end - begin));
}

std::vector<std::string> split_paragraphs(const std::string& text) {
  std::vector<std::string> paragraphs;
  std::size_t pos = 0;
  while (pos <= text.size()) {
    std::size_t end = text.find("\n\n", pos);
    if (end == std::string::npos) end = text.size();
    std::string paragraph = trim(std::string_view(text).substr(pos, end - pos));
    if (!paragraph.empty()) paragraphs.push_back(std::move(paragraph));
    pos = end + 2;
  }
  return paragraphs;
}

ValueCompletion completion_for(const std::string& value_name) {
  if (value_name == "FILE" || value_name == "OUT" || value_name == "PATH") {
    return ValueCompletion::kFile;
  }
  if (value_name == "DIR") return ValueCompletion::kDirectory;
  return ValueCompletion::kNone;
}

OptionDoc describe_option(const CLI::Option& opt) {
  OptionDoc doc;
  doc.short_names = opt.get_snames();
  doc.long_names = opt.get_lnames();
  doc.description = opt.get_description();
  doc.positional = opt.get_positional();
  doc.required = opt.get_required();
  doc.env = opt.get_envname();
  if (opt.get_group() != kDefaultGroup) doc.group = opt.get_group();
  // A flag expects no value; get_type_name() is empty for it as well.
  if (opt.get_expected_max() > 0) {
    // CLI11 appends each validator's description: "TEXT:{man,bash}". The
    // part before the first colon is the value name; a {a,b} part lists the
    // accepted values.
    std::string type_name = opt.get_type_name();
    std::size_t colon = type_name.find(':');
    const std::string base_type = type_name.substr(0, colon);
    // A positional is shown by its own name, which is what --help prints.
    doc.value_name = doc.positional ? opt.get_name(true) : base_type;
    if (colon != std::string::npos) {
      std::string rest = type_name.substr(colon + 1);
      if (rest.size() >= 2 && rest.front() == '{' && rest.back() == '}') {
        std::string list = rest.substr(1, rest.size() - 2);
        for (std::size_t pos = 0; pos <= list.size();) {
          std::size_t comma = list.find(',', pos);
          if (comma == std::string::npos) comma = list.size();
          doc.choices.push_back(trim(std::string_view(list).substr(pos, comma - pos)));
          pos = comma + 1;
        }
      }
    }
    if (doc.value_name.empty()) doc.value_name = "VALUE";
    doc.repeatable = doc.positional && opt.get_expected_max() > 1;
    doc.completion = completion_for(base_type);
  }
  return doc;
}

// "ENVIRONMENT\n  NAME  meaning\n..." as environment_help() writes it.
std::vector<EnvironmentDoc> parse_environment(const std::string& paragraph) {
  std::vector<EnvironmentDoc> out;
  std::size_t pos = paragraph.find('\n');
  while (pos != std::string::npos) {
    std::size_t end = paragraph.find('\n', pos + 1);
    std::string line = trim(std::string_view(paragraph).substr(
        pos + 1, (end == std::string::npos ? paragraph.size() : end) - pos - 1));
    std::size_t space = line.find(' ');
    if (!line.empty()) {
      out.push_back({line.substr(0, space),
                     space == std::string::npos ? "" : trim(std::string_view(line).substr(space))});
    }
    pos = end;
  }
  return out;
}

CommandDoc describe(const CLI::App& app, std::vector<std::string> path,
                    const std::string& inherited_exit_status) {
  CommandDoc doc;
  doc.path = std::move(path);
  doc.summary = app.get_description();
  // The top level reads "slip: a toolkit ..." in --help; the page name
  // already says "slip".
  const std::string self_prefix = app.get_name() + ": ";
  if (doc.summary.rfind(self_prefix, 0) == 0) doc.summary.erase(0, self_prefix.size());

  doc.exit_status = inherited_exit_status;
  for (std::string& paragraph : split_paragraphs(app.get_footer())) {
    std::size_t newline = paragraph.find('\n');
    const std::string heading = paragraph.substr(0, newline);
    if (heading == kExitStatusHeading) {
      doc.exit_status = newline == std::string::npos ? "" : trim(paragraph.substr(newline + 1));
    } else if (heading == kEnvironmentHeading) {
      doc.environment = parse_environment(paragraph);
    } else {
      doc.paragraphs.push_back(std::move(paragraph));
    }
  }
  doc.exit_codes = parse_exit_codes(doc.exit_status);

  auto visible = [](const CLI::Option* opt) { return !opt->get_group().empty(); };
  for (const CLI::Option* opt : app.get_options(visible)) {
    if (!opt->get_positional()) doc.options.push_back(describe_option(*opt));
  }
  for (const CLI::Option* opt : app.get_options(visible)) {
    if (opt->get_positional()) doc.options.push_back(describe_option(*opt));
  }

  auto subcommands = app.get_subcommands(
      [](const CLI::App* sub) { return !sub->get_group().empty() && !sub->get_name().empty(); });
  for (const CLI::App* sub : subcommands) {
    std::vector<std::string> child_path = doc.path;
    child_path.push_back(sub->get_name());
    doc.children.push_back(describe(*sub, std::move(child_path), doc.exit_status));
    doc.children.back().aliases = sub->get_aliases();
  }
  return doc;
}

void collect(const CommandDoc& doc, std::vector<const CommandDoc*>* out) {
  out->push_back(&doc);
  for (const CommandDoc& child : doc.children) collect(child, out);
}

}  // namespace

std::string join(const std::vector<std::string>& parts, std::string_view sep) {
  std::string out;
  for (std::size_t i = 0; i < parts.size(); ++i) {
    if (i != 0) out += sep;
    out += parts[i];
  }
  return out;
}

std::string CommandDoc::display_name() const { return join(path, " "); }

std::string CommandDoc::page_name() const { return join(path, "-"); }

std::vector<std::string> CommandDoc::names() const {
  std::vector<std::string> out{path.back()};
  out.insert(out.end(), aliases.begin(), aliases.end());
  return out;
}

std::string CommandDoc::function_name() const {
  std::string name = join(path, "_");
  for (char& c : name) {
    if (!std::isalnum(static_cast<unsigned char>(c))) c = '_';
  }
  return name;
}

CommandDoc describe_command(const CLI::App& app) { return describe(app, {app.get_name()}, ""); }

std::vector<const CommandDoc*> all_commands(const CommandDoc& root) {
  std::vector<const CommandDoc*> out;
  collect(root, &out);
  return out;
}

std::vector<ExitCodeDoc> parse_exit_codes(const std::string& text) {
  // Items are separated by semicolons outside parentheses, so a meaning may
  // itself contain "(a; b)".
  std::vector<std::string> items;
  std::string current;
  int depth = 0;
  for (char c : text) {
    if (c == '(') ++depth;
    if (c == ')' && depth > 0) --depth;
    if (c == ';' && depth == 0) {
      items.push_back(trim(current));
      current.clear();
    } else {
      current += c;
    }
  }
  items.push_back(trim(current));

  std::vector<ExitCodeDoc> codes;
  for (std::string& item : items) {
    if (!item.empty() && item.back() == '.') item.pop_back();
    std::size_t digits = 0;
    while (digits < item.size() && std::isdigit(static_cast<unsigned char>(item[digits]))) {
      ++digits;
    }
    if (digits == 0 || digits >= item.size() || item[digits] != ' ') return {};
    codes.push_back({item.substr(0, digits), trim(item.substr(digits + 1))});
  }
  return codes;
}

std::string single_quoted(std::string_view text) {
  std::string out = "'";
  for (char c : text) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return out + "'";
}

}  // namespace slip::cli
