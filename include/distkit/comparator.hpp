// CounterComparator: the condition of inc_if / set_if and their batch forms.
#pragma once

#include <cstdint>

namespace distkit {

// A predicate on a counter's current value: `current <op> operand`, or nil(),
// which always matches. A literal type; copy freely.
class CounterComparator {
 public:
  enum class Kind : std::uint8_t { eq, ne, lt, gt, le, ge, nil };

  static constexpr CounterComparator eq(std::int64_t v) noexcept { return {Kind::eq, v}; }
  static constexpr CounterComparator ne(std::int64_t v) noexcept { return {Kind::ne, v}; }
  static constexpr CounterComparator lt(std::int64_t v) noexcept { return {Kind::lt, v}; }
  static constexpr CounterComparator gt(std::int64_t v) noexcept { return {Kind::gt, v}; }
  static constexpr CounterComparator le(std::int64_t v) noexcept { return {Kind::le, v}; }
  static constexpr CounterComparator ge(std::int64_t v) noexcept { return {Kind::ge, v}; }
  // Matches every value.
  static constexpr CounterComparator nil() noexcept { return {Kind::nil, 0}; }

  // True when `current` satisfies the condition; lt(5) matches 4.
  constexpr bool matches(std::int64_t current) const noexcept {
    switch (kind_) {
      case Kind::eq:
        return current == operand_;
      case Kind::ne:
        return current != operand_;
      case Kind::lt:
        return current < operand_;
      case Kind::gt:
        return current > operand_;
      case Kind::le:
        return current <= operand_;
      case Kind::ge:
        return current >= operand_;
      case Kind::nil:
        return true;
    }
    return false;
  }

  // The comparison and its right-hand side (0 for nil()).
  constexpr Kind kind() const noexcept { return kind_; }
  constexpr std::int64_t operand() const noexcept { return operand_; }

  friend constexpr bool operator==(const CounterComparator&, const CounterComparator&) = default;

 private:
  constexpr CounterComparator(Kind kind, std::int64_t operand) noexcept
      : kind_(kind), operand_(operand) {}

  Kind kind_;
  std::int64_t operand_;
};

}  // namespace distkit
