# -*- Python -*-
import os
import shutil
import subprocess

import lit.formats
from lit.llvm import llvm_config
from lit.llvm.subst import ToolSubst

config.name = "PTXNET"
config.test_format = lit.formats.ShTest(not llvm_config.use_lit_shell)
config.suffixes = [".mlir", ".test"]
config.excludes = ["Inputs", "lit.cfg.py", "lit.site.cfg.py"]
config.test_source_root = os.path.dirname(__file__)
config.test_exec_root = os.path.join(config.ptxnet_obj_root, "test")

config.substitutions.append(("%PATH%", config.environment["PATH"]))
config.substitutions.append(("%src_root", config.ptxnet_src_root))
config.substitutions.append(("%examples", os.path.join(config.ptxnet_src_root, "examples")))

llvm_config.with_system_environment(["HOME", "INCLUDE", "LIB", "TMP", "TEMP"])
llvm_config.use_default_substitutions()
# FileCheck, not, count and split-file come from Debian's llvm-22-tools.
llvm_config.with_environment("PATH", config.llvm_tools_dir, append_path=True)
llvm_config.with_environment("PATH", config.ptxnet_tools_dir, append_path=True)

# Debian's python3 is the one with python3-torch / python3-onnx; the project's
# scripts run under it, whatever python3 comes first on PATH.
python = "/usr/bin/python3" if os.path.exists("/usr/bin/python3") else shutil.which("python3")
config.substitutions.append(("%python", python))


def python_has(module):
    try:
        return subprocess.run([python, "-c", "import " + module],
                              stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL).returncode == 0
    except OSError:
        return False


if python_has("torch"):
    config.available_features.add("torch")
if python_has("onnx"):
    config.available_features.add("onnx")

cuda_bin = os.path.join(config.cuda_toolkit_root or "/usr/local/cuda", "bin")
ptxas = shutil.which("ptxas", path=cuda_bin + os.pathsep + "/usr/local/cuda/bin")
if ptxas:
    config.available_features.add("ptxas")
    config.substitutions.append(("%ptxas", ptxas))

tool_dirs = [config.ptxnet_tools_dir, config.llvm_tools_dir]
tools = ["ptxnet-opt", "ptxnet-run", "ptxnet-compile", "ptxnet-import-onnx"]
llvm_config.add_tool_substitutions(tools, tool_dirs)
