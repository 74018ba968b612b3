// SPDX-License-Identifier: GPL-2.0-only
// Result<T> and Error: how recoverable failures travel (there is no
// std::expected in g++ 12). An Error says which operation failed, on what,
// and carries the errno so callers can branch on it.
#pragma once

#include <cerrno>
#include <cstring>
#include <string>
#include <utility>
#include <variant>

namespace netacct {

struct Error {
  std::string op;       // what we tried: "attach tc ingress"
  int err = 0;          // errno value (positive), 0 if not a system error
  std::string context;  // on what: "veth0 in netns blue"

  std::string message() const {
    std::string text = op;
    if (!context.empty()) text += " (" + context + ")";
    if (err != 0) text += ": " + std::string(std::strerror(err));
    return text;
  }
};

// Builds an Error from a libbpf-style return value (-errno) or errno.
inline Error make_error(std::string op, int err, std::string context = {}) {
  return Error{std::move(op), err < 0 ? -err : err, std::move(context)};
}

template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : state_(std::move(value)) {}      // NOLINT: implicit by design
  Result(Error error) : state_(std::move(error)) {}  // NOLINT

  bool ok() const { return std::holds_alternative<T>(state_); }
  explicit operator bool() const { return ok(); }
  T& value() & { return std::get<T>(state_); }
  T&& value() && { return std::get<T>(std::move(state_)); }
  const T& value() const& { return std::get<T>(state_); }
  T& operator*() & { return value(); }
  T* operator->() { return &value(); }
  const Error& error() const { return std::get<Error>(state_); }

 private:
  std::variant<T, Error> state_;
};

template <>
class [[nodiscard]] Result<void> {
 public:
  Result() = default;
  Result(Error error) : error_(std::move(error)), failed_(true) {}  // NOLINT

  bool ok() const { return !failed_; }
  explicit operator bool() const { return ok(); }
  const Error& error() const { return error_; }

 private:
  Error error_;
  bool failed_ = false;
};

inline Result<void> ok() {
  return {};
}

}  // namespace netacct
