//===- DialectTest.cpp - C++ API of the moe dialect ---------------------===//

#include "compiler/Registration.h"
#include "dialects/moe/IR/MoeOps.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/Diagnostics.h"
#include "mlir/IR/DialectRegistry.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/Parser/Parser.h"

#include <gtest/gtest.h>

#include <cmath>

using namespace mlir;
using namespace mlir::moe;

namespace {

class MoeDialectTest : public ::testing::Test {
protected:
  MoeDialectTest() {
    DialectRegistry registry;
    moec::registerDialects(registry);
    context.appendDialectRegistry(registry);
    context.loadAllAvailableDialects();
  }

  OwningOpRef<ModuleOp> parse(StringRef source) {
    return parseSourceString<ModuleOp>(source, &context);
  }

  MLIRContext context;
};

TEST_F(MoeDialectTest, WeightRefSizes) {
  auto ref = WeightRefAttr::get(&context, "model.safetensors", "lm_head.weight",
                                BFloat16Type::get(&context), {32000, 4096},
                                1024);
  EXPECT_EQ(ref.getNumElements(), 32000 * 4096);
  EXPECT_EQ(ref.getSizeInBytes(), 32000ull * 4096 * 2);
  EXPECT_EQ(ref.getOffset(), 1024u);
}

TEST_F(MoeDialectTest, WeightRefRejectsUnsupportedDtype) {
  std::string message;
  ScopedDiagnosticHandler handler(&context, [&](Diagnostic &diag) {
    message = diag.str();
    return success();
  });
  auto emit = [&] { return emitError(UnknownLoc::get(&context)); };
  // Exact parameter types select the generated (verifying) overload.
  int64_t shape[] = {4};
  auto ref = WeightRefAttr::getChecked(
      function_ref<InFlightDiagnostic()>(emit), &context,
      StringRef("model.safetensors"), StringRef("w"),
      Type(Float64Type::get(&context)), ArrayRef<int64_t>(shape),
      uint64_t(0));
  EXPECT_FALSE(ref);
  EXPECT_NE(message.find("unsupported dtype"), std::string::npos) << message;
}

TEST_F(MoeDialectTest, EnumsRoundTrip) {
  EXPECT_EQ(stringifyActivation(Activation::DReLU), "drelu");
  EXPECT_EQ(stringifyActivation(Activation::ReGLU), "reglu");
  EXPECT_EQ(symbolizeActivation("swiglu"), Activation::SwiGLU);
  EXPECT_EQ(symbolizeRouterNonlinearity("sinkhorn"),
            RouterNonlinearity::Sinkhorn);
  EXPECT_EQ(symbolizeRoutingAlgorithm("hash"), RoutingAlgorithm::Hash);
  EXPECT_FALSE(symbolizeActivation("silu").has_value());
}

TEST_F(MoeDialectTest, DerivedCountsAndDefaults) {
  auto module = parse(R"mlir(
    func.func @f(%x: tensor<1x16xf32>, %w: tensor<1x2xf32>, %ids: tensor<1x2xi32>,
                 %g: tensor<4x32x16xbf16>, %d: tensor<4x16x32xbf16>,
                 %sg: tensor<1x8x16xbf16>, %sd: tensor<1x16x8xbf16>,
                 %q: tensor<1x4x8xf32>, %k: tensor<1x2x8xf32>,
                 %c: tensor<2x64x2x8xf32>, %pos: tensor<1xi32>)
        -> (tensor<1x16xf32>, tensor<1x4x8xf32>) {
      %y = moe.expert_ffn %x routing(%w, %ids) experts(%g, %g, %d)
          shared(%sg, %sg, %sd) swiglu
          : (tensor<1x16xf32>, tensor<1x2xf32>, tensor<1x2xi32>,
             tensor<4x32x16xbf16>, tensor<4x32x16xbf16>, tensor<4x16x32xbf16>,
             tensor<1x8x16xbf16>, tensor<1x8x16xbf16>, tensor<1x16x8xbf16>)
          -> tensor<1x16xf32>
      %o, %kv = moe.attention %q, %k, %k cache(%c) positions(%pos)
          heads = 4 kv_heads = 2 head_dim = 8 causal
          : tensor<1x4x8xf32>, tensor<1x2x8xf32>, tensor<2x64x2x8xf32>, tensor<1xi32>
      return %y, %o : tensor<1x16xf32>, tensor<1x4x8xf32>
    })mlir");
  ASSERT_TRUE(module);
  ExpertFfnOp ffn;
  AttentionOp attention;
  module->walk([&](ExpertFfnOp op) { ffn = op; });
  module->walk([&](AttentionOp op) { attention = op; });
  ASSERT_TRUE(ffn && attention);
  EXPECT_EQ(ffn.getNumExperts(), 4);
  EXPECT_EQ(ffn.getNumSharedExperts(), 1);
  EXPECT_DOUBLE_EQ(attention.getScaleOrDefault(), 1.0 / std::sqrt(8.0));
}

TEST_F(MoeDialectTest, VerifierRejectsBadTopK) {
  std::string message;
  ScopedDiagnosticHandler handler(&context, [&](Diagnostic &diag) {
    message = diag.str();
    return success();
  });
  auto module = parse(R"mlir(
    func.func @f(%x: tensor<1x16xf32>, %g: tensor<4x16xf32>) {
      %w, %ids = moe.router %x gate(%g) experts = 4 top_k = 5 learned softmax
          : (tensor<1x16xf32>, tensor<4x16xf32>) -> (tensor<1x5xf32>, tensor<1x5xi32>)
      return
    })mlir");
  EXPECT_FALSE(module);
  EXPECT_NE(message.find("top_k (5) must not exceed"), std::string::npos)
      << message;
}

} // namespace
