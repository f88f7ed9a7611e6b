//===- Status.h - success or an error message -------------------*- C++ -*-===//
//
// The runtime reports every failure as a Status carrying a one-line message;
// no exception crosses its API.
//
//===----------------------------------------------------------------------===//

#ifndef MOEC_RUNTIME_STATUS_H
#define MOEC_RUNTIME_STATUS_H

#include <cstdarg>
#include <string>
#include <utility>

namespace moec {

/// What kind of failure a Status is, for the tools to say which of their
/// options it concerns; the runtime's messages name no option.
enum class StatusCode {
  Failure,            ///< anything else
  InvalidMaxSeqLen,   ///< a non-positive maximum sequence length
  SequenceTooLong,    ///< more tokens than the maximum sequence length
  WrongDevice,        ///< the artifact was compiled for the other device
  UnknownDevice,      ///< a device name the runtime does not know
  MissingCpuFeatures, ///< compiled for CPU features this machine lacks
  ThreadsNeedCpu,     ///< a thread count for a device that has none
  InvalidThreads,     ///< a non-positive thread count
  NoChatTemplate,     ///< the tokenizer's chat template is missing or unknown
};

class [[nodiscard]] Status {
public:
  /// Success.
  Status() = default;

  /// A failure with a printf-style message.
  [[gnu::format(printf, 1, 2)]] static Status error(const char *format, ...);
  /// The same, of kind `code`.
  [[gnu::format(printf, 2, 3)]] static Status error(StatusCode code,
                                                    const char *format, ...);

  bool ok() const { return !failed_; }
  explicit operator bool() const { return ok(); }
  const std::string &message() const { return message_; }
  StatusCode code() const { return code_; }

  /// Prefixes the message with `context: `, e.g. the file being read.
  Status &withContext(const std::string &context);

private:
  Status(std::string message) : failed_(true), message_(std::move(message)) {}

  static Status format(StatusCode code, const char *format, va_list args);

  bool failed_ = false;
  StatusCode code_ = StatusCode::Failure;
  std::string message_;
};

} // namespace moec

#endif // MOEC_RUNTIME_STATUS_H
