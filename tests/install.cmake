# The install/consumer check: the installed headers, libraries, pkg-config
# files and CMake package serve an application written like a libcoap one.
# The consumer is built with this build's compiler and sanitizer flags, as
# a sanitized library needs its runtime in the application too.
set(consumer_flags "")
if(PETREL_SANITIZE)
  set(consumer_flags "-fsanitize=address,undefined")
elseif(PETREL_TSAN)
  set(consumer_flags "-fsanitize=thread")
endif()
add_test(NAME install_consumer
         COMMAND ${CMAKE_COMMAND} -E env CC=${CMAKE_C_COMPILER}
                 "CONSUMER_FLAGS=${consumer_flags}"
                 bash ${CMAKE_CURRENT_LIST_DIR}/consumer/check.sh
                 ${PROJECT_BINARY_DIR})
set_tests_properties(install_consumer PROPERTIES LABELS install TIMEOUT 300)

# The seed page's handler is carried verbatim (examples/seed_handler.h).
add_test(NAME seed_handler_verbatim
         COMMAND bash ${CMAKE_CURRENT_LIST_DIR}/seed_verbatim.sh)
set_tests_properties(seed_handler_verbatim PROPERTIES LABELS unit
                     TIMEOUT 30 SKIP_RETURN_CODE 77)

# Installed programs find the installed library through their RUNPATH.
if(PETREL_TOOLS)
  add_test(NAME install_runpath
           COMMAND bash ${CMAKE_CURRENT_LIST_DIR}/consumer/runpath.sh
                   ${PROJECT_BINARY_DIR})
  set_tests_properties(install_runpath PROPERTIES LABELS install TIMEOUT 120)
endif()
