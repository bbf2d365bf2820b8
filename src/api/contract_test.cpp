// The descriptions of api/contract.cpp against docs/openapi.yaml (converted to JSON at build
// time) and docs/API.md: every described body, part and query parameter is in the spec with the
// same types, required members, limits and enums, and the other way round; the error table is
// documented row by row. Then the descriptions at work: the parser and the allowed members they
// make.

#include "api/contract.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <fstream>
#include <set>
#include <sstream>

#include "api/problem.hpp"

namespace firmo::api {
namespace {

using codec::Json;

std::string ReadFile(const char* path) {
    std::ifstream in(path, std::ios::binary);
    std::stringstream s;
    s << in.rdbuf();
    return s.str();
}

const Json& Spec() {
    static const Json spec = Json::parse(ReadFile(FIRMO_OPENAPI_JSON));
    return spec;
}

const Json& Resolve(const Json& j) {
    if (j.is_object() && j.contains("$ref")) {
        const std::string ref = j["$ref"];  // "#/components/schemas/X"
        return Resolve(Spec().at(Json::json_pointer(ref.substr(1))));
    }
    return j;
}

bool OnlyRequiredLists(const Json& alternatives) {
    return std::all_of(alternatives.begin(), alternatives.end(), [](const Json& a) {
        return a.is_object() && a.size() == 1 && a.contains("required");
    });
}

// The part of a JSON Schema that a description states: types, members, required, limits,
// enums, formats. Prose (description, default, examples) and cross-member rules written as
// anyOf/oneOf of `required` lists are left out; those rules live in Object::Rule.
Json Normalize(const Json& in) {
    const Json& j = Resolve(in);
    Json out = Json::object();
    for (const auto& [key, value] : j.items()) {
        if (key == "type") {
            if (value.is_array()) {
                Json types = Json::array();
                for (const auto& t : value) {
                    if (t != "null") types.push_back(t);  // a null member counts as absent
                }
                out[key] = types.size() == 1 ? types[0] : types;
            } else {
                out[key] = value;
            }
        } else if (key == "properties") {
            Json props = Json::object();
            for (const auto& [name, schema] : value.items()) props[name] = Normalize(schema);
            out[key] = props;
        } else if (key == "items") {
            out[key] = Normalize(value);
        } else if (key == "oneOf" || key == "anyOf") {
            if (OnlyRequiredLists(value)) continue;
            Json alternatives = Json::array();
            for (const auto& a : value) alternatives.push_back(Normalize(a));
            out[key] = alternatives;
        } else if (key == "required") {
            std::vector<std::string> names = value;
            std::sort(names.begin(), names.end());
            out[key] = names;
        } else if (key == "minimum" || key == "maximum" || key == "exclusiveMinimum") {
            out[key] = value.get<double>();  // 14400 and 14400.0 are one limit
        } else if (key == "enum" || key == "additionalProperties" || key == "minLength" ||
                   key == "maxLength" || key == "minItems" || key == "maxItems" ||
                   key == "format" || key == "pattern") {
            out[key] = value;
        }
    }
    return out;
}

// Every difference, with where it is: "body.properties.title.maxLength: code 120, spec 100".
void Diff(const Json& code, const Json& spec, const std::string& where,
          std::vector<std::string>& out) {
    if (code.is_object() && spec.is_object()) {
        std::set<std::string> keys;
        for (const auto& [k, v] : code.items()) keys.insert(k);
        for (const auto& [k, v] : spec.items()) keys.insert(k);
        for (const auto& k : keys) {
            const std::string at = where + "." + k;
            if (!code.contains(k)) {
                out.push_back(at + ": only in the spec (" + spec[k].dump() + ")");
            } else if (!spec.contains(k)) {
                out.push_back(at + ": only in the code (" + code[k].dump() + ")");
            } else {
                Diff(code[k], spec[k], at, out);
            }
        }
        return;
    }
    if (code.is_array() && spec.is_array() && code.size() == spec.size() && !code.empty() &&
        code[0].is_object()) {
        for (std::size_t i = 0; i < code.size(); ++i) {
            Diff(code[i], spec[i], where + "[" + std::to_string(i) + "]", out);
        }
        return;
    }
    if (code != spec) out.push_back(where + ": code " + code.dump() + ", spec " + spec.dump());
}

std::string Lower(std::string s) {
    std::transform(s.begin(), s.end(), s.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    return s;
}

std::string Upper(std::string s) {
    std::transform(s.begin(), s.end(), s.begin(),
                   [](unsigned char c) { return static_cast<char>(std::toupper(c)); });
    return s;
}

Json QueryParamSchema(const QueryParam& p) {
    Json j = Json::object();
    if (p.type == QueryParam::Type::kInteger) {
        j["type"] = "integer";
        if (p.minimum) j["minimum"] = static_cast<double>(*p.minimum);
        if (p.maximum) j["maximum"] = static_cast<double>(*p.maximum);
    } else {
        j["type"] = "string";
        if (p.max_length > 0) j["maxLength"] = p.max_length;
        if (!p.values.empty()) j["enum"] = p.values;
    }
    return j;
}

// The spec's query parameters of an operation, name -> normalized schema.
std::map<std::string, Json> SpecQuery(const Json& operation) {
    std::map<std::string, Json> out;
    for (const auto& p : operation.value("parameters", Json::array())) {
        const Json& param = Resolve(p);
        if (param["in"] == "query") out[param["name"]] = Normalize(param["schema"]);
    }
    return out;
}

TEST(Contract, EveryDescribedEndpointIsInTheSpecWithTheSameInputs) {
    for (const Endpoint& e : Endpoints()) {
        SCOPED_TRACE(e.method + " " + e.pattern);
        const Json& paths = Spec()["paths"];
        ASSERT_TRUE(paths.contains(e.pattern));
        const std::string method = Lower(e.method);
        ASSERT_TRUE(paths[e.pattern].contains(method));
        const Json& op = paths[e.pattern][method];
        const Json content = op.contains("requestBody")
                                 ? Resolve(op["requestBody"]).value("content", Json::object())
                                 : Json::object();

        std::vector<std::string> diffs;
        if (e.body) {
            ASSERT_TRUE(content.contains("application/json")) << "no JSON body in the spec";
            Diff(Normalize(*e.body), Normalize(content["application/json"]["schema"]), "body",
                 diffs);
        } else {
            EXPECT_FALSE(content.contains("application/json")) << "a JSON body only in the spec";
        }
        for (const auto& [name, schema] : e.json_parts) {
            const Json& parts = Resolve(content["multipart/form-data"]["schema"])["properties"];
            ASSERT_TRUE(parts.contains(name)) << name;
            Diff(Normalize(*schema), Normalize(parts[name]), "part " + name, diffs);
        }

        std::map<std::string, Json> code_query;
        for (const QueryParam& p : e.query) code_query[p.name] = QueryParamSchema(p);
        const auto spec_query = SpecQuery(op);
        for (const auto& [name, schema] : code_query) {
            if (!spec_query.count(name)) {
                diffs.push_back("query " + name + ": only in the code");
            } else {
                Diff(schema, spec_query.at(name), "query " + name, diffs);
            }
        }
        for (const auto& [name, schema] : spec_query) {
            if (!code_query.count(name)) diffs.push_back("query " + name + ": only in the spec");
        }
        for (const auto& d : diffs) ADD_FAILURE() << d;
    }
}

TEST(Contract, SpecOperationsWithInputsAreAllDescribed) {
    for (const auto& [path, operations] : Spec()["paths"].items()) {
        for (const auto& [method, op] : operations.items()) {
            if (!op.is_object() || method == "parameters") continue;
            if (FindEndpoint(Upper(method), path)) continue;
            // Not an API endpoint of the contract (health, the capability URLs, this document):
            // then it takes no query parameters and no JSON body.
            SCOPED_TRACE(method + " " + path);
            EXPECT_TRUE(SpecQuery(op).empty());
            if (op.contains("requestBody")) {
                EXPECT_FALSE(Resolve(op["requestBody"])["content"].contains("application/json"));
            }
        }
    }
}

TEST(Contract, ProblemTypesInTheSpecAreTheErrorTable) {
    std::set<std::string> from_table;
    for (const ErrorKind& kind : AllErrorKinds()) from_table.insert(ProblemType(kind.code));
    const Json& types = Spec()["components"]["schemas"]["Problem"]["properties"]["type"]["enum"];
    EXPECT_EQ(std::set<std::string>(types.begin(), types.end()), from_table);
}

TEST(Contract, ApiMdDocumentsEveryRowOfTheErrorTable) {
    const std::string doc = ReadFile(FIRMO_API_MD);
    for (const ErrorKind& kind : AllErrorKinds()) {
        const std::string row = "| " + std::to_string(kind.http_status) + " | `" +
                                ProblemType(kind.code) + "` | " + std::string(kind.title) + " | " +
                                std::string(kind.when) + " |";
        EXPECT_NE(doc.find(row), std::string::npos) << "docs/API.md lacks the row\n" << row;
    }
}

// ---- The descriptions at work ---------------------------------------------------------------

template <typename T>
std::vector<Violation> ViolationsOf(const codec::Spec<T>& spec, const char* json) {
    auto parsed = codec::ParseWith(spec, Json::parse(json));
    return parsed ? std::vector<Violation>{} : parsed.error().violations;
}

TEST(Contract, SignatureRequestBodyAcceptsAutoNotify) {
    // Documented in API.md and openapi.yaml, and once refused as "not a known field".
    auto parsed = codec::ParseWith(
        SignatureRequestBodySpec(),
        Json::parse(R"({"dossier_id": "D", "signer_id": "S", "auto_notify": true})"));
    ASSERT_TRUE(parsed) << parsed.error().message;
    EXPECT_TRUE(parsed->ToInput().auto_notify);
    EXPECT_EQ(ViolationsOf(SignatureRequestBodySpec(),
                           R"({"dossier_id": "D", "signer_id": "S", "auto_notify": "yes"})"),
              (std::vector<Violation>{{"auto_notify", "must be true or false"}}));
}

TEST(Contract, UnknownMembersAreNamedAtTheirPath) {
    EXPECT_EQ(ViolationsOf(DossierBodySpec(),
                           R"({"title": "T", "extra": 1, "documents_metadata": [
                               {"title": "Doc", "signature_fields": [
                                 {"attrs": {"unique_name": "S", "page": 1},
                                  "clause": {"title": "I accept", "type": "REQUIRED", "x": 0}}]}]})"),
              (std::vector<Violation>{
                  {"extra", "is not a known field"},
                  {"documents_metadata[0].signature_fields[0].attrs.page", "is not a known field"},
                  {"documents_metadata[0].signature_fields[0].clause.x", "is not a known field"}}));
}

TEST(Contract, ShapeViolationsKeepTheirPathsAndMessages) {
    EXPECT_EQ(ViolationsOf(DossierBodySpec(), "[1]"),
              (std::vector<Violation>{{"body", "must be an object, not array"}}));
    EXPECT_EQ(ViolationsOf(DossierBodySpec(), R"({"title": 3})"),
              (std::vector<Violation>{{"title", "must be a string, not number"},
                                      {"documents_metadata", "is required"}}));
    EXPECT_EQ(
        ViolationsOf(DossierBodySpec(), R"({"title": "T", "documents_metadata": [{
            "title": "Doc", "signature_fields": [
              {"attrs": {}, "clause": {"title": "I accept", "type": "MAYBE"}, "signer_index": 10},
              {"attrs": {"page": 1.5, "coordinates": {"x": "a"}, "size": {"w": 1, "h": 1}},
               "clause": {"title": "I accept", "type": "OPTIONAL"}}]}]})"),
        (std::vector<Violation>{
            {"documents_metadata[0].signature_fields[0].signer_index", "must be 0-9"},
            {"documents_metadata[0].signature_fields[0].attrs",
             "must hold either unique_name or page, coordinates and size"},
            {"documents_metadata[0].signature_fields[0].clause.type",
             "must be REQUIRED, OPTIONAL or UNFAIR"},
            {"documents_metadata[0].signature_fields[1].attrs.page", "must be an integer"},
            {"documents_metadata[0].signature_fields[1].attrs.coordinates.x",
             "must be a number, not string"},
            {"documents_metadata[0].signature_fields[1].attrs.coordinates.y", "is required"}}));
    // Limits the domain checks are left to it (all of them reported at once, with the rules).
    EXPECT_TRUE(
        ViolationsOf(DossierBodySpec(), R"({"title": "ab", "documents_metadata": []})").empty());
}

