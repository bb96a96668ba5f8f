# doc/functions.md against the built library (label "unit"): every exported
# symbol has a row, every row is exported in the version node the table
# implies (VER_3 for libcoap's API, PETREL_0.1 for Petrel's own), no row is
# a "stub", and every function marked "not available in this build" or "no
# effect in this build" says so in its header comment.
add_test(NAME functions_table
         COMMAND bash ${CMAKE_CURRENT_LIST_DIR}/functions_table.sh
                 $<TARGET_FILE:coap-3> ${PROJECT_SOURCE_DIR}/doc/functions.md
                 ${PROJECT_SOURCE_DIR}/include)
set_tests_properties(functions_table PROPERTIES TIMEOUT 60 LABELS unit)

# coap-client names the transport a URI's scheme needs when this build
# lacks it, instead of failing to resolve the host.
if(PETREL_TOOLS AND TARGET coap-client)
  add_test(NAME client_unbuilt_scheme
           COMMAND bash ${CMAKE_CURRENT_LIST_DIR}/client_unbuilt_scheme.sh
                   $<TARGET_FILE:coap-client>)
  set_tests_properties(client_unbuilt_scheme PROPERTIES TIMEOUT 30 LABELS unit)
endif()
