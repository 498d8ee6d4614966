// Man pages in roff (man(7) macros plus tbl for the exit status tables),
// one per command, from the CommandDoc tree.
#include <algorithm>
#include <cstdio>
#include <regex>
#include <set>
#include <utility>

#include "generate.h"
#include "nats/js_errors.h"

namespace slip::cli {

namespace {

// Shared by every command's machine output; the code is in json_fields.h.
constexpr std::string_view kJsonOutput =
    "Machine-readable output (--json, and the lines of snapshot dump) is JSON, and two "
    "renderings are the same in every command. A version token (the version of a record, "
    "a cursor) is its revision number when it is 8 bytes wide, as NATS tokens are, and its "
    "lowercase hex string otherwise. A value is printed as a string under \"value\" when it is "
    "valid UTF-8, and base64-encoded under \"value_b64\" otherwise. Each command's page lists "
    "its fields.";

// Appends the UTF-8 sequence at TEXT[*i] as a \[uXXXX] escape, so that the
// pages need no preconv; advances *i past it. Bytes that are not UTF-8
// become '?'.
void append_non_ascii(std::string_view text, std::size_t* i, std::string* out) {
  const auto byte = [&](std::size_t k) { return static_cast<unsigned char>(text[k]); };
  const unsigned char lead = byte(*i);
  const int extra = lead >= 0xF0 ? 3 : lead >= 0xE0 ? 2 : lead >= 0xC0 ? 1 : -1;
  if (extra < 0 || *i + extra >= text.size()) {
    out->push_back('?');
    return;
  }
  unsigned code = lead & (0x3F >> extra);
  for (int k = 1; k <= extra; ++k) {
    if ((byte(*i + k) & 0xC0) != 0x80) {
      out->push_back('?');
      return;
    }
    code = (code << 6) | (byte(*i + k) & 0x3F);
  }
  char buf[16];
  std::snprintf(buf, sizeof buf, "\\[u%04X]", code);
  out->append(buf);
  *i += extra;
}

// Escapes plain TEXT for roff text lines: backslashes, hyphens (as \-, so
// that options can be copied), control characters at the start of a line,
// and anything that is not ASCII.
std::string roff(std::string_view text) {
  std::string out;
  bool line_start = true;
  for (std::size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (line_start && (c == '.' || c == '\'')) out += "\\&";
    line_start = false;
    if (c == '\\') {
      out += "\\e";
    } else if (c == '-') {
      out += "\\-";
    } else if (c == '\n') {
      out += '\n';
      line_start = true;
    } else if (static_cast<unsigned char>(c) >= 0x80) {
      append_non_ascii(text, &i, &out);
    } else {
      out += c;
    }
  }
  return out;
}

std::string bold(std::string_view text) { return "\\fB" + roff(text) + "\\fR"; }
std::string italic(std::string_view text) { return "\\fI" + roff(text) + "\\fR"; }

// One-line docs are written without a final period for --help.
std::string sentence(std::string_view text) {
  std::string s(text);
  if (!s.empty() && s.back() != '.' && s.back() != '!' && s.back() != '?') s += '.';
  return s;
}

std::string upper(std::string text) {
  for (char& c : text) {
    if (c >= 'a' && c <= 'z') c = static_cast<char>(c - 'a' + 'A');
  }
  return text;
}

std::string page_ref(const CommandDoc& cmd) { return bold(cmd.page_name()) + "(1)"; }

std::string option_names(const OptionDoc& opt) {
  std::string out;
  for (const std::string& s : opt.short_names) out += (out.empty() ? "" : ", ") + bold("-" + s);
  for (const std::string& l : opt.long_names) out += (out.empty() ? "" : ", ") + bold("--" + l);
  return out;
}

void section(std::string* page, std::string_view title) {
  page->append(title.find(' ') == std::string_view::npos ? ".SH " : ".SH \"")
      .append(title)
      .append(title.find(' ') == std::string_view::npos ? "\n" : "\"\n");
}

void paragraphs(std::string* page, const std::vector<std::string>& texts) {
  for (std::size_t i = 0; i < texts.size(); ++i) {
    if (i > 0) page->append(".PP\n");
    page->append(roff(texts[i])).append("\n");
  }
}

// "Connection" -> "connection options", for the synopsis.
std::string group_label(const std::string& group) {
  std::string label;
  for (char c : group) label += (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
  const std::string suffix = "options";
  if (label.size() < suffix.size() ||
      label.compare(label.size() - suffix.size(), suffix.size(), suffix) != 0) {
    label += " " + suffix;
  }
  return label;
}

// Options of the default group are shown one by one; optional ones from
// named groups (connection flags shared by many commands) as one
// "[connection options]" each, so the synopsis stays readable.
std::string synopsis(const CommandDoc& cmd) {
  std::string line = bold(cmd.display_name());
  std::vector<std::string> groups_shown;
  for (const OptionDoc& opt : cmd.options) {
    if (!opt.group.empty() && !opt.required && !opt.positional) {
      if (std::find(groups_shown.begin(), groups_shown.end(), opt.group) == groups_shown.end()) {
        groups_shown.push_back(opt.group);
        // Unbreakable spaces: the label must not be split across lines.
        std::string label = italic(group_label(opt.group));
        for (std::size_t at = label.find(' '); at != std::string::npos;
             at = label.find(' ', at + 2)) {
          label.replace(at, 1, "\\ ");
        }
        line += " [" + label + "]";
      }
      continue;
    }
    std::string item;
    if (opt.positional) {
      item = italic(opt.value_name) + (opt.repeatable ? "\\ .\\|.\\|." : "");
    } else {
      item = bold(opt.short_names.empty() ? "--" + opt.long_names.front()
                                          : "-" + opt.short_names.front());
      if (opt.takes_value()) item += "\\ " + italic(opt.value_name);
    }
    line += " " + (opt.required ? item : "[" + item + "]");
  }
  if (!cmd.children.empty()) {
    line += " " + italic("COMMAND") + " [" + italic("ARGS") + "\\ .\\|.\\|.]";
  }
  return line;
}

void option_entry(std::string* page, const OptionDoc& opt) {
  page->append(".TP\n");
  if (opt.positional) {
    page->append(italic(opt.value_name) + (opt.repeatable ? "\\ .\\|.\\|." : "") + "\n");
  } else {
    page->append(option_names(opt) + (opt.takes_value() ? " " + italic(opt.value_name) : "") +
                 "\n");
  }
  page->append(roff(sentence(opt.description)) + "\n");
  if (!opt.choices.empty()) {
    std::string list;
    for (const std::string& choice : opt.choices) list += (list.empty() ? "" : ", ") + bold(choice);
    page->append("One of " + list + ".\n");
  }
  if (!opt.env.empty()) page->append("Environment variable: " + bold(opt.env) + ".\n");
}

// OPTIONS: the default group, then the positionals, then each named group
// as a subsection, in the order the definitions first use them.
void options_section(std::string* page, const CommandDoc& cmd) {
  if (cmd.options.empty()) return;
  section(page, "OPTIONS");
  std::vector<std::string> groups;
  for (const OptionDoc& opt : cmd.options) {
    if (opt.group.empty() && !opt.positional) option_entry(page, opt);
  }
  for (const OptionDoc& opt : cmd.options) {
    if (opt.group.empty() && opt.positional) option_entry(page, opt);
    if (!opt.group.empty() && std::find(groups.begin(), groups.end(), opt.group) == groups.end()) {
      groups.push_back(opt.group);
    }
  }
  for (const std::string& group : groups) {
    page->append(".SS \"" + roff(group) + "\"\n");
    for (const OptionDoc& opt : cmd.options) {
      if (opt.group == group) option_entry(page, opt);
    }
  }
}

// ENVIRONMENT: the variables that give options their defaults, then those
// the command reads otherwise.
void environment_section(std::string* page, const CommandDoc& cmd) {
  std::string entries;
  for (const OptionDoc& opt : cmd.options) {
    if (opt.env.empty()) continue;
    const std::string name =
        opt.long_names.empty()
            ? opt.short_names.empty() ? opt.value_name : "-" + opt.short_names.front()
            : "--" + opt.long_names.front();
    entries += ".TP\n" + bold(opt.env) + "\nThe default for " + bold(name) + ".\n";
  }
  for (const EnvironmentDoc& var : cmd.environment) {
    entries += ".TP\n" + bold(var.name) + "\n" + roff(sentence(var.meaning)) + "\n";
  }
  if (entries.empty()) return;
  section(page, "ENVIRONMENT");
  page->append(entries);
}

void exit_status_section(std::string* page, const CommandDoc& cmd) {
  if (cmd.exit_status.empty()) return;
  section(page, "EXIT STATUS");
  if (cmd.exit_codes.empty()) {
    page->append(roff(sentence(cmd.exit_status))).append("\n");
    return;
  }
  // nokeep: in man's continuous rendering, kept rows get a stray blank line
  // where the page boundary would have been.
  page->append(".TS\ntab(@) nokeep;\nlB lx.\n");
  for (const ExitCodeDoc& code : cmd.exit_codes) {
    page->append(code.code).append("@T{\n").append(roff(code.meaning)).append("\nT}\n");
  }
  page->append(".TE\n");
}

// slip(1)'s JETSTREAM ERRORS: the table behind every JetStream error's exit
// status, as the code holds it (src/nats/js_errors.cc).
void jetstream_errors_section(std::string* page) {
  section(page, "JETSTREAM ERRORS");
  page->append(roff(std::string(nats::js_error_fallback_rule()))).append("\n");
  page->append(".TS\ntab(@) nokeep;\nlB l lx.\n");
  for (const nats::JsErrorRule& rule : nats::js_error_rules()) {
    page->append(std::to_string(rule.err_code))
        .append("@")
        .append(std::to_string(nats::js_error_exit_code(rule.cls)))
        .append("@T{\n")
        .append(roff(std::string(rule.meaning)))
        .append("\nT}\n");
  }
  page->append(".TE\n");
}

// Man page names mentioned in TEXT, like "slip-snapshot(5)".
void find_references(const std::string& text, std::set<std::pair<char, std::string>>* refs) {
  static const std::regex kRef(R"(([a-z][a-z0-9_.-]*)\(([1-9])\))");
  for (auto it = std::sregex_iterator(text.begin(), text.end(), kRef); it != std::sregex_iterator();
       ++it) {
    refs->insert({(*it)[2].str()[0], (*it)[1].str()});
  }
}

// SEE ALSO: the pages above and below CMD in the tree, and every page that
// their long help mentions.
std::string see_also(const CommandDoc& cmd, const std::vector<const CommandDoc*>& ancestors) {
  std::set<std::pair<char, std::string>> refs;  // (section, name): sorted as man(7) asks
  for (const CommandDoc* up : ancestors) {
    refs.insert({'1', up->page_name()});
    for (const std::string& text : up->paragraphs) find_references(text, &refs);
  }
  for (const CommandDoc* down : all_commands(cmd)) {
    refs.insert({'1', down->page_name()});
    for (const std::string& text : down->paragraphs) find_references(text, &refs);
  }
  refs.erase({'1', cmd.page_name()});
  std::string out;
  for (const auto& [sect, name] : refs) {
    if (!out.empty()) out += ",\n";
    out += bold(name) + "(" + sect + ")";
  }
  return out.empty() ? out : out + "\n";
}

std::string man_page(const CommandDoc& cmd, const std::vector<const CommandDoc*>& ancestors,
                     std::string_view version) {
  std::string page;
  page += "'\\\" t\n";  // tells man(1) to run tbl
  page += ".\\\" Generated by 'slip generate man' from the command definitions.\n";
  page += ".\\\" Do not edit; run scripts/generate-docs.\n";
  // No date: the same definitions must give the same bytes.
  page += ".TH \"" + roff(upper(cmd.page_name())) + "\" \"1\" \"\" \"slip " + roff(version) +
          "\" \"User Commands\"\n";
  // Page names and options must not be hyphenated or stretched at a line end.
  page += ".nh\n.ad l\n";

  section(&page, "NAME");
  page += roff(cmd.page_name()) + " \\- " + roff(cmd.summary) + "\n";

  section(&page, "SYNOPSIS");
  page += synopsis(cmd) + "\n";

  section(&page, "DESCRIPTION");
  if (cmd.is_root()) {
    page += bold(cmd.display_name()) + " is " + roff(sentence(cmd.summary)) + "\n";
    page += "Each command has its own page, listed under COMMANDS; " + bold(cmd.display_name()) +
            " " + italic("COMMAND") + " " + bold("--help") + " prints a summary of its options.\n";
    if (!cmd.paragraphs.empty()) page += ".PP\n";
  } else if (cmd.paragraphs.empty()) {
    page += roff(sentence(cmd.summary)) + "\n";
  }
  paragraphs(&page, cmd.paragraphs);

  if (!cmd.children.empty()) {
    section(&page, "COMMANDS");
    for (const CommandDoc* sub : all_commands(cmd)) {
      if (sub == &cmd) continue;
      page += ".TP\n" + bold(sub->display_name()) + "\n";
      page += roff(sentence(sub->summary));
      for (const std::string& alias : sub->aliases) page += "\nAlso " + bold(alias) + ".";
      page += "\nSee " + page_ref(*sub) + ".\n";
    }
  }

  options_section(&page, cmd);
  environment_section(&page, cmd);

  if (cmd.is_root()) {
    section(&page, "JSON OUTPUT");
    page += roff(kJsonOutput) + "\n";
  }

  exit_status_section(&page, cmd);
  if (cmd.is_root()) jetstream_errors_section(&page);

  const std::string refs = see_also(cmd, ancestors);
  if (!refs.empty()) {
    section(&page, "SEE ALSO");
    page += refs;
  }
  return page;
}

void add_pages(const CommandDoc& cmd, std::vector<const CommandDoc*>* ancestors,
               std::string_view version, std::vector<GeneratedFile>* out) {
  out->push_back({cmd.page_name() + ".1", man_page(cmd, *ancestors, version)});
  ancestors->push_back(&cmd);
  for (const CommandDoc& child : cmd.children) add_pages(child, ancestors, version, out);
  ancestors->pop_back();
}

}  // namespace

std::vector<GeneratedFile> generate_man_pages(const CommandDoc& root, std::string_view version) {
  std::vector<GeneratedFile> pages;
  std::vector<const CommandDoc*> ancestors;
  add_pages(root, &ancestors, version, &pages);
  return pages;
}

}  // namespace slip::cli
