#pragma once
// Wire shapes of the issuer API (names follow Firma con IO's issuer API where it has them).

#include "codec/json.hpp"
#include "domain/model.hpp"

namespace firmo::api {

codec::Json DossierView(const domain::Dossier& dossier);
codec::Json SignerView(const domain::Signer& signer);
codec::Json RequestView(const domain::SignatureRequest& request);
codec::Json DocumentView(const domain::Document& document);
codec::Json EventView(const domain::AuditEvent& event);

}  // namespace firmo::api
