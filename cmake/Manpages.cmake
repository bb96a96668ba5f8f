# Manual pages: written in troff in doc/man/ (NAME.SECTION), compressed at
# build time (gzip -n: no name or time stamp, so the result is reproducible)
# and installed to share/man/manN/ by `cmake --install` and the .deb.
# tests/man.cmake renders every page with man --warnings. As libcoap's
# packages do, every function a section 3 page names in its NAME section
# gets a link to that page (coap_register_async.3.gz -> coap_async.3.gz), so
# `man coap_register_async` finds it.
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

# The names on a section 3 page's NAME lines (before "\-"), into @out.
function(petrel_man_names page out)
  file(READ ${page} text)
  string(FIND "${text}" ".SH NAME" at)
  set(names "")
  if(at GREATER -1)
    math(EXPR at "${at} + 8")
    string(SUBSTRING "${text}" ${at} -1 block)
    string(FIND "${block}" "\\" end) # the "\-" before the description
    if(end GREATER -1)
      string(SUBSTRING "${block}" 0 ${end} block)
      string(REGEX MATCHALL "[A-Za-z_][A-Za-z0-9_]*" names "${block}")
    endif()
  endif()
  set(${out} ${names} PARENT_SCOPE)
endfunction()

set(PETREL_MAN_LINKS "")
foreach(page ${PETREL_MANPAGES})
  get_filename_component(name ${page} NAME)
  if(NOT name MATCHES "\\.3$")
    continue()
  endif()
  string(REGEX REPLACE "\\.3$" "" stem ${name})
  petrel_man_names(${page} names)
  foreach(fn ${names})
    if(fn STREQUAL stem OR fn IN_LIST PETREL_MAN_LINKS)
      continue()
    endif()
    list(APPEND PETREL_MAN_LINKS ${fn})
    install(CODE "
      set(dir \"\$ENV{DESTDIR}\${CMAKE_INSTALL_PREFIX}/${CMAKE_INSTALL_MANDIR}/man3\")
      file(MAKE_DIRECTORY \"\${dir}\")
      file(CREATE_LINK ${name}.gz \"\${dir}/${fn}.3.gz\" SYMBOLIC)")
  endforeach()
endforeach()
