# coap-bench's own test (label "bench"): the load generator against the
# benchmark server on loopback, each mode once, briefly (tests/bench/).
if(TARGET coap-bench)
  add_executable(bench_server_test ${PROJECT_SOURCE_DIR}/bench/bench_server.c)
  target_compile_options(bench_server_test PRIVATE ${PETREL_WARNINGS})
  target_compile_definitions(bench_server_test PRIVATE _GNU_SOURCE)
  target_link_libraries(bench_server_test PRIVATE coap-3)
  add_test(NAME bench_coap_bench_modes
           COMMAND bash ${CMAKE_CURRENT_LIST_DIR}/bench/coap_bench_modes.sh
                   $<TARGET_FILE:coap-bench> $<TARGET_FILE:bench_server_test>)
  set_tests_properties(bench_coap_bench_modes PROPERTIES
    LABELS bench TIMEOUT 120)
  add_executable(udp_echo_test ${PROJECT_SOURCE_DIR}/bench/udp_echo.c)
  target_compile_options(udp_echo_test PRIVATE ${PETREL_WARNINGS})
  add_test(NAME bench_udp_echo
           COMMAND bash ${CMAKE_CURRENT_LIST_DIR}/bench/udp_echo.sh
                   $<TARGET_FILE:coap-bench> $<TARGET_FILE:udp_echo_test>)
  set_tests_properties(bench_udp_echo PROPERTIES LABELS bench TIMEOUT 60)
  if(TARGET coap-bench-conn)
    add_test(NAME bench_coap_bench_conn
             COMMAND bash ${CMAKE_CURRENT_LIST_DIR}/bench/coap_bench_conn.sh
                     $<TARGET_FILE:coap-bench-conn>
                     $<TARGET_FILE:bench_server_test>)
    set_tests_properties(bench_coap_bench_conn PROPERTIES
      LABELS bench TIMEOUT 120)
  endif()
endif()
