//===- StatusTest.cpp - runtime status messages -------------------------===//

#include "runtime/CommandLine.h"
#include "runtime/Status.h"

#include <gtest/gtest.h>

#include <string>

using moec::Status;

TEST(StatusTest, DefaultIsSuccess) {
  Status status;
  EXPECT_TRUE(status.ok());
  EXPECT_TRUE(status.message().empty());
}

TEST(StatusTest, ErrorFormatsMessage) {
  Status status = Status::error("tensor '%s' has dtype %s", "w1", "F64");
  EXPECT_FALSE(status.ok());
  EXPECT_EQ(status.message(), "tensor 'w1' has dtype F64");
}

TEST(StatusTest, ContextPrefixesFailuresOnly) {
  Status failure = Status::error("truncated header");
  failure.withContext("model.safetensors");
  EXPECT_EQ(failure.message(), "model.safetensors: truncated header");

  Status success;
  success.withContext("model.safetensors");
  EXPECT_TRUE(success.ok());
  EXPECT_TRUE(success.message().empty());
}

TEST(StatusTest, LongMessagesAreNotTruncated) {
  std::string name(1000, 'x');
  Status status = Status::error("%s", name.c_str());
  EXPECT_EQ(status.message(), name);
}

TEST(StatusTest, CodesSurviveContextAndToolsAddTheirOption) {
  Status status = Status::error(moec::StatusCode::SequenceTooLong,
                                "the sequence would be %d tokens", 9);
  status.withContext("model.moec");
  EXPECT_EQ(status.code(), moec::StatusCode::SequenceTooLong);
  // The runtime's message names no option; the tools' description does.
  EXPECT_EQ(status.message(), "model.moec: the sequence would be 9 tokens");
  EXPECT_EQ(moec::OptionParser::describe(status),
            "model.moec: the sequence would be 9 tokens (--max-seq-len)");
  Status plain = Status::error("truncated header");
  EXPECT_EQ(plain.code(), moec::StatusCode::Failure);
  EXPECT_EQ(moec::OptionParser::describe(plain), "truncated header");
}
