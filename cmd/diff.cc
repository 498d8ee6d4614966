#include "diff.h"

#include <sys/stat.h>
#include <filesystem>

#include <nlohmann/json.hpp>

#include <map>
#include <memory>
#include <thread>
#include <utility>

#include "core/text.h"
#include "export.h"
#include "fs/temp_path.h"
#include "json_fields.h"
#include "signals.h"
#include "slip/artifact.h"
#include "slip/diff.h"
#include "slip/fold.h"

namespace slip::cli {

void register_diff(CLI::App& parent, Registry& registry) {
  auto o = std::make_shared<DiffOptions>();
  CLI::App* app =
      parent.add_subcommand("diff", "Compare two folds, snapshot files or live buckets key by key");
  app->add_option("A", o->a,
                  "The old side: a snapshot file, a LevelDB fold, kv:BUCKET or an export location")
      ->required()
      ->type_name("SOURCE");
  app->add_option("B", o->b, "The new side, the same kinds as A")->required()->type_name("SOURCE");
  app->add_option("--prefix", o->prefixes,
                  "Only keys starting with P, on both sides (repeatable)")
      ->allow_extra_args(false)  // one P per --prefix: the sources may follow it
      ->type_name("P");
  app->add_flag("--ignore-revisions", o->ignore_revisions,
                "Compare values only (a restored bucket has new revisions)");
  app->add_flag("--values", o->values, "Print the values of each difference");
  app->add_flag("--json", o->json, "One JSON object per difference (see below)");
  app->add_flag("--stat", o->stat, "Print only the counts and both sides' cursors")
      ->excludes("--values");
  app->add_option("--bucket", o->bucket,
                  "For a location source: whose exports (default: the only bucket there)")
      ->type_name("BUCKET");
  app->add_option("--artifact", o->artifact,
                  "For a location source: this artifact instead of the one the pointer names")
      ->type_name("ID");
  add_location_flags(app, o->loc);
  add_connection_flags(app, o->conn);
  set_long_help(
      app,
      "Compares two states of a bucket and prints every key that differs, in bytewise key "
      "order: keys only in A (removed), keys only in B (added), and keys in both whose entries "
      "differ. Each SOURCE is one of: a snapshot file (a PGSS v2 log, such as a log fold); a "
      "LevelDB fold directory; or kv:BUCKET, the live bucket on the server named by the "
      "connection flags; or an export location (file:///dir, s3://bucket/prefix: see "
      "slip-artifact(5)), meaning the artifact its pointer names, or --artifact ID (of --bucket "
      "when the location holds several buckets' exports). An artifact is downloaded into $TMPDIR "
      "and verified (both hashes and the snapshot) before it is compared. A path that starts "
      "with 'kv:' is written ./kv:... .\n\n"
      "A key in both is compared by revision first: equal revisions with equal value sizes are "
      "the same entry (a revision names one write to the bucket), and no value is read. When the "
      "revisions differ the values are compared: different values are a 'changed' key, the same "
      "value at another revision a 'revision' change. --ignore-revisions compares values only "
      "and reports changed values alone. --prefix narrows both sides to keys starting with P "
      "(a plain byte prefix; repeat it for several), for example to compare a fold mirrored "
      "with --prefix against its bucket.\n\n"
      "Memory: a canonical snapshot file (what 'slip snapshot compact' writes) and a LevelDB "
      "fold are streamed, keeping no keys or values. Any other snapshot file is indexed first "
      "(the keys of its records in memory, values read back from the file only when compared or "
      "printed). "
      "A live bucket's keys are listed in one headers-only pass and sorted in memory; values are "
      "fetched one get per key where a comparison needs them (with --ignore-revisions, all of "
      "them in the listing pass). A snapshot file is checked whole before anything is printed; "
      "a LevelDB fold is opened read-only but, as LevelDB admits one process at a time, not while "
      "a mirror is writing it.\n\n"
      "Text output: one line per difference: '+ KEY' (added), '- KEY' (removed), '~ KEY  rev 12 -> "
      "40' "
      "(changed; A's revision, then B's) and '~ KEY  rev 12 -> 40  (same value)' (revision "
      "only). A key or value that is not printable UTF-8 (control characters, invalid UTF-8, a "
      "leading quote, leading or trailing spaces) is printed double-quoted with C escapes: "
      "\"a\\x00b\". With --values, each difference is followed by '  < VALUE' (A's) and/or "
      "'  > VALUE' (B's). --stat prints instead one line per side ('a: SOURCE  N keys  cursor "
      "C') and the counts of added, removed, changed, revision-only and unchanged keys.\n\n"
      "JSON output: --json prints one object per line for each difference, in key order: "
      "{\"change\": \"added\" | "
      "\"removed\" | \"changed\" | \"revision\", \"key\": KEY, \"a\": SIDE, \"b\": SIDE}. KEY is "
      "\"key\" when it is valid UTF-8, else \"key_b64\" (base64). SIDE is null on the side that "
      "lacks the key, else {\"revision\": R}, plus \"value\" (valid UTF-8) or \"value_b64\" with "
      "--values. R is the revision number for 8-byte (NATS) versions and lowercase hex for "
      "others. --stat --json prints one object: {\"a\": {\"source\": S, \"keys\": N, "
      "\"cursor\": R or null}, \"b\": {...}, \"added\": N, \"removed\": N, \"changed\": N, "
      "\"revision\": N, \"unchanged\": N}; keys counts the keys in scope.\n\n"
      "EXIT STATUS\n"
      "As diff(1): 0 the sides are identical; 1 they differ; 2 bad arguments, a missing path, a "
      "missing bucket, or an unsupported source; 3 damaged input (a corrupted, invalid or "
      "torn snapshot file, a damaged fold); 4 unavailable (server unreachable, the fold is in "
      "use by a mirror, a read failed, or the bucket changed while being read); 130 "
      "interrupted.\n\n" +
          location_environment_help());
  registry.set_runner(app, [o](Context& ctx) { return run_diff(*o, ctx); });
}

namespace {

constexpr std::string_view kBucketScheme = "kv:";

// "scheme://" at the start of ARG: a location URL.
std::optional<std::string> url_scheme(const std::string& arg) {
  const std::size_t end = arg.find("://");
  if (end == std::string::npos || end == 0) return std::nullopt;
  for (std::size_t i = 0; i < end; ++i) {
    const char c = arg[i];
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                    (i > 0 && ((c >= '0' && c <= '9') || c == '+' || c == '-' || c == '.'));
    if (!ok) return std::nullopt;
  }
  return arg.substr(0, end);
}

bool is_bucket(const std::string& arg) { return arg.rfind(kBucketScheme, 0) == 0; }

// Opens the sources of one run; keeps what they borrow alive.
class Sources {
 public:
  explicit Sources(const DiffOptions& o) : o_(o) { scope_.prefixes = o.prefixes; }

