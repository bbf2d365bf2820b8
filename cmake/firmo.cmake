# Shared build helpers: warnings, and one static library per module whose sources are
# collected by suffix (foo.cpp is library code, foo_test.cpp a unit test, foo_bench.cpp a
# benchmark), so modules never edit each other's build files.

add_library(firmo_warnings INTERFACE)
target_compile_options(firmo_warnings INTERFACE
  -Wall -Wextra -Wpedantic -Wshadow -Wconversion -Wold-style-cast -Wnon-virtual-dtor
  # Value types give every member a default; brace-initialising the leading ones is intended.
  -Wno-missing-field-initializers
  $<$<BOOL:${FIRMO_WERROR}>:-Werror>
  # GCC 12 reports -Wrestrict false positives inside std::string at -O2/-O3 (GCC bug 105329).
  $<$<AND:$<CXX_COMPILER_ID:GNU>,$<VERSION_LESS:$<CXX_COMPILER_VERSION>,13>>:-Wno-restrict>)

# firmo_module(NAME <module> DEPS <targets...> [PRIVATE_DEPS <targets...>] [TEST_DEPS <targets...>]
#              [TEST_PREFIX <prefix>])
# TEST_PREFIX is prepended to the discovered test names (e.g. "oidc." so `ctest -R oidc` selects
# the module's tests); without it the names stay "Suite.Test".
function(firmo_module)
  cmake_parse_arguments(M "" "NAME;TEST_PREFIX" "DEPS;PRIVATE_DEPS;TEST_DEPS" ${ARGN})
  file(GLOB_RECURSE all_sources CONFIGURE_DEPENDS
       ${CMAKE_CURRENT_SOURCE_DIR}/*.cpp)
  set(lib_sources "")
  set(test_sources "")
  foreach(src IN LISTS all_sources)
    if(src MATCHES "_test\\.cpp$")
      list(APPEND test_sources ${src})
    elseif(src MATCHES "_bench\\.cpp$" OR src MATCHES "_fuzz\\.cpp$" OR src MATCHES "/main\\.cpp$")
      # benchmarks, fuzzers and main are built elsewhere
    else()
      list(APPEND lib_sources ${src})
    endif()
  endforeach()
  set(target firmo_${M_NAME})
  if(lib_sources)
    add_library(${target} STATIC ${lib_sources})
    target_include_directories(${target} PUBLIC ${PROJECT_SOURCE_DIR}/src)
    target_link_libraries(${target} PUBLIC ${M_DEPS} PRIVATE firmo_warnings ${M_PRIVATE_DEPS})
  else()
    add_library(${target} INTERFACE)
    target_include_directories(${target} INTERFACE ${PROJECT_SOURCE_DIR}/src)
    target_link_libraries(${target} INTERFACE ${M_DEPS})
  endif()
  if(FIRMO_BUILD_TESTS AND test_sources)
    add_executable(${target}_test ${test_sources})
    target_link_libraries(${target}_test PRIVATE ${target} ${M_PRIVATE_DEPS} ${M_TEST_DEPS}
                          firmo_warnings GTest::gtest GTest::gmock GTest::gtest_main)
    set(prefix_args "")
    if(M_TEST_PREFIX)
      set(prefix_args TEST_PREFIX ${M_TEST_PREFIX})
    endif()
    gtest_discover_tests(${target}_test DISCOVERY_MODE PRE_TEST ${prefix_args}
                         PROPERTIES LABELS "unit;${M_NAME}")
  endif()
endfunction()
