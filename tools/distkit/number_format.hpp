// Numbers as people read them in tables and progress lines.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>

namespace distkit::tools {

// 1234567 -> "1,234,567".
std::string with_thousands(std::int64_t value);

// `value` with `decimals` digits after the point.
std::string fixed(double value, int decimals);

// 850ns -> "850 ns", 12.3456us -> "12.3 us", 4.5ms -> "4.50 ms": three
// significant digits in the largest unit that keeps the number >= 1.
std::string human_duration(std::chrono::duration<double, std::nano> duration);

}  // namespace distkit::tools
