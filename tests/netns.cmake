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

# An endpoint bound to one address of a veth interface: its local address
# and interface index without per-datagram control data.
add_executable(bound_ifindex ${CMAKE_CURRENT_LIST_DIR}/netns/bound_ifindex.c)
target_compile_options(bound_ifindex PRIVATE ${PETREL_WARNINGS})
target_compile_definitions(bound_ifindex PRIVATE _GNU_SOURCE)
target_include_directories(bound_ifindex PRIVATE ${PROJECT_SOURCE_DIR}/src)
target_link_libraries(bound_ifindex PRIVATE coap-3-static)
add_test(NAME netns_bound_ifindex
         COMMAND bash ${CMAKE_CURRENT_LIST_DIR}/netns/bound_ifindex.sh
                 $<TARGET_FILE:bound_ifindex>)
set_tests_properties(netns_bound_ifindex PROPERTIES
  LABELS netns TIMEOUT 60 SKIP_RETURN_CODE 77)
