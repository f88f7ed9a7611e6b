// RUN: moec-opt --help | FileCheck %s

// The driver names the moe dialect and our passes beside the upstream ones.
// CHECK: Available Dialects: {{.*}}linalg{{.*}}moe,{{.*}}vector
// CHECK: --canonicalize
// CHECK: --moe-strip-predictors
