# Fails when the library given as LIBRARY depends on a library whose name
# matches FORBIDDEN (a regular expression; by default libLLVM or libMLIR).
if(NOT DEFINED FORBIDDEN)
  set(FORBIDDEN "lib(LLVM|MLIR)")
endif()
execute_process(COMMAND ldd ${LIBRARY} OUTPUT_VARIABLE deps
                RESULT_VARIABLE rc)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "ldd ${LIBRARY} failed")
endif()
string(REGEX MATCHALL "${FORBIDDEN}[^ \t\n]*" bad "${deps}")
if(bad)
  message(FATAL_ERROR "${LIBRARY} links ${bad}")
endif()
message(STATUS "${LIBRARY}: nothing matching ${FORBIDDEN} in its dependencies")
