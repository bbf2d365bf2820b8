# Writes a C++ file defining firmo::api::OpenApiYaml() returning the text of IN.
file(READ ${IN} content)
set(delim "FIRMO_EMBED")
file(WRITE ${OUT} "#include <string_view>\nnamespace firmo::api {\nstd::string_view OpenApiYaml() {\n    static constexpr std::string_view kText = R\"${delim}(${content})${delim}\";\n    return kText;\n}\n}  // namespace firmo::api\n")
