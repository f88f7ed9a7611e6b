# lit configuration for moec's IR and tool tests.
import os
import subprocess
import sys

import lit.formats
from lit.llvm import llvm_config

config.name = "moec"
config.test_format = lit.formats.ShTest(not llvm_config.use_lit_shell)
config.suffixes = [".mlir", ".test"]
config.test_source_root = os.path.dirname(__file__)
config.test_exec_root = os.path.join(config.moec_obj_root, "test")
config.excludes = ["CMakeLists.txt", "lit.cfg.py", "lit.site.cfg.py", "unit",
                   "Inputs", "reference"]

# FileCheck, not, count, ... from LLVM; our tools from the build.
llvm_config.use_default_substitutions()
llvm_config.with_environment("PATH", config.llvm_tools_dir, append_path=True)
llvm_config.with_environment("PATH", config.moec_tools_dir, append_path=True)
llvm_config.add_tool_substitutions(
    ["moec-opt", "moec-import", "moec-synth", "moec-compile", "moec-run",
     "moec-bench", "moec-serve"], [config.moec_tools_dir])
config.substitutions.append(("%python", sys.executable))
# A C compiler for test inputs: the LLVM toolchain's clang.
config.substitutions.append(("%clang", os.path.join(config.llvm_tools_dir, "clang")))
# The MLIR runner's support libraries, for tests that run lowered IR.
config.substitutions.append(("%mlir_lib_dir", os.path.join(os.path.dirname(config.llvm_tools_dir), "lib")))
config.substitutions.append(("%reference", os.path.join(config.moec_src_root, "test", "reference")))

# CPU features of this machine, for tests of artifacts compiled for others.
try:
    with open("/proc/cpuinfo") as cpuinfo:
        for line in cpuinfo:
            if line.startswith("flags"):
                for flag in ("amx_tile", "avx512_fp16", "avx512_bf16",
                             "avx512_vnni", "avx512vl", "avx_vnni"):
                    if flag in line.split():
                        config.available_features.add("cpu-" + flag)
                break
except OSError:
    pass

# CUDA: ptxas assembles PTX on any machine with the toolkit; the GPU tests
# need a GPU and its driver, and say why they are skipped without one.
ptxas = os.path.join(os.environ.get("CUDA_HOME", "/usr/local/cuda"), "bin", "ptxas")
if os.access(ptxas, os.X_OK):
    config.available_features.add("ptxas")
    config.substitutions.append(("%ptxas", ptxas))


def cuda_gpu():
    import ctypes
    try:
        cuda = ctypes.CDLL("libcuda.so.1")
    except OSError:
        return "no CUDA driver (libcuda.so.1)"
    count = ctypes.c_int(0)
    if cuda.cuInit(0) != 0 or cuda.cuDeviceGetCount(ctypes.byref(count)) != 0 \
            or count.value == 0:
        return "the CUDA driver sees no GPU"
    return None


# The openai package's client, from the environment tools/setup.sh makes.
openai_python = os.path.join(config.moec_obj_root, "python", "bin", "python")
if os.access(openai_python, os.X_OK) and subprocess.run(
        [openai_python, "-c", "import openai"], capture_output=True).returncode == 0:
    config.available_features.add("openai")
    config.substitutions.append(("%openai_python", openai_python))
else:
    lit_config.note("openai client tests are skipped (UNSUPPORTED): no "
                    + openai_python + " with the openai package (tools/setup.sh "
                    "test makes it)")

missing_gpu = cuda_gpu()
if missing_gpu:
    lit_config.note("GPU tests are skipped (UNSUPPORTED): " + missing_gpu)
else:
    config.available_features.add("cuda-gpu")
