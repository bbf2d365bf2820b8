#include "domain/states.hpp"

#include <gtest/gtest.h>

#include <map>
#include <utility>

namespace firmo::domain {
namespace {

using RS = RequestStatus;
using RE = RequestEvent;

// The whole request machine as a table; every (state, event) pair not listed must be refused.
const std::map<std::pair<RS, RE>, RS> kRequestTable = {
    {{RS::kDraft, RE::kMarkReady}, RS::kReady},
    {{RS::kReady, RE::kSendForSignature}, RS::kWaitForSignature},
    {{RS::kReady, RE::kSubmitToQtsp}, RS::kWaitForQtsp},
    {{RS::kWaitForSignature, RE::kSubmitToQtsp}, RS::kWaitForQtsp},
    {{RS::kWaitForQtsp, RE::kSignerSigned}, RS::kWaitForSignature},
    {{RS::kWaitForQtsp, RE::kAllSigned}, RS::kSigned},
    {{RS::kWaitForQtsp, RE::kSigningFailed}, RS::kFailed},
    {{RS::kReady, RE::kReject}, RS::kRejected},
    {{RS::kWaitForSignature, RE::kReject}, RS::kRejected},
    {{RS::kDraft, RE::kCancel}, RS::kCancelled},
    {{RS::kReady, RE::kCancel}, RS::kCancelled},
    {{RS::kWaitForSignature, RE::kCancel}, RS::kCancelled},
    {{RS::kDraft, RE::kExpire}, RS::kExpired},
    {{RS::kReady, RE::kExpire}, RS::kExpired},
    {{RS::kWaitForSignature, RE::kExpire}, RS::kExpired},
    {{RS::kReady, RE::kSignerBlocked}, RS::kFailed},
    {{RS::kWaitForSignature, RE::kSignerBlocked}, RS::kFailed},
    {{RS::kWaitForQtsp, RE::kQtspNotAuthorized}, RS::kWaitForSignature},
};

TEST(RequestMachine, EveryStateAndEventMatchesTheTable) {
    int allowed = 0;
    for (RS from : kAllRequestStatuses) {
        for (RE event : kAllRequestEvents) {
            const auto result = Transition(from, event);
            const auto it = kRequestTable.find({from, event});
            if (it == kRequestTable.end()) {
                ASSERT_FALSE(result) << ToString(from) << " + " << ToString(event);
                EXPECT_EQ(result.error().code, ErrorCode::kConflict);
                EXPECT_NE(result.error().message.find(ToString(from)), std::string::npos);
            } else {
                ASSERT_TRUE(result) << ToString(from) << " + " << ToString(event);
                EXPECT_EQ(*result, it->second);
                ++allowed;
            }
        }
    }
    EXPECT_EQ(allowed, static_cast<int>(kRequestTable.size()));
}

TEST(RequestMachine, TerminalStatesAcceptNothing) {
    for (RS from : kAllRequestStatuses) {
        if (!IsTerminal(from)) continue;
        for (RE event : kAllRequestEvents) EXPECT_FALSE(Transition(from, event));
    }
}

TEST(RequestMachine, CancelIsRefusedWhileTheTrustServiceSigns) {
    EXPECT_FALSE(Transition(RS::kWaitForQtsp, RE::kCancel));
    EXPECT_FALSE(Transition(RS::kWaitForQtsp, RE::kExpire));
}

TEST(DocumentMachine, EveryStateAndEvent) {
    using DS = DocumentStatus;
    using DE = DocumentEvent;
    for (DS from : kAllDocumentStatuses) {
        for (DE event : kAllDocumentEvents) {
            const auto result = Transition(from, event);
            switch (event) {
                case DE::kUpload:
                    ASSERT_TRUE(result);
                    EXPECT_EQ(*result, DS::kWaitForValidation);
                    break;
                case DE::kValidationPassed:
                    EXPECT_EQ(result.has_value(), from == DS::kWaitForValidation);
                    if (result) {
                        EXPECT_EQ(*result, DS::kReady);
                    }
                    break;
                case DE::kValidationFailed:
                    EXPECT_EQ(result.has_value(), from == DS::kWaitForValidation);
                    if (result) {
                        EXPECT_EQ(*result, DS::kRejected);
                    }
                    break;
            }
        }
    }
}

TEST(SignerMachine, OnlyWaitingSignersMove) {
    using SS = SignerStatus;
    using SE = SignerEvent;
    const std::map<SE, SS> from_waiting = {
        {SE::kSign, SS::kSigned},    {SE::kReject, SS::kRejected},
        {SE::kExpire, SS::kExpired}, {SE::kCancel, SS::kCancelled},
        {SE::kBlock, SS::kBlocked},  {SE::kNotApplicable, SS::kNotApplicable}};
    for (SS from : kAllSignerStatuses) {
        for (SE event : kAllSignerEvents) {
            const auto result = Transition(from, event);
            if (from == SS::kWaiting) {
                ASSERT_TRUE(result);
                EXPECT_EQ(*result, from_waiting.at(event));
            } else {
                EXPECT_FALSE(result);
                EXPECT_TRUE(IsTerminal(from));
            }
        }
    }
}

TEST(States, NamesRoundTrip) {
    for (RS s : kAllRequestStatuses) EXPECT_EQ(ParseRequestStatus(ToString(s)), s);
    for (auto s : kAllDocumentStatuses) EXPECT_EQ(ParseDocumentStatus(ToString(s)), s);
    for (auto s : kAllSignerStatuses) EXPECT_EQ(ParseSignerStatus(ToString(s)), s);
    EXPECT_FALSE(ParseRequestStatus("draft"));
    EXPECT_FALSE(ParseRequestStatus(""));
}

}  // namespace
}  // namespace firmo::domain
