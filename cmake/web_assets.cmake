# Front-end assets of the signer portal. npm packages are installed by the build, never
# committed: web/package.json + web/package-lock.json are copied into ${CMAKE_BINARY_DIR}/web-npm
# and `npm ci` runs there, only when the lock changes (or node_modules/ went missing). Then the
# few files the portal serves are copied into ${CMAKE_BINARY_DIR}/assets/pdfjs/, and the app
# module gets that assets directory as FIRMO_DEFAULT_ASSETS_DIR (default of `web.assets_dir`).
#
# pdfjs-dist is pinned to 5.7.284, the newest 5.x: it ships ES-module builds
# (build/pdf.min.mjs, build/pdf.worker.min.mjs) that Chromium loads with <script type="module">
# and a module worker. pdf.js supports only current browsers; Chromium 156 is one, and
# tests/browser/pdfjs.test.mjs renders a page with exactly these copied files to prove it.
# 6.x exists, but the portal was specified against 4.x/5.x and 5.x is the newest such line.
# Its package.json asks for node >= 22.13: that is only for running pdf.js *inside node*,
# which we never do, so npm's EBADENGINE warning under an older node is harmless.
# `--omit=optional` skips @napi-rs/canvas (a native canvas for node only), which keeps the
# install to one package and makes the offline re-install trivially satisfiable from npm's cache.

find_program(FIRMO_NPM NAMES npm)
if(NOT FIRMO_NPM)
  message(FATAL_ERROR
    "npm was not found. The signer portal's assets (pdf.js) and the browser tests are npm "
    "packages installed by the build: run scripts/install-deps.sh (it installs Debian's "
    "`nodejs npm` when `node`/`npm` are missing), or set -DFIRMO_NPM=/path/to/npm.")
endif()

# firmo_npm_ci(OUT_VAR <var> PACKAGE_DIR <dir with package.json + lock> [INSTALL_DIR <dir>]
#              [COMMENT <text>] [NPM_ARGS <extra npm ci arguments...>])
# Adds a custom command running `npm ci` in INSTALL_DIR (default: PACKAGE_DIR itself) and
# sets OUT_VAR to the file it produces (node_modules/.package-lock.json, npm's hidden lockfile,
# touched afterwards) for DEPENDS. Re-runs only when package.json or the lock is newer, or
# node_modules/ was deleted. --prefer-offline: after the first install npm's cache is enough.
function(firmo_npm_ci)
  cmake_parse_arguments(N "" "OUT_VAR;PACKAGE_DIR;INSTALL_DIR;COMMENT" "NPM_ARGS" ${ARGN})
  if(NOT N_INSTALL_DIR)
    set(N_INSTALL_DIR ${N_PACKAGE_DIR})
  endif()
  set(inputs ${N_PACKAGE_DIR}/package.json ${N_PACKAGE_DIR}/package-lock.json)
  set(installed ${N_INSTALL_DIR}/node_modules/.package-lock.json)
  set(copy_step "")
  if(NOT N_INSTALL_DIR STREQUAL N_PACKAGE_DIR)
    file(MAKE_DIRECTORY ${N_INSTALL_DIR})
    set(copy_step COMMAND ${CMAKE_COMMAND} -E copy ${inputs} ${N_INSTALL_DIR}/)
  endif()
  add_custom_command(
    OUTPUT ${installed}
    ${copy_step}
    COMMAND ${FIRMO_NPM} ci --no-audit --no-fund --prefer-offline --loglevel=error
            ${N_NPM_ARGS}
    COMMAND ${CMAKE_COMMAND} -E touch ${installed}
    WORKING_DIRECTORY ${N_INSTALL_DIR}
    DEPENDS ${inputs}
    COMMENT "${N_COMMENT}"
    VERBATIM)
  set(${N_OUT_VAR} ${installed} PARENT_SCOPE)
endfunction()

set(FIRMO_ASSETS_DIR ${CMAKE_BINARY_DIR}/assets)
set(web_npm_dir ${CMAKE_BINARY_DIR}/web-npm)
firmo_npm_ci(OUT_VAR web_npm_installed
             PACKAGE_DIR ${PROJECT_SOURCE_DIR}/web INSTALL_DIR ${web_npm_dir} NPM_ARGS --omit=optional
             COMMENT "npm ci for web/ (pdfjs-dist) in ${web_npm_dir}")

# What the portal serves from pdfjs-dist: the library and its worker (ES modules), the 14
# standard fonts (PDFs that reference Helvetica & co. without embedding them), the CMaps (CJK
# text), and wasm/ + iccs/ (5.x decodes JPEG 2000 and JBIG2 images, common in scanned
# contracts, and ICC colour in WebAssembly, fetched at run time from `wasmUrl`/`iccUrl`).
set(pdfjs_src ${web_npm_dir}/node_modules/pdfjs-dist)
set(pdfjs_out ${FIRMO_ASSETS_DIR}/pdfjs)
set(pdfjs_stamp ${pdfjs_out}/.copied)
add_custom_command(
  OUTPUT ${pdfjs_stamp}
  COMMAND ${CMAKE_COMMAND} -E rm -rf ${pdfjs_out}
  COMMAND ${CMAKE_COMMAND} -E make_directory ${pdfjs_out}
  COMMAND ${CMAKE_COMMAND} -E copy ${pdfjs_src}/build/pdf.min.mjs
          ${pdfjs_src}/build/pdf.worker.min.mjs ${pdfjs_src}/LICENSE ${pdfjs_out}/
  COMMAND ${CMAKE_COMMAND} -E copy_directory ${pdfjs_src}/standard_fonts
          ${pdfjs_out}/standard_fonts
  COMMAND ${CMAKE_COMMAND} -E copy_directory ${pdfjs_src}/cmaps ${pdfjs_out}/cmaps
  COMMAND ${CMAKE_COMMAND} -E copy_directory ${pdfjs_src}/wasm ${pdfjs_out}/wasm
  COMMAND ${CMAKE_COMMAND} -E copy_directory ${pdfjs_src}/iccs ${pdfjs_out}/iccs
  COMMAND ${CMAKE_COMMAND} -E touch ${pdfjs_stamp}
  DEPENDS ${web_npm_installed}
  COMMENT "Copying pdf.js assets into ${pdfjs_out}"
  VERBATIM)
add_custom_target(firmo_web_assets ALL DEPENDS ${pdfjs_stamp})

if(TARGET firmo)
  add_dependencies(firmo firmo_web_assets)
endif()
if(TARGET firmo_app)
  # PUBLIC so the app's unit tests and main see the same default as the library.
  get_target_property(app_type firmo_app TYPE)
  if(app_type STREQUAL "INTERFACE_LIBRARY")
    target_compile_definitions(firmo_app INTERFACE
                               FIRMO_DEFAULT_ASSETS_DIR="${FIRMO_ASSETS_DIR}")
  else()
    target_compile_definitions(firmo_app PUBLIC FIRMO_DEFAULT_ASSETS_DIR="${FIRMO_ASSETS_DIR}")
  endif()
endif()
