// The one way the counter interfaces start their async_ operations: Asio's
// async_initiate over a protected virtual initiator taking a type-erased
// handler. Not part of the public API.
#pragma once

#include <boost/asio/any_completion_handler.hpp>
#include <boost/asio/async_result.hpp>
#include <boost/system/error_code.hpp>
#include <utility>

namespace distkit::detail {

// Completes with void(error_code, T): calls (self->*start)(args..., handler)
// with the arguments copied (or moved) into the operation.
template <class T, class Self, class Start, class Token, class... Args>
auto async_initiate_erased(Self* self, Start start, Token&& token, Args&&... args) {
  return boost::asio::async_initiate<Token, void(boost::system::error_code, T)>(
      [self, start](auto handler, auto&&... moved) {
        (self->*start)(std::move(moved)...,
                       boost::asio::any_completion_handler<void(boost::system::error_code, T)>(
                           std::move(handler)));
      },
      token, std::forward<Args>(args)...);
}

// Completes with void(error_code): calls (self->*start)(handler).
template <class Self, class Start, class Token>
auto async_initiate_erased_void(Self* self, Start start, Token&& token) {
  return boost::asio::async_initiate<Token, void(boost::system::error_code)>(
      [self, start](auto handler) {
        (self->*start)(boost::asio::any_completion_handler<void(boost::system::error_code)>(
            std::move(handler)));
      },
      token);
}

}  // namespace distkit::detail
