#include "throughput_chart.hpp"

#include <system_error>

#include "child_process.hpp"

namespace distkit::tools {

std::string throughput_chart_script(const std::vector<BenchResult>& results) {
  // Inline data block: callers, distkit ops/s, redis-benchmark ops/s.
  std::string script = "$throughput << EOD\n";
  for (const BenchResult& row : results) {
    if (row.concurrent_callers <= 0) continue;
    script += std::to_string(row.concurrent_callers) + " " + std::to_string(row.distkit) + " " +
              std::to_string(row.baseline.value_or(0)) + "\n";
  }
  script += "EOD\n";
  script +=
      // noenhanced: "async_inc" is a name, not a subscript.
      "set terminal pngcairo size 900,540 font 'sans,11' noenhanced\n"
      "set output '" +
      std::string(throughput_chart_file) +
      "'\n"
      "set title 'StrictCounter inc on one connection: throughput against concurrency'\n"
      "set xlabel 'concurrent callers (redis-benchmark: pipeline depth -P)'\n"
      "set ylabel 'ops/s'\n"
      "set logscale x 2\n"
      "set format y '%.0f'\n"
      "set yrange [0:*]\n"
      "set grid\n"
      "set key left top\n"
      "plot $throughput using 1:2 with linespoints lw 2 pt 7 title 'distkit StrictCounter "
      "(async_inc in flight)', \\\n"
      "     $throughput using 1:3 with linespoints lw 2 pt 5 title 'redis-benchmark -c 1 -P N "
      "(EVALSHA)'\n";
  return script;
}

std::string run_gnuplot(const std::string& directory) {
  try {
    const int exit_code = wait_for_exit(
        spawn({"gnuplot", throughput_chart_script_file}, ChildOutput::discard, directory).pid);
    if (exit_code == 0) return "";
    return "gnuplot exited with " + std::to_string(exit_code) +
           (exit_code == 127 ? " (is it installed?)" : "");
  } catch (const std::system_error& e) {
    return e.what();
  }
}

}  // namespace distkit::tools
