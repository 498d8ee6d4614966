#include "support/metrics.h"

#include <regex>
#include <sstream>

#include "support/background.h"
#include "support/files.h"
#include "support/nats_server.h"

namespace slip::test {

double metric_value(const std::string& page, const std::string& metric) {
  std::istringstream in(page);
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind(metric + "{", 0) == 0) return std::stod(line.substr(line.rfind(' ') + 1));
  }
  return -1;
}

int metrics_port(const std::string& err_path, std::chrono::milliseconds timeout) {
  static const std::regex kLine("metrics at http://127.0.0.1:([0-9]+)/metrics");
  int port = 0;
  wait_until(
      [&] {
        std::smatch m;
        const std::string err = read_file(err_path);
        if (!std::regex_search(err, m, kLine)) return false;
        port = std::stoi(m[1]);
        return true;
      },
      timeout);
  return port;
}

double metric_now(int port, const std::string& metric) {
  auto r = http_get(port, "/metrics");
  return r.status == 200 ? metric_value(r.body, metric) : -1;
}

}  // namespace slip::test