TEST(Contract, RulesAcrossMembers) {
    EXPECT_EQ(ViolationsOf(SignatureRequestBodySpec(), R"({"dossier_id": "D"})"),
              (std::vector<Violation>{{"signer_id", "is required (or signers)"}}));
    EXPECT_EQ(
        ViolationsOf(SignatureRequestBodySpec(),
                     R"({"dossier_id": "D", "signer_id": "S", "signers": [{"signer_id": "T"}]})"),
        (std::vector<Violation>{{"signers", "give either signer_id or signers, not both"}}));
    EXPECT_EQ(
        ViolationsOf(SignerBodySpec(), R"({"national_identity_number": "1"})"),
        (std::vector<Violation>{{"country", "must be \"NO\" with a national_identity_number"}}));
    EXPECT_EQ(ViolationsOf(SignerBodySpec(), R"({"fiscal_code": "X", "country": "SE"})"),
              (std::vector<Violation>{{"country", "must be IT or NO"}}));
    EXPECT_EQ(ViolationsOf(SessionBodySpec(), R"({"code": "123456"})"),
              (std::vector<Violation>{{"code", "give link_token and code (or a redirect_token)"}}));
    EXPECT_EQ(
        ViolationsOf(StatusBodySpec(), R"({"status": "READY", "x": 1})"),
        (std::vector<Violation>{{"status", "must be the JSON string \"READY\" or \"CANCELLED\""}}));
    EXPECT_EQ(*codec::ParseWith(StatusBodySpec(), Json("CANCELLED")),
              domain::RequestedStatus::kCancelled);
    EXPECT_EQ(*codec::ParseWith(StatusBodySpec(), Json::parse(R"({"status": "READY"})")),
              domain::RequestedStatus::kReady);
}

