#include "number_format.hpp"

#include <cstdio>

namespace distkit::tools {
namespace {

// Three significant digits for a value in [1, 1000).
std::string three_digits(double value) {
  return fixed(value, value < 10 ? 2 : value < 100 ? 1 : 0);
}

}  // namespace

std::string with_thousands(std::int64_t value) {
  const std::string digits = std::to_string(value);
  const std::size_t first_digit = value < 0 ? 1 : 0;
  std::string out = digits.substr(0, first_digit);
  for (std::size_t i = first_digit; i < digits.size(); ++i) {
    if (i > first_digit && (digits.size() - i) % 3 == 0) out += ',';
    out += digits[i];
  }
  return out;
}

std::string fixed(double value, int decimals) {
  char text[64];
  std::snprintf(text, sizeof text, "%.*f", decimals, value);
  return text;
}

std::string human_duration(std::chrono::duration<double, std::nano> duration) {
  const double nanos = duration.count();
  if (nanos < 1e3) return fixed(nanos, 0) + " ns";
  if (nanos < 1e6) return three_digits(nanos / 1e3) + " us";
  if (nanos < 1e9) return three_digits(nanos / 1e6) + " ms";
  return fixed(nanos / 1e9, 2) + " s";
}

}  // namespace distkit::tools
