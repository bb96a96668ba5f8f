# The Debian package: `cpack -G DEB` in a build tree configured with
# -DCMAKE_BUILD_TYPE=Release -DCMAKE_INSTALL_PREFIX=/usr (so that the
# libraries land in /usr/lib/<multiarch>) makes petrel_<version>_<arch>.deb
# with the libraries, the tools, the headers, the pkg-config and CMake
# files, the manual pages and the Debian copyright and changelog files.
# tests/package.cmake builds it, unpacks it, runs it and runs lintian on it.

# The files /usr/share/doc/petrel/ must hold in a Debian package.
set(PETREL_DEB_CHANGELOG ${PROJECT_BINARY_DIR}/changelog.Debian.gz)
add_custom_command(OUTPUT ${PETREL_DEB_CHANGELOG}
  COMMAND sh -c "gzip -9n <\"$0\" >\"$1\"" ${PROJECT_SOURCE_DIR}/cmake/deb/changelog
          ${PETREL_DEB_CHANGELOG}
  DEPENDS ${PROJECT_SOURCE_DIR}/cmake/deb/changelog VERBATIM)
add_custom_target(deb_changelog ALL DEPENDS ${PETREL_DEB_CHANGELOG})
install(FILES ${PROJECT_SOURCE_DIR}/cmake/deb/copyright ${PETREL_DEB_CHANGELOG}
        DESTINATION ${CMAKE_INSTALL_DOCDIR})

set(CPACK_GENERATOR DEB)
set(CPACK_PACKAGE_NAME petrel)
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_PACKAGE_VENDOR Petrel)
set(CPACK_PACKAGE_CONTACT
    "Petrel maintainers <maintainers@users.noreply.r-seed-f960aa35.example>")
set(CPACK_DEBIAN_PACKAGE_MAINTAINER ${CPACK_PACKAGE_CONTACT})
# The Debian revision comes from the newest entry of cmake/deb/changelog,
# whose upstream part must be the project's version: the package's Version
# and its changelog cannot disagree.
file(STRINGS ${PROJECT_SOURCE_DIR}/cmake/deb/changelog petrel_deb_top LIMIT_COUNT 1)
if(NOT petrel_deb_top MATCHES "^petrel \\(([0-9.]+)-([0-9]+)\\) ")
  message(FATAL_ERROR "cmake/deb/changelog: the first line is not "
          "'petrel (VERSION-REVISION) ...': ${petrel_deb_top}")
endif()
if(NOT CMAKE_MATCH_1 STREQUAL PROJECT_VERSION)
  message(FATAL_ERROR "cmake/deb/changelog: newest entry is for ${CMAKE_MATCH_1}, "
          "the project is ${PROJECT_VERSION}")
endif()
set(CPACK_DEBIAN_PACKAGE_RELEASE ${CMAKE_MATCH_2})
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_SECTION libs)
set(CPACK_DEBIAN_PACKAGE_PRIORITY optional)
set(CPACK_DEBIAN_PACKAGE_DESCRIPTION
"CoAP (RFC 7252) library with the API of libcoap 4.3.4
Petrel is a CoAP library in C whose public API is libcoap 4.3.4's:
applications include <coap3/coap.h> and link with -lcoap-3,
-lcoap-3-openssl or -lcoap-3-notls, and programs built against libcoap
run on it. It does CoAP over UDP, over TCP (RFC 8323) and over
DTLS 1.2 on OpenSSL 3 (pre-shared keys and certificates),
Observe (RFC 7641) with observers kept across restarts, separate
responses, block-wise transfers and extended tokens. There is no TLS or
WebSocket transport.

This package holds the shared and static libraries libcoap-3-openssl
(DTLS), libcoap-3-notls (no DTLS) and libcoap-3 (the OpenSSL build), the
headers, the pkg-config and CMake files, the tools coap-client and
coap-server (with libcoap's DTLS options) and coap-bench, and manual
pages.")
# Depends: computed by dpkg-shlibdeps (libc, and libssl3 for the OpenSSL
# build). Our own libraries are found
# in the build tree, not on the system.
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS_PRIVATE_DIRS ${PROJECT_BINARY_DIR})
set(CPACK_DEBIAN_PACKAGE_GENERATE_SHLIBS ON)
set(CPACK_DEBIAN_PACKAGE_GENERATE_SHLIBS_POLICY ">=")
# The loader cache is refreshed through dpkg's ldconfig trigger.
set(CPACK_DEBIAN_PACKAGE_CONTROL_EXTRA ${PROJECT_SOURCE_DIR}/cmake/deb/triggers)
set(CPACK_DEBIAN_PACKAGE_CONTROL_STRICT_PERMISSION ON)
# The relation to Debian's libcoap packages. Petrel ships the same sonames
# (libcoap-3.so.3, libcoap-3-openssl.so.3, libcoap-3-notls.so.3), the same
# headers (coap3/*.h), the same pkg-config names and the same section 3
# page names as libcoap3 and libcoap3-dev, in the same directories: the
# packages cannot be installed together (Conflicts) and Petrel takes those
# paths over (Replaces). libcoap3-bin needs exactly Debian's libcoap3, so
# it goes with it. Nothing is Provided: libcoap3 also ships
# libcoap-3-gnutls.so.3, which Petrel does not, so a package that depends
# on libcoap3 (such as libcoap3-bin with its -gnutls tools) would not run
# on Petrel.
set(CPACK_DEBIAN_PACKAGE_CONFLICTS "libcoap3, libcoap3-dev")
set(CPACK_DEBIAN_PACKAGE_REPLACES "libcoap3, libcoap3-dev")
set(CPACK_STRIP_FILES ON)
include(CPack)