TEST(Contract, ParsedValuesCarryEveryMember) {
    auto r = codec::ParseWith(SignatureRequestBodySpec(), Json::parse(R"({
        "dossier_id": "D", "signers": [{"signer_id": "A"}, {"signer_id": "B", "order": 2.0}],
        "expires_at": "2030-01-02T03:04:05Z", "reference": "case 7", "auto_notify": false,
        "documents_metadata": null,
        "redirect": {"completion_url": "https://x/c", "rejection_url": "https://x/r",
                     "error_url": "https://x/e"}})"));
    ASSERT_TRUE(r) << r.error().message;
    const auto input = r->ToInput();
    EXPECT_EQ(input.dossier_id, "D");
    ASSERT_EQ(input.signers.size(), 2u);
    EXPECT_EQ(input.signers[1].signer_id, "B");
    EXPECT_EQ(input.signers[1].order, 2);
    EXPECT_EQ(input.expires_at, ParseRfc3339("2030-01-02T03:04:05Z"));
    EXPECT_EQ(input.reference, "case 7");
    EXPECT_FALSE(input.documents);
    ASSERT_TRUE(input.redirect);
    EXPECT_EQ(input.redirect->error_url, "https://x/e");
}

TEST(Contract, QueryParametersAreCheckedAgainstTheirDescription) {
    const QuerySpec& list = QueryOf("GET", "/api/v1/signature-requests");
    const auto errors = [&](std::multimap<std::string, std::string> q) {
        auto r = ParseQueryParams(list, q);
        return r ? std::vector<Violation>{} : r.error().violations;
    };
    EXPECT_TRUE(errors({{"limit", "5"}, {"status", "READY"}, {"continuationToken", "x"}}).empty());
    EXPECT_EQ(errors({{"reference", "X"}}),
              (std::vector<Violation>{{"reference", "is not a known query parameter"}}));
    EXPECT_EQ(errors({{"limit", "0"}}),
              (std::vector<Violation>{{"limit", "must be an integer from 1 to 100"}}));
    EXPECT_EQ(errors({{"limit", "+5"}}),
              (std::vector<Violation>{{"limit", "must be an integer from 1 to 100"}}));
    EXPECT_EQ(errors({{"limit", "5"}, {"limit", "6"}}),
              (std::vector<Violation>{{"limit", "is given more than once"}}));
    EXPECT_EQ(errors({{"status", "NOPE"}})[0].field, "status");
    auto ok = ParseQueryParams(list, {{"limit", "7"}, {"status", "DRAFT"}});
    ASSERT_TRUE(ok);
    EXPECT_EQ(ok->Integer("limit"), 7);
    EXPECT_EQ(ok->Text("status"), "DRAFT");
    EXPECT_FALSE(ok->Text("continuation_token"));
    // Endpoints without query parameters take none.
    EXPECT_FALSE(ParseQueryParams(QueryOf("GET", "/api/v1/dossiers/{id}"), {{"x", ""}}));
}

TEST(Contract, RoutesRefuseUnknownQueryParameters) {
    http::Handler handler = WithQueryCheck(
        "GET", "/api/v1/dossiers",
        http::Handler([](http::HttpRequest&) { return http::HttpResponse::Text(200, "ok"); }));
    http::HttpRequest req;
    req.query = {{"reference", "X"}};
    const auto refused = handler(req);
    EXPECT_EQ(refused.status, 422);
    EXPECT_NE(refused.body.find("\"field\":\"reference\""), std::string::npos);
    req.query = {{"limit", "3"}};
    EXPECT_EQ(handler(req).status, 200);
    EXPECT_THROW(WithQueryCheck("GET", "/api/v1/undescribed", http::Handler()), std::logic_error);
}

}  // namespace
}  // namespace firmo::api
