// How the MLP activation is recognised. hidden_act "relu" in a Mixtral or
// Mistral config is HF's relu(gate x) * (up x): reglu, not dReLU. Only the
// TurboSparse architectures are dReLU, and they must say "relu".
//
// RUN: rm -rf %t && mkdir -p %t
// RUN: moec-synth -o %t/mixtral-silu
// RUN: moec-import %t/mixtral-silu | FileCheck %s --check-prefix=SILU
// RUN: moec-synth -o %t/mixtral-relu --hidden-act=relu
// RUN: moec-import %t/mixtral-relu | FileCheck %s --check-prefix=RELU
// RUN: moec-synth -o %t/mistral-relu --arch=MistralForCausalLM --hidden-act=relu
// RUN: moec-import %t/mistral-relu | FileCheck %s --check-prefix=RELU
// RUN: moec-synth -o %t/mixtral-gelu --hidden-act=gelu
// RUN: moec-import %t/mixtral-gelu | FileCheck %s --check-prefix=GELU
// RUN: moec-synth -o %t/turbo --arch=TurboSparseMixtralForCausalLM
// RUN: moec-import %t/turbo | FileCheck %s --check-prefix=DRELU
// RUN: not moec-synth -o %t/turbo-silu --arch=TurboSparseMixtralForCausalLM --hidden-act=silu 2>&1 | FileCheck %s --check-prefix=TURBO-SILU
// RUN: not moec-synth -o %t/tanh --hidden-act=gelu_pytorch_tanh 2>&1 | FileCheck %s --check-prefix=TANH

// SILU-LABEL: func.func @forward
// SILU-COUNT-2: moe.expert_ffn {{.+}} swiglu :
// RELU-LABEL: func.func @forward
// RELU-COUNT-2: moe.expert_ffn {{.+}} reglu :
// GELU-LABEL: func.func @forward
// GELU-COUNT-2: moe.expert_ffn {{.+}} geglu :
// DRELU-LABEL: func.func @forward
// DRELU-COUNT-2: moe.expert_ffn {{.+}} drelu :
// TURBO-SILU: error: moec-synth options: unsupported hidden_act 'silu' for TurboSparseMixtralForCausalLM (dReLU models use "relu")
// TANH: error: moec-synth options: unsupported hidden_act 'gelu_pytorch_tanh' for MixtralForCausalLM