  Result<std::unique_ptr<diff::Source>> open(const std::string& arg) {
    if (is_bucket(arg)) return open_bucket(arg.substr(kBucketScheme.size()));
    if (url_scheme(arg)) return open_artifact(arg);
    auto backend = fold::detect_backend(arg);
    if (!backend) return backend.status();
    if (!*backend) {
      return Status::invalid_argument(arg +
                                      ": no such file or directory (a SOURCE is a snapshot "
                                      "file, a LevelDB fold directory or kv:BUCKET)");
    }
    if (**backend == "log") return diff::open_snapshot_file(arg, scope_);
    return open_fold(arg);
  }

  // True for a path to a regular file. Opening one touches no shared
  // state, so two can be opened at once.
  static bool is_snapshot_file(const std::string& arg) {
    if (is_bucket(arg) || url_scheme(arg)) return false;
    auto backend = fold::detect_backend(arg);
    return backend && *backend && **backend == "log";
  }

 private:
  Result<std::unique_ptr<diff::Source>> open_bucket(const std::string& name) {
    SLIP_RETURN_IF_ERROR(kv::validate_bucket_name(name));
    for (const std::string& p : o_.prefixes) SLIP_RETURN_IF_ERROR(kv::validate_prefix(p));
    if (!client_) {
      auto client = connect_from_flags(o_.conn);
      if (!client) return client.status();
      client_ = std::move(*client);
    }
    auto bucket = client_->open_bucket(name);
    if (!bucket) {
      // A missing bucket is a bad argument here, not a negative answer.
      if (bucket.status().kind() == StatusKind::kNotFound)
        return Status::invalid_argument(bucket.status().message());
      return bucket.status();
    }
    buckets_.push_back(std::move(*bucket));
    return diff::open_bucket(*buckets_.back(), scope_, o_.ignore_revisions);
  }

