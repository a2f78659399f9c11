#include "bench_report.hpp"

#include "json.hpp"
#include "number_format.hpp"
#include "text_table.hpp"

namespace distkit::tools {
namespace {

// A value in `unit` with the precision that unit deserves.
std::string format_value(double value, const std::string& unit) {
  if (unit == "ops/s" || unit == "calls") {
    return with_thousands(static_cast<std::int64_t>(value)) + " " + unit;
  }
  return fixed(value, unit == "bytes/key" ? 1 : 2) + " " + unit;
}

std::string verdict(const BenchResult& result) {
  const auto met = result.target_met();
  if (!met) return "";
  return *met ? "met" : "MISSED";
}

std::string csv_field(const std::string& text) {
  std::string out = "\"";
  for (const char c : text) {
    out += c;
    if (c == '"') out += '"';
  }
  return out + "\"";
}

std::string csv_number(std::optional<double> value) {
  return value ? json_number(*value) : "";
}

// "0.81 / 0.62": Redis CPU per operation, distkit's and the baseline's.
std::string cpu_pair(const BenchResult& result) {
  if (!result.distkit_redis_cpu_us) return "";
  std::string text = fixed(*result.distkit_redis_cpu_us, 2);
  if (result.baseline_redis_cpu_us) text += " / " + fixed(*result.baseline_redis_cpu_us, 2);
  return text;
}

}  // namespace

std::string bench_table(const std::vector<BenchResult>& results) {
  std::vector<TableRow> rows{{"measurement", "distkit", "baseline", "ratio", "target", "",
                              "Redis CPU us/op", "baseline is"}};
  for (const BenchResult& result : results) {
    const auto ratio = result.ratio();
    rows.push_back({result.measurement, format_value(result.distkit, result.unit),
                    result.baseline ? format_value(*result.baseline, result.unit) : "",
                    ratio ? fixed(*ratio, 2) + "x" : "", result.target_text(), verdict(result),
                    cpu_pair(result), result.baseline_name});
  }
  return render_table(rows);
}

std::string bench_json_rows(const std::vector<BenchResult>& results) {
  std::vector<std::string> rows;
  for (const BenchResult& result : results) {
    JsonObject row;
    row.add_string("measurement", result.measurement)
        .add_string("unit", result.unit)
        .add_number("distkit", result.distkit);
    if (result.baseline) {
      row.add_string("baseline_name", result.baseline_name)
          .add_number("baseline", *result.baseline);
    }
    if (const auto ratio = result.ratio()) row.add_number("ratio", *ratio);
    if (const auto met = result.target_met()) {
      row.add_string("target", result.target_text()).add_bool("target_met", *met);
    }
    if (result.concurrent_callers > 0) row.add_int("concurrent_callers", result.concurrent_callers);
    if (result.distkit_redis_cpu_us) {
      row.add_number("distkit_redis_cpu_us_per_op", *result.distkit_redis_cpu_us);
    }
    if (result.baseline_redis_cpu_us) {
      row.add_number("baseline_redis_cpu_us_per_op", *result.baseline_redis_cpu_us);
    }
    rows.push_back(row.str());
  }
  return json_array(rows);
}

std::string bench_csv(const std::vector<BenchResult>& results) {
  std::string csv =
      "measurement,unit,distkit,baseline_name,baseline,ratio,target,target_met,"
      "concurrent_callers,distkit_redis_cpu_us_per_op,baseline_redis_cpu_us_per_op\n";
  for (const BenchResult& result : results) {
    const auto met = result.target_met();
    csv += csv_field(result.measurement) + "," + result.unit + "," + json_number(result.distkit) +
           "," + csv_field(result.baseline_name) + "," + csv_number(result.baseline) + "," +
           csv_number(result.ratio()) + "," + csv_field(result.target_text()) + "," +
           (met ? (*met ? "yes" : "no") : "") + "," +
           (result.concurrent_callers > 0 ? std::to_string(result.concurrent_callers) : "") + "," +
           csv_number(result.distkit_redis_cpu_us) + "," +
           csv_number(result.baseline_redis_cpu_us) + "\n";
  }
  return csv;
}

}  // namespace distkit::tools
