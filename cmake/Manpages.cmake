# Manual pages: written in troff in doc/man/ (NAME.SECTION), compressed at
# build time (gzip -n: no name or time stamp, so the result is reproducible)
# and installed to share/man/manN/ by `cmake --install` and the .deb.
# tests/man.cmake renders every page with man --warnings.
file(GLOB PETREL_MANPAGES CONFIGURE_DEPENDS
     ${PROJECT_SOURCE_DIR}/doc/man/*.1 ${PROJECT_SOURCE_DIR}/doc/man/*.3)
set(PETREL_MANPAGES_GZ "")
foreach(page ${PETREL_MANPAGES})
  get_filename_component(name ${page} NAME)
  string(REGEX REPLACE ".*\\.([0-9])$" "\\1" section ${name})
  set(gz ${PROJECT_BINARY_DIR}/man/man${section}/${name}.gz)
  add_custom_command(OUTPUT ${gz}
    COMMAND ${CMAKE_COMMAND} -E make_directory ${PROJECT_BINARY_DIR}/man/man${section}
    COMMAND sh -c "gzip -9n <\"$0\" >\"$1\"" ${page} ${gz}
    DEPENDS ${page} VERBATIM)
  list(APPEND PETREL_MANPAGES_GZ ${gz})
  install(FILES ${gz} DESTINATION ${CMAKE_INSTALL_MANDIR}/man${section})
endforeach()
add_custom_target(manpages ALL DEPENDS ${PETREL_MANPAGES_GZ})
