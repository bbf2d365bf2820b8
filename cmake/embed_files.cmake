# Writes a C++ file defining firmo::web::EmbeddedFile(name): the text of each file in FILES
# (a ;-separated list of absolute paths), keyed by its file name. Used for the portal's
# templates, stylesheet and script, so the binary needs no template folder at run time.
# NAMESPACE (default firmo::web) names the function's namespace: the message catalogues of
# src/i18n are embedded the same way.
if(NOT NAMESPACE)
  set(NAMESPACE firmo::web)
endif()
set(body "")
set(names "")
foreach(path IN LISTS FILES)
  get_filename_component(name ${path} NAME)
  file(READ ${path} content)
  string(APPEND body "        {\"${name}\", R\"FIRMO_EMBED(${content})FIRMO_EMBED\"},\n")
  string(APPEND names "        \"${name}\",\n")
endforeach()
file(WRITE ${OUT} "#include <map>\n#include <string>\n#include <string_view>\n#include <vector>\nnamespace ${NAMESPACE} {\nstd::string_view EmbeddedFile(std::string_view name) {\n    static const std::map<std::string, std::string_view, std::less<>> kFiles = {\n${body}    };\n    auto it = kFiles.find(name);\n    return it == kFiles.end() ? std::string_view() : it->second;\n}\nstd::vector<std::string_view> EmbeddedFileNames() {\n    return {\n${names}    };\n}\n}  // namespace ${NAMESPACE}\n")
