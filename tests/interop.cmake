# Interop tests (label "interop"): real peers on loopback. Debian's libcoap
# tools (coap-client-notls, coap-server-notls) and the node-coap client are
# installed by scripts/deps; a script whose peer is missing exits 77 and the
# test is reported as skipped. Servers use ephemeral ports.
if(PETREL_TOOLS AND TARGET coap-server AND TARGET coap-client)
  set(interop_dir ${CMAKE_CURRENT_LIST_DIR}/interop)
  # lib.sh's waits themselves: late conditions met, absent ones not.
  add_test(NAME interop_lib_waits COMMAND bash ${interop_dir}/lib_waits.sh)
  set_tests_properties(interop_lib_waits PROPERTIES LABELS interop TIMEOUT 120)
  add_test(NAME interop_debian_client_vs_server
           COMMAND bash ${interop_dir}/debian_client_vs_server.sh
                   $<TARGET_FILE:coap-server>)
  add_test(NAME interop_our_client_vs_debian_server
           COMMAND bash ${interop_dir}/our_client_vs_debian_server.sh
                   $<TARGET_FILE:coap-client>)
  add_test(NAME interop_node_client_vs_server
           COMMAND bash ${interop_dir}/node_client_vs_server.sh
                   $<TARGET_FILE:coap-server>)
  # Block-wise transfers (RFC 7959), large bodies both ways.
  add_test(NAME interop_block_debian_client_vs_server
           COMMAND bash ${interop_dir}/block_debian_client_vs_server.sh
                   $<TARGET_FILE:coap-server> $<TARGET_FILE:coap-client>)
  add_test(NAME interop_block_our_client_vs_debian_server
           COMMAND bash ${interop_dir}/block_our_client_vs_debian_server.sh
                   $<TARGET_FILE:coap-client>)
  add_test(NAME interop_block_node_client_vs_server
           COMMAND bash ${interop_dir}/block_node_client_vs_server.sh
                   $<TARGET_FILE:coap-server>)
  # Per-block mode (coap-server -L 1): Block1 blocks reach the handler.
  add_test(NAME interop_block_debian_client_vs_per_block_server
           COMMAND bash ${interop_dir}/block_debian_client_vs_per_block_server.sh
                   $<TARGET_FILE:coap-server> $<TARGET_FILE:coap-client>)
  # Our client against a server that gets block-wise wrong on purpose.
  add_test(NAME interop_block_client_failures
           COMMAND bash ${interop_dir}/block_client_failures.sh
                   $<TARGET_FILE:coap-client>)
  set(interop_tests interop_debian_client_vs_server
      interop_our_client_vs_debian_server interop_node_client_vs_server
      interop_block_debian_client_vs_server
      interop_block_our_client_vs_debian_server
      interop_block_node_client_vs_server
      interop_block_debian_client_vs_per_block_server
      interop_block_client_failures)
  # /.well-known/core with 40 resources, fetched block-wise.
  add_executable(wellknown_server ${interop_dir}/wellknown_server.c)
  target_compile_options(wellknown_server PRIVATE ${PETREL_WARNINGS})
  target_compile_definitions(wellknown_server PRIVATE _GNU_SOURCE)
  target_link_libraries(wellknown_server PRIVATE coap-3)
  add_test(NAME interop_wellknown_debian_client
           COMMAND bash ${interop_dir}/wellknown_debian_client.sh
                   $<TARGET_FILE:wellknown_server>)
  list(APPEND interop_tests interop_wellknown_debian_client)
  if(TARGET seed_async_server)
    add_test(NAME interop_seed_async_vs_debian_client
             COMMAND bash ${interop_dir}/seed_async_vs_debian_client.sh
                     $<TARGET_FILE:seed_async_server>)
    list(APPEND interop_tests interop_seed_async_vs_debian_client)
  endif()
  # Responses with options the client must reject (RFC 7252 5.4.1).
  add_test(NAME interop_client_rejects_bad_option
           COMMAND bash ${interop_dir}/client_rejects_bad_option.sh
                   $<TARGET_FILE:coap-client>)
  list(APPEND interop_tests interop_client_rejects_bad_option)
  add_test(NAME interop_observe
           COMMAND bash ${interop_dir}/observe.sh
                   $<TARGET_FILE:coap-client> $<TARGET_FILE:coap-server>)
  add_test(NAME interop_observe_node
           COMMAND bash ${interop_dir}/observe_node.sh
                   $<TARGET_FILE:coap-client> $<TARGET_FILE:coap-server>)
  # Observers across SIGKILL and a restart (coap_persist(3), -t).
  add_test(NAME interop_observe_restart
           COMMAND bash ${interop_dir}/observe_restart.sh
                   $<TARGET_FILE:coap-client> $<TARGET_FILE:coap-server>)
  list(APPEND interop_tests interop_observe interop_observe_node
       interop_observe_restart)
  # coap+tcp:// (RFC 8323) both ways with Debian's libcoap tools.
  add_test(NAME interop_tcp
           COMMAND bash ${interop_dir}/tcp.sh
                   $<TARGET_FILE:coap-server> $<TARGET_FILE:coap-client>)
  list(APPEND interop_tests interop_tcp)
  # coap+ws:// (RFC 8323 section 4): a Node client on the npm package ws,
  # our coap-client; and examples/ws-browser/ in headless Chromium.
  add_test(NAME interop_ws
           COMMAND bash ${interop_dir}/ws.sh
                   $<TARGET_FILE:coap-server> $<TARGET_FILE:coap-client>)
  add_test(NAME interop_ws_browser
           COMMAND bash ${interop_dir}/ws_browser.sh
                   $<TARGET_FILE:coap-server>
                   ${PROJECT_SOURCE_DIR}/examples/ws-browser)
  list(APPEND interop_tests interop_ws interop_ws_browser)
  # coaps:// with pre-shared keys against Debian's OpenSSL and GnuTLS builds.
  if(PETREL_OPENSSL)
    add_test(NAME interop_dtls_psk
             COMMAND bash ${interop_dir}/dtls_psk.sh
                     $<TARGET_FILE:coap-server> $<TARGET_FILE:coap-client>)
    add_test(NAME interop_dtls_pki
             COMMAND bash ${interop_dir}/dtls_pki.sh
                     $<TARGET_FILE:coap-server> $<TARGET_FILE:coap-client>)
    # coap-client -h match_hint_file: the PSK chosen by the server's hint.
    add_test(NAME interop_dtls_psk_hint
             COMMAND bash ${interop_dir}/dtls_psk_hint.sh
                     $<TARGET_FILE:coap-server> $<TARGET_FILE:coap-client>)
    # coaps+tcp:// (RFC 8323 over TLS), PSK and certificates, both ways.
    add_test(NAME interop_tls
             COMMAND bash ${interop_dir}/tls.sh
                     $<TARGET_FILE:coap-server> $<TARGET_FILE:coap-client>)
    # coaps+ws:// (RFC 8323 section 4 over TLS): our client and a Node
    # client on the npm package ws against our coap-server.
    add_test(NAME interop_wss
             COMMAND bash ${interop_dir}/wss.sh
                     $<TARGET_FILE:coap-server> $<TARGET_FILE:coap-client>)
    list(APPEND interop_tests interop_dtls_psk interop_dtls_pki
         interop_dtls_psk_hint interop_tls interop_wss)
  endif()
  set_tests_properties(${interop_tests} PROPERTIES
    LABELS interop TIMEOUT 180 SKIP_RETURN_CODE 77)
  if(PETREL_OPENSSL) # four peers, two kinds of credentials, and controls
    set_tests_properties(interop_tls PROPERTIES TIMEOUT 400)
  endif()
endif()
