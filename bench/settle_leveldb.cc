// settle_leveldb DIR: a full manual compaction (CompactRange) of the
// LevelDB database at DIR. A freshly imported fold is still compacting
// (about one CPU-second per million keys), and every process that opens it
// resumes that work: the export benchmark compacts its LevelDB fold first
// so that it measures the export, not LevelDB catching up. A full
// compaction leaves the fold tidier than background compaction would: the
// benchmark's LevelDB row is a best case.
#include <leveldb/db.h>

#include <cstdio>
#include <memory>

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: settle_leveldb DIR\n");
    return 2;
  }
  leveldb::DB* raw = nullptr;
  leveldb::Status s = leveldb::DB::Open(leveldb::Options(), argv[1], &raw);
  if (!s.ok()) {
    std::fprintf(stderr, "settle_leveldb: %s\n", s.ToString().c_str());
    return 1;
  }
  std::unique_ptr<leveldb::DB> db(raw);
  db->CompactRange(nullptr, nullptr);
  return 0;
}
