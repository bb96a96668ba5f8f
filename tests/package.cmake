# ABI and packaging (label "package").
#
# abi_version_nodes: the shared libraries define libcoap's version node
# VER_3 for libcoap's API and PETREL_0.1 for Petrel's additions.
set(pkg_dir ${CMAKE_CURRENT_LIST_DIR}/package)
add_test(NAME abi_version_nodes
         COMMAND bash ${pkg_dir}/version_nodes.sh $<TARGET_FILE:coap-3>
                 $<TARGET_FILE:coap-3-notls>)
set_tests_properties(abi_version_nodes PROPERTIES LABELS "package;unit"
                     TIMEOUT 60)
