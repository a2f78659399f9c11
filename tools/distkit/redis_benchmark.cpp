#include "redis_benchmark.hpp"

#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <limits>
#include <optional>
#include <sstream>
#include <stdexcept>

#include "child_process.hpp"

namespace distkit::tools {
namespace {

// Everything written to `fd` until end of file; closes it.
std::string read_to_end(int fd) {
  std::string out;
  char buffer[4096];
  for (;;) {
    const ssize_t n = read(fd, buffer, sizeof buffer);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    out.append(buffer, static_cast<std::size_t>(n));
  }
  close(fd);
  return out;
}

// The fields of one CSV line; fields may be quoted, with "" for a quote.
std::vector<std::string> csv_fields(const std::string& line) {
  std::vector<std::string> fields(1);
  bool quoted = false;
  for (std::size_t i = 0; i < line.size(); ++i) {
    const char c = line[i];
    if (quoted && c == '"' && i + 1 < line.size() && line[i + 1] == '"') {
      fields.back() += '"';
      ++i;
    } else if (c == '"') {
      quoted = !quoted;
    } else if (c == ',' && !quoted) {
      fields.emplace_back();
    } else if (c != '\r') {
      fields.back() += c;
    }
  }
  return fields;
}

}  // namespace

double requests_per_second_from_csv(const std::string& csv) {
  std::istringstream lines(csv);
  std::optional<std::size_t> rps_column;
  for (std::string line; std::getline(lines, line);) {
    const std::vector<std::string> fields = csv_fields(line);
    if (!rps_column) {
      const auto rps = std::find(fields.begin(), fields.end(), "rps");
      if (rps != fields.end()) rps_column = static_cast<std::size_t>(rps - fields.begin());
    } else if (*rps_column < fields.size()) {
      try {
        return std::stod(fields[*rps_column]);
      } catch (const std::logic_error&) {
        return std::numeric_limits<double>::quiet_NaN();
      }
    }
  }
  return std::numeric_limits<double>::quiet_NaN();
}

double redis_benchmark_requests_per_second(const RedisEndpoint& endpoint, int pipeline_depth,
                                           int requests, const std::vector<std::string>& command) {
  std::vector<std::string> argv{"redis-benchmark"};
  const auto connection = endpoint.command_line_options();
  argv.insert(argv.end(), connection.begin(), connection.end());
  argv.insert(argv.end(), {"-c", "1", "-P", std::to_string(pipeline_depth), "-n",
                           std::to_string(requests), "--csv"});
  argv.insert(argv.end(), command.begin(), command.end());
  // Its stderr is the user's: an error message from it shows where it belongs.
  const ChildProcess child = spawn(argv, ChildOutput::pipe, {}, ChildLifetime::ends_with_caller);
  std::string output = read_to_end(child.output);
  const int exit_code = wait_for_exit(child.pid);
  const double rps = requests_per_second_from_csv(output);
  if (exit_code != 0 || !std::isfinite(rps) || rps <= 0) {
    std::replace(output.begin(), output.end(), '\n', ' ');
    throw std::runtime_error("redis-benchmark failed (exit code " + std::to_string(exit_code) +
                             (exit_code == 127 ? ", is it installed?" : "") + "): " + output);
  }
  return rps;
}

}  // namespace distkit::tools
