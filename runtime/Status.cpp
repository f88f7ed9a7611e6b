//===- Status.cpp - success or an error message -------------------------===//

#include "runtime/Status.h"

#include <cstdarg>
#include <cstdio>

using namespace moec;

Status Status::format(StatusCode code, const char *format, va_list args) {
  va_list copy;
  va_copy(copy, args);
  int size = std::vsnprintf(nullptr, 0, format, copy);
  va_end(copy);
  std::string message(size > 0 ? size : 0, '\0');
  if (size > 0)
    std::vsnprintf(message.data(), message.size() + 1, format, args);
  Status status(std::move(message));
  status.code_ = code;
  return status;
}

Status Status::error(const char *format, ...) {
  va_list args;
  va_start(args, format);
  Status status = Status::format(StatusCode::Failure, format, args);
  va_end(args);
  return status;
}

Status Status::error(StatusCode code, const char *format, ...) {
  va_list args;
  va_start(args, format);
  Status status = Status::format(code, format, args);
  va_end(args);
  return status;
}

Status &Status::withContext(const std::string &context) {
  if (failed_)
    message_ = context + ": " + message_;
  return *this;
}
