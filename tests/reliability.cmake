# Reliability suite (label "reliability"): a fault-injecting UDP relay
# (tests/relay/) between real Petrel peers, Debian's coap-client through the
# relay, a loopback flood, and the server-side tests under valgrind.
find_package(Threads REQUIRED)
set(rel_dir ${CMAKE_CURRENT_LIST_DIR}/reliability)
set(relay_dir ${CMAKE_CURRENT_LIST_DIR}/relay)

add_library(petrel_relay STATIC ${relay_dir}/lossy_relay.c)
target_include_directories(petrel_relay PUBLIC ${relay_dir})
target_compile_options(petrel_relay PRIVATE ${PETREL_WARNINGS})
target_link_libraries(petrel_relay PUBLIC Threads::Threads)

add_executable(lossy_relay ${relay_dir}/main.c)
target_compile_options(lossy_relay PRIVATE ${PETREL_WARNINGS})
target_link_libraries(lossy_relay PRIVATE petrel_relay)

# tests/reliability/test_<name>.c: in-process scenarios over real sockets.
file(GLOB rel_tests CONFIGURE_DEPENDS ${rel_dir}/test_*.c)
foreach(src ${rel_tests})
  get_filename_component(name ${src} NAME_WE)
  add_executable(${name} ${src})
  target_include_directories(${name} PRIVATE ${PROJECT_SOURCE_DIR}/src
                             ${CMAKE_CURRENT_LIST_DIR})
  target_compile_options(${name} PRIVATE ${PETREL_WARNINGS})
  target_compile_definitions(${name} PRIVATE _GNU_SOURCE)
  target_link_libraries(${name} PRIVATE coap-3-static petrel_relay)
  add_test(NAME ${name} COMMAND ${name})
  set_tests_properties(${name} PROPERTIES TIMEOUT 400 LABELS reliability
                       SKIP_RETURN_CODE 77)
endforeach()

if(PETREL_TOOLS AND TARGET seed_async_server)
  add_test(NAME reliability_debian_client_lossy
           COMMAND bash ${rel_dir}/debian_client_lossy.sh
                   $<TARGET_FILE:seed_async_server> $<TARGET_FILE:lossy_relay>)
  set_tests_properties(reliability_debian_client_lossy PROPERTIES
    LABELS "reliability;interop" TIMEOUT 300 SKIP_RETURN_CODE 77)
endif()

# valgrind memcheck cannot run sanitizer builds: the script builds a plain
# tree of its own under this build directory and runs the server-side tests
# and the seed example there.
add_test(NAME valgrind_server_tests
         COMMAND bash ${rel_dir}/valgrind.sh ${PROJECT_SOURCE_DIR}
                 ${CMAKE_BINARY_DIR}/valgrind-plain)
set_tests_properties(valgrind_server_tests PROPERTIES
  LABELS "valgrind;reliability" TIMEOUT 1200 SKIP_RETURN_CODE 77)
# The flood saturates loopback and both cores: alone, so that neither it nor
# the timing of other tests suffers.
if(TEST test_flood)
  set_tests_properties(test_flood PROPERTIES RUN_SERIAL TRUE)
endif()
