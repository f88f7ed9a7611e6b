//===- Registration.h - dialects and passes moec uses -----------*- C++ -*-===//

#ifndef MOEC_COMPILER_REGISTRATION_H
#define MOEC_COMPILER_REGISTRATION_H

namespace mlir {
class DialectRegistry;
} // namespace mlir

namespace moec {

/// Adds the moe dialect and the upstream dialects our pipelines produce.
void registerDialects(mlir::DialectRegistry &registry);

/// Registers the moe passes and the upstream passes our pipelines run, so
/// that tools can name them on the command line.
void registerPasses();

} // namespace moec

#endif // MOEC_COMPILER_REGISTRATION_H
