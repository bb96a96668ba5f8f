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

# The fixture: a Release tree without sanitizers, configured for /usr, and
# its .deb (tests/package/release_tree.sh). It needs cpack's DEB generator
# (dpkg-deb, dpkg-shlibdeps: dpkg-dev).
set(release_tree ${PROJECT_BINARY_DIR}/release-tree)
add_test(NAME package_release_tree
         COMMAND bash ${pkg_dir}/release_tree.sh ${PROJECT_SOURCE_DIR}
                 ${release_tree} ${CMAKE_C_COMPILER})
set_tests_properties(package_release_tree PROPERTIES LABELS package
                     TIMEOUT 300 FIXTURES_SETUP petrel_release_tree)

# Debian's coap-client-notls and coap-server-notls on Petrel's library.
add_test(NAME abi_debian_binaries
         COMMAND bash ${pkg_dir}/debian_binaries.sh ${release_tree})
# The .deb: fields, contents, its tools run unpacked, lintian.
add_test(NAME package_deb COMMAND bash ${pkg_dir}/deb.sh ${release_tree})
set_tests_properties(abi_debian_binaries package_deb PROPERTIES
  LABELS "package;interop" TIMEOUT 120 SKIP_RETURN_CODE 77
  FIXTURES_REQUIRED petrel_release_tree)

# The manual pages (doc/man): rendered by man --warnings, SYNOPSIS checked
# against the headers, EXAMPLES compiled, every tool option documented.
set(man_programs "")
foreach(tool coap-client coap-server coap-bench)
  if(TARGET ${tool})
    list(APPEND man_programs $<TARGET_FILE:${tool}>)
  endif()
endforeach()
add_test(NAME man_pages
         COMMAND bash ${pkg_dir}/man.sh ${PROJECT_SOURCE_DIR}
                 ${CMAKE_C_COMPILER} ${man_programs})
set_tests_properties(man_pages PROPERTIES LABELS "package;unit" TIMEOUT 120
                     SKIP_RETURN_CODE 77)
