#include "bench.hpp"

#include <unistd.h>

#include <CLI/CLI.hpp>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <memory>

#include "bench_measurements.hpp"
#include "bench_report.hpp"
#include "command_inputs.hpp"
#include "exit_codes.hpp"
#include "json.hpp"
#include "redis_target.hpp"
#include "status_line.hpp"
#include "throughput_chart.hpp"

namespace distkit::tools {
namespace {

struct BenchOptions {
  bool quick = false;
  std::string only;
  std::string out_dir = "bench-results";
};

void write_file(const std::filesystem::path& path, const std::string& content) {
  std::ofstream file(path);
  file << content;
  if (!file.flush()) throw std::runtime_error("cannot write " + path.string());
}

// The --out directory, created and checked before anything is measured, so a
// typo costs no run. Absolute, so that messages name it unambiguously.
std::filesystem::path prepare_out_dir(const std::string& out_option) {
  const auto fail = [&](const std::string& why) -> std::filesystem::path {
    throw ToolError(exit_usage, "--out " + quoted_bytes(out_option) + ": " + why);
  };
  if (out_option.empty()) return fail("the directory name is empty");
  const std::filesystem::path out_dir = std::filesystem::absolute(out_option);
  std::error_code error;
  std::filesystem::create_directories(out_dir, error);
  if (error) return fail("cannot create the directory: " + error.message());
  if (!std::filesystem::is_directory(out_dir)) return fail("exists and is not a directory");
  if (access(out_dir.c_str(), W_OK | X_OK) != 0) return fail("the directory is not writable");
  return out_dir;
}

int run_bench(const GlobalOptions& global, const BenchOptions& options) {
  const std::string prefix_suffix = "_bench_" + std::to_string(getpid());
  prefix_option(global.prefix, prefix_suffix);
  const std::filesystem::path out_dir = prepare_out_dir(options.out_dir);
  // Before the first thread starts, and before anything it would have to
  // clean up.
  clean_up_when_interrupted();
  const RedisTarget target(global, LocalListeners::plain_and_tls);
  // Like the TLS rows, the cluster row needs servers of the bench's own.
  std::unique_ptr<LocalRedisCluster> cluster;
  if (configured_url(global.url).empty() && bench_step_selected(cluster_step_name, options.only)) {
    cluster = std::make_unique<LocalRedisCluster>();
  }
  std::cerr << "distkit bench" << (options.quick ? " --quick" : "") << " on "
            << target.description() << '\n';
  std::vector<BenchResult> results;
  {
    StatusLine status;
    results = run_bench_measurements(
        {target.url(), global.prefix + prefix_suffix, target.private_tls_options(), cluster.get()},
        BenchSizes::for_run(options.quick), options.only,
        [&status](int done, int total, const std::string& running) {
          status.show(progress_bar(done, total) + " " + running);
        });
  }

  const std::filesystem::path csv_path = out_dir / "bench.csv";
  const std::filesystem::path chart_path = out_dir / throughput_chart_file;
  const std::filesystem::path chart_script_path = out_dir / throughput_chart_script_file;
  write_file(csv_path, bench_csv(results));
  write_file(chart_script_path, throughput_chart_script(results));
  const std::string chart_failure = run_gnuplot(out_dir.string());

  int met = 0, with_target = 0;
  for (const BenchResult& result : results) {
    if (const auto target_met = result.target_met()) {
      ++with_target;
      met += *target_met ? 1 : 0;
    }
  }
  if (global.json) {
    JsonObject report;
    report.add_json("results", bench_json_rows(results))
        .add_int("targets_met", met)
        .add_int("targets", with_target)
        .add_bytes("csv", csv_path.string());
    if (chart_failure.empty()) report.add_bytes("chart", chart_path.string());
    std::cout << report.str() << '\n';
  } else {
    std::cout << bench_table(results) << "targets met: " << met << " of " << with_target << '\n';
  }
  std::cerr << "wrote " << quoted_bytes(csv_path.string()) << ", "
            << quoted_bytes(chart_script_path.string())
            << (chart_failure.empty() ? " and " + quoted_bytes(chart_path.string())
                                      : " (no chart: " + chart_failure + ")")
            << '\n';
  return exit_ok;
}

}  // namespace

void add_bench_command(CLI::App& app, const GlobalOptions& options, int& exit_code) {
  auto bench_options = std::make_shared<BenchOptions>();
  auto* bench = app.add_subcommand(
      "bench",
      "Measure distkit against raw hiredis, redis-benchmark and an in-memory map, on one Redis");
  bench->add_flag("--quick", bench_options->quick, "smaller runs, under a minute");
  bench->add_option("--only", bench_options->only,
                    "run only the measurements whose name contains this text");
  bench->add_option("--out", bench_options->out_dir, "directory for bench.csv and throughput.png")
      ->capture_default_str();
  bench->footer(
      "Uses --url or $REDIS_URL, else starts a private redis-server on a free loopback port.\n"
      "Writes its keys under <prefix>_bench_<pid> and clears them at the end.\n\n" +
      std::string(exit_codes_help));
  bench->callback([&options, &exit_code, bench_options] {
    exit_code = run_reporting_failure([&] { return run_bench(options, *bench_options); });
  });
}

}  // namespace distkit::tools
