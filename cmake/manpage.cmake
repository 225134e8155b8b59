# Writes the lockrace(1) man page: docs/lockrace.1.in with @LOCKRACE_OPTIONS@
# replaced by what `lockrace --help-man` prints from src/support/options.def, so the
# page's options are always the ones the launcher and the library accept.
#   cmake -DLAUNCHER=path -DTEMPLATE=path -DOUTPUT=path -DPROJECT_VERSION=x.y.z
#         -DDOCDIR=share/doc/lockrace -P manpage.cmake
execute_process(COMMAND "${LAUNCHER}" --help-man
                OUTPUT_VARIABLE LOCKRACE_OPTIONS RESULT_VARIABLE status)
if(NOT status EQUAL 0 OR LOCKRACE_OPTIONS STREQUAL "")
  message(FATAL_ERROR "${LAUNCHER} --help-man failed (status ${status}): no man page")
endif()
string(STRIP "${LOCKRACE_OPTIONS}" LOCKRACE_OPTIONS)
configure_file("${TEMPLATE}" "${OUTPUT}" @ONLY)
