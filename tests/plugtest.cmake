# The ETSI CoAP#4 plugtest test descriptions (CORE, LINK, BLOCK, OBS) against
# examples/plugtest-server, driven over loopback by a raw UDP client with a
# codec of its own (tests/plugtest/).
if(PETREL_TOOLS AND TARGET plugtest-server)
  add_executable(test_plugtest ${CMAKE_CURRENT_LIST_DIR}/plugtest/test_plugtest.c)
  target_compile_options(test_plugtest PRIVATE ${PETREL_WARNINGS})
  target_compile_definitions(test_plugtest PRIVATE _GNU_SOURCE)
  add_test(NAME plugtest COMMAND test_plugtest $<TARGET_FILE:plugtest-server>)
  set_tests_properties(plugtest PROPERTIES TIMEOUT 120 LABELS unit
                       SKIP_RETURN_CODE 77)
  # TD_COAP_OBS_*: a second server with a short period and short
  # retransmission parameters, so that the run takes seconds.
  add_executable(test_plugtest_obs
    ${CMAKE_CURRENT_LIST_DIR}/plugtest/test_plugtest_obs.c)
  target_compile_options(test_plugtest_obs PRIVATE ${PETREL_WARNINGS})
  target_compile_definitions(test_plugtest_obs PRIVATE _GNU_SOURCE)
  add_test(NAME plugtest_obs
    COMMAND test_plugtest_obs $<TARGET_FILE:plugtest-server>)
  set_tests_properties(plugtest_obs PROPERTIES TIMEOUT 120 LABELS unit
                       SKIP_RETURN_CODE 77)
endif()
