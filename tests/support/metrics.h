// Test helpers for `slip mirror --metrics`: finding the port it bound and
// reading values off its Prometheus text page.
#pragma once

#include <chrono>
#include <string>

namespace slip::test {

// The value of METRIC{bucket="..."} in a Prometheus text page, or -1.
double metric_value(const std::string& page, const std::string& metric);

// The port of "metrics at http://127.0.0.1:PORT/metrics" once the mirror
// has written that line to ERR_PATH (its stderr); 0 when it does not
// within TIMEOUT.
int metrics_port(const std::string& err_path, std::chrono::milliseconds timeout);

// METRIC read from 127.0.0.1:PORT/metrics now; -1 when there is no page.
double metric_now(int port, const std::string& metric);

}  // namespace slip::test
