// The progress bar's frames: what an operator sees on a terminal.
#include <doctest/doctest.h>

#include <cstdio>

#include "progress.h"

using slip::cli::ProgressBar;

TEST_CASE("progress: a frame shows the bar, amounts, rate and ETA") {
  const std::string half =
      ProgressBar::render("upload", ProgressBar::Unit::kBytes, 5'000'000, 10'000'000, 2.5);
  CHECK(half == "upload  [############            ]  5.0 MB / 10.0 MB  2.0 MB/s  ETA 2s");
  const std::string done = ProgressBar::render("restore", ProgressBar::Unit::kItems, 300, 300, 3.0);
  CHECK(done == "restore  [########################]  300 / 300  100/s");
  // Unknown total: no bar, no ETA.
  CHECK(ProgressBar::render("download", ProgressBar::Unit::kBytes, 1500, 0, 0) ==
        "download  1.5 kB");
}

TEST_CASE("progress: nothing is drawn when disabled (not a terminal)") {
  std::FILE* f = std::tmpfile();
  REQUIRE(f != nullptr);
  {
    ProgressBar bar("upload", ProgressBar::Unit::kBytes, /*enabled=*/false, f);
    bar.update(1, 2);
    bar.update(2, 2);
  }
  CHECK(std::ftell(f) == 0);
  {
    ProgressBar bar("upload", ProgressBar::Unit::kBytes, /*enabled=*/true, f);
    bar.update(1, 2);
  }
  CHECK(std::ftell(f) > 0);
  std::fclose(f);
}
