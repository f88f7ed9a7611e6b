//===- Status.h - success or an error message -------------------*- C++ -*-===//
//
// The runtime reports every failure as a Status carrying a one-line message;
// no exception crosses its API.
//
//===----------------------------------------------------------------------===//

#ifndef MOEC_RUNTIME_STATUS_H
#define MOEC_RUNTIME_STATUS_H

#include <string>
#include <utility>

namespace moec {

class [[nodiscard]] Status {
public:
  /// Success.
  Status() = default;

  /// A failure with a printf-style message.
  [[gnu::format(printf, 1, 2)]] static Status error(const char *format, ...);

  bool ok() const { return !failed_; }
  explicit operator bool() const { return ok(); }
  const std::string &message() const { return message_; }

  /// Prefixes the message with `context: `, e.g. the file being read.
  Status &withContext(const std::string &context);

private:
  Status(std::string message) : failed_(true), message_(std::move(message)) {}

  bool failed_ = false;
  std::string message_;
};

} // namespace moec

#endif // MOEC_RUNTIME_STATUS_H
