#include "bench_result.hpp"

#include "number_format.hpp"

namespace distkit::tools {
namespace {

// 1.15 -> "1.15", 5 -> "5", 0.2 -> "0.2".
std::string short_number(double value) {
  std::string text = fixed(value, 2);
  text.erase(text.find_last_not_of('0') + 1);
  if (text.back() == '.') text.pop_back();
  return text;
}

}  // namespace

std::optional<double> BenchResult::ratio() const {
  if (!baseline || *baseline == 0) return std::nullopt;
  return distkit / *baseline;
}

std::string BenchResult::target_text() const {
  std::string text;
  switch (target.kind) {
    case Target::Kind::none:
      return "";
    case Target::Kind::ratio_at_most:
      text = "<= " + short_number(target.limit) + "x";
      break;
    case Target::Kind::ratio_at_least:
      text = ">= " + short_number(target.limit) + "x";
      break;
    case Target::Kind::value_below:
      text = "< " + short_number(target.limit) + " " + unit;
      break;
    case Target::Kind::value_at_most:
      text = "<= " + short_number(target.limit) + " " + unit;
      break;
  }
  return target.note.empty() ? text : text + " " + target.note;
}

std::optional<bool> BenchResult::target_met() const {
  switch (target.kind) {
    case Target::Kind::none:
      return std::nullopt;
    case Target::Kind::ratio_at_most:
      return ratio() && *ratio() <= target.limit;
    case Target::Kind::ratio_at_least:
      return ratio() && *ratio() >= target.limit;
    case Target::Kind::value_below:
      return distkit < target.limit;
    case Target::Kind::value_at_most:
      return distkit <= target.limit;
  }
  return std::nullopt;
}

}  // namespace distkit::tools
