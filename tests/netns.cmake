# Tests inside a network namespace the test creates (label "netns"): the
# script re-runs itself under `unshare -n`, turns multicast on for lo and
# routes the groups there. Needs root (CAP_SYS_ADMIN); where unshare is not
# permitted the test is skipped (exit 77), except under CI where it fails.
add_executable(mcast_group ${CMAKE_CURRENT_LIST_DIR}/netns/mcast_group.c)
target_compile_options(mcast_group PRIVATE ${PETREL_WARNINGS})
target_compile_definitions(mcast_group PRIVATE _GNU_SOURCE)
target_link_libraries(mcast_group PRIVATE coap-3-static)
add_test(NAME netns_mcast_group
         COMMAND bash ${CMAKE_CURRENT_LIST_DIR}/netns/mcast_group.sh
                 $<TARGET_FILE:mcast_group>)
set_tests_properties(netns_mcast_group PROPERTIES
  LABELS netns TIMEOUT 120 SKIP_RETURN_CODE 77)
