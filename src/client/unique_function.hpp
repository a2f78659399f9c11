// A move-only std::function replacement (std::move_only_function is C++23)
// that stores small callables inline.
#pragma once

#include <cstddef>
#include <memory>
#include <new>
#include <type_traits>
#include <utility>

namespace distkit::detail {

template <class Signature, std::size_t InlineSize = 64>
class UniqueFunction;

// Holds any callable invocable as R(Args...), including move-only ones such
// as lambdas owning an Asio completion handler. A callable of at most
// InlineSize bytes (nothrow movable) lives inside the object: the request
// path creates several callbacks per call, and a heap allocation each was a
// large part of the client's time. Larger callables go to the heap.
template <class R, class... Args, std::size_t InlineSize>
class UniqueFunction<R(Args...), InlineSize> {
 public:
  UniqueFunction() = default;

  template <class F>
  requires(!std::is_same_v<std::decay_t<F>, UniqueFunction> &&
           std::is_invocable_r_v<R, std::decay_t<F>&, Args...>)
      UniqueFunction(F&& f)  // NOLINT(google-explicit-constructor): used like std::function
  {
    using Stored = std::decay_t<F>;
    if constexpr (stored_inline<Stored>) {
      ::new (static_cast<void*>(storage_)) Stored(std::forward<F>(f));
      ops_ = &inline_ops<Stored>;
    } else {
      ::new (static_cast<void*>(storage_)) Stored*(new Stored(std::forward<F>(f)));
      ops_ = &heap_ops<Stored>;
    }
  }

  UniqueFunction(UniqueFunction&& other) noexcept : ops_(other.ops_) {
    if (ops_ != nullptr) ops_->relocate(other.storage_, storage_);
    other.ops_ = nullptr;
  }

  UniqueFunction& operator=(UniqueFunction&& other) noexcept {
    if (this != &other) {
      reset();
      ops_ = std::exchange(other.ops_, nullptr);
      if (ops_ != nullptr) ops_->relocate(other.storage_, storage_);
    }
    return *this;
  }

  UniqueFunction(const UniqueFunction&) = delete;
  UniqueFunction& operator=(const UniqueFunction&) = delete;

  ~UniqueFunction() { reset(); }

  explicit operator bool() const noexcept { return ops_ != nullptr; }

  R operator()(Args... args) { return ops_->call(storage_, std::forward<Args>(args)...); }

 private:
  struct Ops {
    R (*call)(void* storage, Args&&... args);
    // Move-constructs the callable at `to` and destroys it at `from`.
    void (*relocate)(void* from, void* to) noexcept;
    void (*destroy)(void* storage) noexcept;
  };

  template <class F>
  static constexpr bool stored_inline =
      sizeof(F) <= InlineSize &&
      alignof(F) <= alignof(std::max_align_t) && std::is_nothrow_move_constructible_v<F>;

  template <class F>
  static constexpr Ops inline_ops = {
      [](void* storage, Args&&... args) -> R {
        return (*std::launder(static_cast<F*>(storage)))(std::forward<Args>(args)...);
      },
      [](void* from, void* to) noexcept {
        F* source = std::launder(static_cast<F*>(from));
        ::new (to) F(std::move(*source));
        source->~F();
      },
      [](void* storage) noexcept { std::launder(static_cast<F*>(storage))->~F(); },
  };

  template <class F>
  static constexpr Ops heap_ops = {
      [](void* storage, Args&&... args) -> R {
        return (**std::launder(static_cast<F**>(storage)))(std::forward<Args>(args)...);
      },
      [](void* from, void* to) noexcept { ::new (to) F*(*std::launder(static_cast<F**>(from))); },
      [](void* storage) noexcept { delete *std::launder(static_cast<F**>(storage)); },
  };

  void reset() noexcept {
    if (ops_ != nullptr) std::exchange(ops_, nullptr)->destroy(storage_);
  }

  alignas(std::max_align_t) unsigned char storage_[InlineSize < sizeof(void*) ? sizeof(void*)
                                                                              : InlineSize];
  const Ops* ops_ = nullptr;
};

}  // namespace distkit::detail
