// A move-only std::function replacement (std::move_only_function is C++23).
#pragma once

#include <memory>
#include <type_traits>
#include <utility>

namespace distkit::detail {

template <class Signature>
class UniqueFunction;

// Holds any callable invocable as R(Args...), including move-only ones such
// as lambdas owning an Asio completion handler.
template <class R, class... Args>
class UniqueFunction<R(Args...)> {
 public:
  UniqueFunction() = default;

  template <class F>
  requires(!std::is_same_v<std::decay_t<F>, UniqueFunction> &&
           std::is_invocable_r_v<R, std::decay_t<F>&, Args...>)
      UniqueFunction(F&& f)  // NOLINT(google-explicit-constructor): used like std::function
      : callable_(std::make_unique<Model<std::decay_t<F>>>(std::forward<F>(f))) {}

  explicit operator bool() const noexcept { return callable_ != nullptr; }

  R operator()(Args... args) { return callable_->call(std::forward<Args>(args)...); }

 private:
  struct Concept {
    virtual ~Concept() = default;
    virtual R call(Args... args) = 0;
  };
  template <class F>
  struct Model final : Concept {
    explicit Model(F&& callable) : f(std::move(callable)) {}
    explicit Model(const F& callable) : f(callable) {}
    R call(Args... args) override { return f(std::forward<Args>(args)...); }
    F f;
  };

  std::unique_ptr<Concept> callable_;
};

}  // namespace distkit::detail
