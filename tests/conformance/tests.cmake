# CTests of the conformance suite, included from tests/CMakeLists.txt (after the
# tool exists). One test per backend plugin that was built:
#   conformance.<backend>   `ssmrt conformance` on device 0 of that backend against
#                           the float64 reference; JSON in <build>/conformance/.
# Backends in SSMRT_TEST_REQUIRE_DEVICES must have a device here (CI installs
# lavapipe and PoCL); for the others a missing device is checked to be reported
# clearly and the test is SKIPPED, never passed.
if(NOT TARGET ssmrt_tool)
  return()
endif()
set(SSMRT_TEST_REQUIRE_DEVICES "cpu;vulkan;opencl" CACHE STRING
    "Backends whose conformance test fails (rather than skips) without a device")

get_property(built_plugins GLOBAL PROPERTY SSMRT_PLUGINS)
foreach(b ${built_plugins})
  if(b IN_LIST SSMRT_TEST_REQUIRE_DEVICES)
    set(required 1)
  else()
    set(required 0)
  endif()
  add_test(NAME conformance.${b}
    COMMAND ${CMAKE_CURRENT_LIST_DIR}/run_conformance.sh $<TARGET_FILE:ssmrt_tool> ${b}
            ${required} ${CMAKE_BINARY_DIR}/conformance/${b}.json)
  set_tests_properties(conformance.${b} PROPERTIES LABELS "conformance;${b}"
    SKIP_RETURN_CODE 77 TIMEOUT 3600)
endforeach()
file(MAKE_DIRECTORY ${CMAKE_BINARY_DIR}/conformance)

# Every subcommand answers --help with exit status 0.
add_test(NAME tool.help COMMAND ${CMAKE_CURRENT_LIST_DIR}/check_help.sh $<TARGET_FILE:ssmrt_tool>)
set_tests_properties(tool.help PROPERTIES LABELS "tool")

# The quick suite on the CPU under valgrind (invalid accesses and leaks fail it).
if(TARGET ssmrt-cpu)
  add_test(NAME conformance.cpu.valgrind
    COMMAND ${CMAKE_CURRENT_LIST_DIR}/run_valgrind.sh $<TARGET_FILE:ssmrt_tool>
            $<TARGET_FILE:ssmrt-cpu>)
  set_tests_properties(conformance.cpu.valgrind PROPERTIES LABELS "conformance;cpu;valgrind"
    SKIP_RETURN_CODE 77 TIMEOUT 1800)
endif()
