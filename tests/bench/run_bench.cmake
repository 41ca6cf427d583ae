# Runs one `ssmrt bench` command in a fresh folder and checks what it wrote.
#   -DSSMRT=<tool> -DCHECK=<bench_check> -DWORK=<folder> -DARGS=<arguments, '|'-separated>
#   [-DJSON=<file> [-DOPS=<a,b>] [-DFIELDS=<x,y>]] [-DSVG=<file> -DMIN_POLYLINES=<n>]
#   [-DEXPECT=<regex the output must match>]
# TMPDIR points into the folder, so a preset's temporary model folder can be checked
# to be gone afterwards.
string(REPLACE "|" ";" ARGS "${ARGS}")
file(REMOVE_RECURSE ${WORK})
file(MAKE_DIRECTORY ${WORK}/tmp)
execute_process(COMMAND ${CMAKE_COMMAND} -E env TMPDIR=${WORK}/tmp ${SSMRT} ${ARGS}
                WORKING_DIRECTORY ${WORK} RESULT_VARIABLE rc OUTPUT_VARIABLE out
                ERROR_VARIABLE err)
message("${out}")
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "ssmrt ${ARGS} exited with ${rc}:\n${err}")
endif()
if(DEFINED EXPECT AND NOT out MATCHES "${EXPECT}")
  message(FATAL_ERROR "output does not match '${EXPECT}'")
endif()
if(DEFINED JSON)
  if(NOT DEFINED OPS)
    set(OPS -)
  endif()
  if(NOT DEFINED FIELDS)
    set(FIELDS -)
  endif()
  execute_process(COMMAND ${CHECK} json ${WORK}/${JSON} ${OPS} ${FIELDS} RESULT_VARIABLE rc)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "${JSON} failed the check")
  endif()
endif()
if(DEFINED SVG)
  execute_process(COMMAND ${CHECK} svg ${WORK}/${SVG} ${MIN_POLYLINES} RESULT_VARIABLE rc)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "${SVG} failed the check")
  endif()
endif()
file(GLOB left ${WORK}/tmp/*)
if(left)
  message(FATAL_ERROR "temporary files left behind: ${left}")
endif()