  // An exported artifact: downloaded and verified (both hashes, the
  // snapshot itself) into a scratch file, then read as a canonical
  // snapshot file. A damaged artifact is kCorruption (exit 3).
  Result<std::unique_ptr<diff::Source>> open_artifact(const std::string& url) {
    auto source = open_artifact_checked(url);
    // A missing artifact is a bad argument here: exit 1 means differences.
    if (!source && source.status().kind() == StatusKind::kNotFound)
      return Status::invalid_argument(source.status().message());
    return source;
  }

  Result<std::unique_ptr<diff::Source>> open_artifact_checked(const std::string& url) {
    auto loc = open_location_from_flags(url, o_.loc);
    if (!loc) return loc.status();
    auto manifest = resolve_manifest(**loc, o_.bucket, o_.artifact);
    if (!manifest) return manifest.status();
    if (!scratch_) scratch_ = std::make_unique<ScratchDir>();
    SLIP_RETURN_IF_ERROR(scratch_->status);
    const std::string path =
        scratch_->path + "/artifact-" + std::to_string(scratch_->files++) + ".snap";
    SLIP_RETURN_IF_ERROR(artifact::fetch_verified(**loc, *manifest, path, {}));
    return diff::open_snapshot_file(path, scope_);
  }

  // Comparing a fold with itself opens it once: LevelDB admits one opener.
  Result<std::unique_ptr<diff::Source>> open_fold(const std::string& path) {
    struct stat st;
    if (::stat(path.c_str(), &st) != 0) return Status::from_errno(errno, "stat " + path);
    const std::pair<dev_t, ino_t> id{st.st_dev, st.st_ino};
    auto it = folds_.find(id);
    if (it == folds_.end()) {
      fold::Options options;
      options.read_only = true;
      auto store = fold::open_leveldb(path, options);
      if (!store) return store.status();
      it = folds_.emplace(id, std::shared_ptr<fold::Store>(std::move(*store))).first;
    }
    return diff::fold_source(it->second, scope_);
  }

  const DiffOptions& o_;
  kv::Scope scope_;
  std::unique_ptr<kv::Client> client_;
  std::vector<std::unique_ptr<kv::Bucket>> buckets_;
  std::map<std::pair<dev_t, ino_t>, std::shared_ptr<fold::Store>> folds_;

