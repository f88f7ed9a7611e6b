# Fails when the library given as LIBRARY depends on libLLVM or libMLIR.
execute_process(COMMAND ldd ${LIBRARY} OUTPUT_VARIABLE deps
                RESULT_VARIABLE rc)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "ldd ${LIBRARY} failed")
endif()
string(REGEX MATCHALL "lib(LLVM|MLIR)[^ \t\n]*" bad "${deps}")
if(bad)
  message(FATAL_ERROR "${LIBRARY} links ${bad}")
endif()
message(STATUS "${LIBRARY}: no LLVM or MLIR in its dependencies")
