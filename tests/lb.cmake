# Load-balancer test (label "lb"): two Petrel nodes behind nginx's UDP
# stream proxy with source affinity, on loopback (tests/lb/). nginx and its
# stream module are installed by scripts/deps; without nginx the test is
# skipped (exit 77), except under CI.
add_executable(lb_server ${CMAKE_CURRENT_LIST_DIR}/lb/lb_server.c)
target_compile_options(lb_server PRIVATE ${PETREL_WARNINGS})
target_compile_definitions(lb_server PRIVATE _GNU_SOURCE)
target_link_libraries(lb_server PRIVATE coap-3)
add_executable(lb_client ${CMAKE_CURRENT_LIST_DIR}/lb/lb_client.c)
target_compile_options(lb_client PRIVATE ${PETREL_WARNINGS})
add_test(NAME lb_nginx_two_nodes
         COMMAND bash ${CMAKE_CURRENT_LIST_DIR}/lb/nginx_two_nodes.sh
                 $<TARGET_FILE:lb_server> $<TARGET_FILE:lb_client>)
set_tests_properties(lb_nginx_two_nodes PROPERTIES
  LABELS lb TIMEOUT 150 SKIP_RETURN_CODE 77)