  // Where downloaded artifacts live while the diff runs.
  struct ScratchDir {
    std::string path;
    Status status;
    int files = 0;
    fs::TempPath removal;  // of path, once created
    ScratchDir() {
      std::error_code ec;
      std::string base = std::filesystem::temp_directory_path(ec).string();
      if (ec) base = "/tmp";
      path = base + "/slip-diff.XXXXXX";
      if (::mkdtemp(path.data()) == nullptr) {
        status = Status::from_errno(errno, "create a scratch directory in " + base);
      } else {
        removal = fs::TempPath(path);
      }
    }
  };
  std::unique_ptr<ScratchDir> scratch_;
};

bool is_control(unsigned char c) { return c < 0x20 || c == 0x7f; }

std::size_t utf8_length(unsigned char lead) {
  if (lead < 0x80) return 1;
  if ((lead & 0xe0) == 0xc0) return 2;
  if ((lead & 0xf0) == 0xe0) return 3;
  if ((lead & 0xf8) == 0xf0) return 4;
  return 0;
}

void append_hex_escape(std::string* out, unsigned char c) {
  static const char kHex[] = "0123456789abcdef";
  out->append("\\x");
  out->push_back(kHex[c >> 4]);
  out->push_back(kHex[c & 0xf]);
}

void append_side_json(std::string* line, const char* name, const std::optional<diff::Side>& side) {
  line->append(",\"").append(name).append("\":");
  if (!side) {
    line->append("null");
    return;
  }
  line->push_back('{');
  std::size_t mark = line->size();
  append_version_field(line, "revision", side->version);
  line->erase(mark, 1);  // the leading comma
  if (side->value) append_value_field(line, *side->value);
  line->push_back('}');
}

void append_difference_json(std::string* line, const diff::Difference& d) {
  line->append("{\"change\":\"").append(diff::change_name(d.change)).push_back('"');
  if (is_valid_utf8(d.key)) {
    line->append(",\"key\":");
    append_json_string(line, d.key);
  } else {
    line->append(",\"key_b64\":\"").append(to_base64(d.key)).push_back('"');
  }
  append_side_json(line, "a", d.a);
  append_side_json(line, "b", d.b);
  line->append("}\n");
}

std::string revision_text(const VersionToken& v) { return v.empty() ? "-" : v.display(); }

void append_difference_text(std::string* line, const diff::Difference& d) {
  switch (d.change) {
    case diff::Change::kAdded: line->append("+ "); break;
    case diff::Change::kRemoved: line->append("- "); break;
    case diff::Change::kChanged:
    case diff::Change::kRevision: line->append("~ "); break;
  }
  line->append(display_text(d.key));
  if (d.a && d.b) {
    line->append("  rev ")
        .append(revision_text(d.a->version))
        .append(" -> ")
        .append(revision_text(d.b->version));
    if (d.change == diff::Change::kRevision) line->append("  (same value)");
  }
  line->push_back('\n');
  if (d.a && d.a->value) line->append("  < ").append(display_text(*d.a->value)).push_back('\n');
  if (d.b && d.b->value) line->append("  > ").append(display_text(*d.b->value)).push_back('\n');
}

nlohmann::json cursor_json(const std::optional<VersionToken>& cursor) {
  return version_json(cursor);
}

Status print_stat(const DiffOptions& o, const diff::Stats& s, const diff::Source& a,
                  const diff::Source& b, Context& ctx) {
  if (o.json) {
    nlohmann::json j{
        {"a", {{"source", o.a}, {"keys", s.keys_a}, {"cursor", cursor_json(a.cursor())}}},
        {"b", {{"source", o.b}, {"keys", s.keys_b}, {"cursor", cursor_json(b.cursor())}}},
        {"added", s.added},
        {"removed", s.removed},
        {"changed", s.changed},
        {"revision", s.revision},
        {"unchanged", s.unchanged}};
    return ctx.out.line(j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
  }
  auto side = [](const char* name, const std::string& source, std::uint64_t keys,
                 const std::optional<VersionToken>& cursor) {
    return std::string(name) + ": " + display_text(source) + "  " + std::to_string(keys) +
           " keys  cursor " + (cursor ? revision_text(*cursor) : std::string("none")) + "\n";
  };
  return ctx.out.write(side("a", o.a, s.keys_a, a.cursor()) + side("b", o.b, s.keys_b, b.cursor()) +
                       std::to_string(s.added) + " added, " + std::to_string(s.removed) +
                       " removed, " + std::to_string(s.changed) + " changed, " +
                       std::to_string(s.revision) + " revision only, " +
                       std::to_string(s.unchanged) + " unchanged\n");
}

}  // namespace

std::string display_text(std::string_view text) {
  bool plain = !text.empty() && text.front() != '"' && text.front() != ' ' && text.back() != ' ' &&
               is_valid_utf8(text);
  for (std::size_t i = 0; plain && i < text.size(); ++i) {
    const auto c = static_cast<unsigned char>(text[i]);
    // C1 controls are U+0080..U+009F: 0xc2 0x80..0x9f in UTF-8.
    if (is_control(c) ||
        (c == 0xc2 && i + 1 < text.size() && static_cast<unsigned char>(text[i + 1]) < 0xa0)) {
      plain = false;
    }
  }
  if (plain) return std::string(text);
  std::string out = "\"";
  for (std::size_t i = 0; i < text.size();) {
    const auto c = static_cast<unsigned char>(text[i]);
    const std::size_t n = utf8_length(c);
    if (n > 1 && i + n <= text.size() && is_valid_utf8(text.substr(i, n)) &&
        !(c == 0xc2 && static_cast<unsigned char>(text[i + 1]) < 0xa0)) {
      out.append(text.substr(i, n));
      i += n;
      continue;
    }
    switch (c) {
      case '"': out.append("\\\""); break;
      case '\\': out.append("\\\\"); break;
      case '\n': out.append("\\n"); break;
      case '\r': out.append("\\r"); break;
      case '\t': out.append("\\t"); break;
      default:
        if (c < 0x80 && !is_control(c)) {
          out.push_back(static_cast<char>(c));
        } else {
          append_hex_escape(&out, c);
        }
    }
    ++i;
  }
  out.push_back('"');
  return out;
}

namespace {

// Output a first, single-pass attempt may hold back: beyond it, the diff
// starts over with the files checked first and output flowing at once.
constexpr std::size_t kHeldOutputLimit = 16u << 20;

void append_difference(const DiffOptions& o, std::string* out, const diff::Difference& d) {
  if (o.stat) return;
  if (o.json) {
    append_difference_json(out, d);
  } else {
    append_difference_text(out, d);
  }
}

Status finish(const DiffOptions& o, const diff::Stats& stats, const diff::Source& a,
              const diff::Source& b, Context& ctx) {
  if (o.stat) SLIP_RETURN_IF_ERROR(print_stat(o, stats, a, b, ctx));
  // Differences are exit 1 with nothing more to say on standard error.
  return stats.differences() == 0 ? Status::ok() : Status::check_failed("");
}

// Two snapshot files, each read once: streamed as if canonical, with the
// output held back. Returns nullopt when the caller must start over the
// checked way (a file is not canonical or is empty, or the output outgrew
// the limit). Damage found part way ends the diff with nothing printed.
std::optional<Status> diff_files_in_one_pass(const DiffOptions& o, const diff::Options& options,
                                             Context& ctx) {
  const kv::Scope scope{o.prefixes};
  auto fallback = [](const Status& s) -> std::optional<Status> {
    if (s.kind() == StatusKind::kNotSupported) return std::nullopt;
    return s;
  };
  auto a = diff::stream_snapshot_file(o.a, scope);
  if (!a) return fallback(a.status());
  auto b = diff::stream_snapshot_file(o.b, scope);
  if (!b) return fallback(b.status());
  std::string held;
  auto stats = diff::compare(**a, **b, options, [&](const diff::Difference& d) {
    append_difference(o, &held, d);
    if (held.size() > kHeldOutputLimit) return Status::not_supported("too much output to hold");
    return Status::ok();
  });
  if (!stats) return fallback(stats.status());
  SLIP_RETURN_IF_ERROR(ctx.out.write(held));
  return finish(o, *stats, **a, **b, ctx);
}

}  // namespace

Status run_diff(const DiffOptions& o, Context& ctx) {
  install_abort_signals();  // an artifact is downloaded into a scratch directory
  for (const std::string& p : o.prefixes) {
    if (p.empty()) return Status::invalid_argument("--prefix: an empty prefix (omit the flag)");
  }
  diff::Options options;
  options.ignore_revisions = o.ignore_revisions;
  options.values = o.values;

  Sources sources(o);
  const bool files = sources.is_snapshot_file(o.a) && sources.is_snapshot_file(o.b);
  if (files) {
    if (auto done = diff_files_in_one_pass(o, options, ctx)) return *done;
  }
  std::optional<Result<std::unique_ptr<diff::Source>>> a, b;
  if (files) {
    // Each file is read whole before its first entry: check both at once.
    std::thread first([&] { a.emplace(sources.open(o.a)); });
    b.emplace(sources.open(o.b));
    first.join();
  } else {
    a.emplace(sources.open(o.a));
    if (*a) b.emplace(sources.open(o.b));
  }
  if (!*a) return a->status();
  if (!*b) return b->status();

  std::string& out = ctx.out.buffer();
  auto stats = diff::compare(***a, ***b, options, [&](const diff::Difference& d) {
    append_difference(o, &out, d);
    return ctx.out.maybe_flush();
  });
  if (!stats) return stats.status();
  return finish(o, *stats, ***a, ***b, ctx);
}

}  // namespace slip::cli
