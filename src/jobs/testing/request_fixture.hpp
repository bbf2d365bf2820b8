#pragma once
// For the tests beside the worker that follow a request through its notifications and events
// (event_service_test, posten_lifecycle_test): READY requests made from a list of parties, and
// reads of the issuer's outbox and polling queue. On SignerSideTest (memory store, worker).

#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "domain/services/testing/signer_side_fixture.hpp"

namespace firmo::domain::fixtures {

struct Party {
    IdentifierKind kind = IdentifierKind::kItFiscalCode;
    std::string identifier;
    std::optional<std::string> email;
    std::optional<std::string> phone;
    int order = 0;
};

class RequestFixture : public SignerSideTest {
  protected:
    // A READY request of the parties (expiring in 48 h); `adjust` changes the input before it
    // is created.
    SignatureRequest MakeReady(const std::vector<Party>& parties,
                               const std::function<void(NewSignatureRequest&)>& adjust = {},
                               const NewDossier& dossier_input = {"Contratto di lavoro",
                                                                  std::nullopt, OneDocument()}) {
        DossierService dossiers(*ctx_);
        auto dossier = dossiers.Create(issuer_, dossier_input);
        EXPECT_TRUE(dossier) << dossier.error().message;
        if (!dossier) return {};
        SignerService signers(*ctx_);
        NewSignatureRequest input;
        input.dossier_id = dossier->id;
        input.expires_at = clock_.Now() + std::chrono::hours(48);
        for (const auto& p : parties) {
            auto signer = signers.Resolve(
                issuer_, NewSigner{p.kind, p.identifier, p.email, p.phone, std::nullopt});
            EXPECT_TRUE(signer) << signer.error().message;
            if (!signer) return {};
            input.signers.push_back({signer->signer.id, p.order});
        }
        if (adjust) adjust(input);
        auto request = requests_->Create(issuer_, input, "test");
        EXPECT_TRUE(request) << request.error().message;
        if (!request) return {};
        for (const auto& doc : request->documents) {
            auto uploaded = requests_->UploadDocument(issuer_, request->id, doc.id,
                                                      Upload{"%PDF-1.7\n% document\n", "test"});
            EXPECT_TRUE(uploaded) << uploaded.error().message;
        }
        worker_->RunOnce();  // validation
        auto ready = requests_->ChangeStatus(issuer_, request->id, RequestedStatus::kReady, "test");
        EXPECT_TRUE(ready) << ready.error().message;
        return ready ? *ready : SignatureRequest{};
    }

    // The issuer's outbox messages of one channel, oldest first.
    std::vector<OutboxMessage> Outbox(Channel channel, const std::string& issuer_id = "") {
        auto tx = db_->Begin(TxMode::kRead);
        EXPECT_TRUE(tx);
        auto page = (*tx)->outbox().List(issuer_id.empty() ? issuer_ : issuer_id, channel,
                                         PageQuery{1000, std::nullopt});
        EXPECT_TRUE(page) << page.error().message;
        if (!page) return {};
        std::reverse(page->items.begin(), page->items.end());  // oldest first
        return page->items;
    }

    // Every unconfirmed status change of the issuer in one polling queue ("": the default),
    // oldest first, read in a transaction that is rolled back (hiding each one to reach the
    // next changes nothing).
    std::vector<StatusChange> Changes(const std::string& issuer_id = "",
                                      const std::string& queue = "") {
        const std::string issuer = issuer_id.empty() ? issuer_ : issuer_id;
        auto tx = db_->Begin(TxMode::kWrite);
        EXPECT_TRUE(tx);
        std::vector<StatusChange> out;
        while (true) {
            auto next = (*tx)->status_changes().Next(issuer, queue, clock_.Now());
            EXPECT_TRUE(next);
            if (!next || !*next) break;
            out.push_back(**next);
            EXPECT_TRUE((*tx)->status_changes().Hide((*next)->seq,
                                                     clock_.Now() + std::chrono::hours(1000)));
        }
        return out;
    }
};

}  // namespace firmo::domain::fixtures
