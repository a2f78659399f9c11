#include "demo_report.hpp"

#include <charconv>

namespace distkit::tools {
namespace {

// Removes and returns the first space-separated word of `line`.
std::string_view next_word(std::string_view& line) {
  const auto space = line.find(' ');
  const std::string_view word = line.substr(0, space);
  line = space == std::string_view::npos ? std::string_view() : line.substr(space + 1);
  return word;
}

std::uint64_t parse_count(std::string_view text) {
  std::uint64_t value = 0;
  std::from_chars(text.data(), text.data() + text.size(), value);
  return value;
}

std::string counts_line(std::string_view kind, std::uint64_t strict_incs, std::uint64_t lax_incs) {
  return std::string(kind) + " " + std::to_string(strict_incs) + " " + std::to_string(lax_incs) +
         "\n";
}

}  // namespace

std::string progress_line(std::uint64_t strict_incs, std::uint64_t lax_incs) {
  return counts_line("progress", strict_incs, lax_incs);
}

std::string final_lines(const WorkerTally& tally) {
  return "latency strict " + tally.strict_latency.serialize() + "\n" + "latency lax " +
         tally.lax_latency.serialize() + "\n" +
         counts_line("finished", tally.strict_incs, tally.lax_incs);
}

void apply_report_line(std::string_view line, WorkerTally& tally) {
  const std::string_view kind = next_word(line);
  if (kind == "progress" || kind == "finished") {
    tally.strict_incs = parse_count(next_word(line));
    tally.lax_incs = parse_count(next_word(line));
    tally.finished = kind == "finished";
  } else if (kind == "latency") {
    const std::string_view flavour = next_word(line);
    if (flavour == "strict") tally.strict_latency.merge_serialized(line);
    if (flavour == "lax") tally.lax_latency.merge_serialized(line);
  }
}

}  // namespace distkit::tools
