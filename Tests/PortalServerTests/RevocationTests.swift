import CardCredentials
import CertificateRenewal
import Foundation
import Hummingbird
import HummingbirdTesting
import Registration
import Testing

@testable import portal_server

/// The revocation request (インターネット失効申込) over HTTP, each step on the other of two instances over one
/// database; the card's work (evidence, the request's signature) done by a file key as the card agent would.
@Suite("Revocation request over HTTP, continued by either instance")
struct RevocationTests {
    struct Reply: Decodable {
        struct Card: Decodable {
            var fingerprint: String
        }
        struct Signing: Decodable {
            var requestID: String
            var name: String
            var document: String
        }
        var flowID: String
        var step: String
        var submitted: Bool
        var card: Card?
        var toSign: Signing?
        var receiptNumber: String?
    }

    struct Record: Decodable {
        var receiptNumber: String
        var requestID: String
        var text: String
        var portal: String
        var request: String
    }

    static let form =
        #"{"reason":"loss","requesterName":"入札 太郎","phone":"03-1234-5678","mail":"taro@example.co.jp","department":"総務部"}"#

    @Test(
        "a whole request across two instances: documents, card, form, the card's signature, 確定; the card no longer logs in",
        arguments: StoreKind.allCases)
    func twoInstances(_ kind: StoreKind) async throws {
        let bench = try await ServerTestBench(kind)
        let registered = try await bench.registered()
        let card = registered.agent
        let second = try await bench.secondStore()
        try await bench.application().test(.router) { a in
            try await bench.application(over: second).test(.router) { b in
                let started = try await a.send("/api/v1/flows/revocation-request", .post)
                #expect(started.status == .created, "\(String(buffer: started.body))")
                let flow = try started.json(Reply.self).flowID
                let base = "/api/v1/flows/revocation-request/\(flow)"

                let early = try await b.send(base + "/agree", .post)
                #expect(early.status == .unprocessableContent)
                #expect(try early.problem().rule == "documentsNotOpened")
                let procedure = try await a.send(base + "/procedure", .post)
                #expect(procedure.status == .ok)
                #expect(String(buffer: procedure.body).contains("手続き"))
                #expect(try await b.send(base + "/terms", .post).status == .ok)
                let agreed = try await a.send(base + "/agree", .post)
                #expect(try agreed.json(Reply.self).step == "card")

                func challenge(_ client: some TestClientProtocol) async throws -> ChallengeReply {
                    let response = try await client.send(base + "/challenge", .post)
                    #expect(response.status == .created, "\(String(buffer: response.body))")
                    return try response.json(ChallengeReply.self)
                }
                // A page of another site had the card sign: refused, the flow stays.
                let foreign = try await a.answer(try await challenge(a), with: card, origin: "https://evil.example")
                let refused = try await b.send(base + "/card", .post, json: #"{"evidence":\#(foreign)}"#)
                #expect(refused.status == .forbidden, "\(String(buffer: refused.body))")
                let evidence = try await b.answer(try await challenge(b), with: card)
                let read = try await a.send(base + "/card", .post, json: #"{"evidence":\#(evidence)}"#)
                #expect(read.status == .ok, "\(String(buffer: read.body))")
                #expect(
                    try read.json(Reply.self).card?.fingerprint == CertificateBinding.fingerprint(of: card.certificate))
                // The same evidence again: replayed.
                _ = try await a.send(base + "/back", .post)

                let badForm = try await b.send(
                    base + "/form", .post, json: #"{"reason":"loss","requesterName":"","phone":"1","mail":"x"}"#)
                #expect(badForm.status == .conflict, "not at the form after 戻る: \(String(buffer: badForm.body))")
                for step in ["/procedure", "/terms", "/agree"] { _ = try await b.send(base + step, .post) }
                let replayed = try await a.send(base + "/card", .post, json: #"{"evidence":\#(evidence)}"#)
                #expect(replayed.status.code >= 400 && replayed.status.code < 500, "\(String(buffer: replayed.body))")
                let again = try await b.answer(try await challenge(b), with: card)
                #expect(try await a.send(base + "/card", .post, json: #"{"evidence":\#(again)}"#).status == .ok)

                let invalid = try await b.send(
                    base + "/form", .post,
                    json: #"{"reason":"loss","requesterName":"入札 太郎","phone":"1","mail":"taro@example.co.jp"}"#)
                #expect(invalid.status == .unprocessableContent)
                #expect(try invalid.problem().rule == "requestFormInvalid")
                let filled = try await b.send(base + "/form", .post, json: Self.form)
                let signing = try #require(try filled.json(Reply.self).toSign, "\(String(buffer: filled.body))")
                let document = try #require(Data(base64Encoded: signing.document))

                // Signed by another key: refused; by the card: kept.
                let other = try await CMSSignedData.sign(Array(document), with: registered.representative)
                let wrong = try await a.send(
                    base + "/signature", .post,
                    json: #"{"signature":"\#(Data(other.derEncoded).base64EncodedString())"}"#)
                #expect(wrong.status == .unprocessableContent)
                #expect(try wrong.problem().rule == "revocationRefused")
                let signed = try await CMSSignedData.sign(Array(document), with: card)
                let kept = try await a.send(
                    base + "/signature", .post,
                    json: #"{"signature":"\#(Data(signed.derEncoded).base64EncodedString())"}"#)
                #expect(try kept.json(Reply.self).step == "confirm", "\(String(buffer: kept.body))")

                let confirmation = try await b.send(base + "/confirmation", .get)
                #expect(String(buffer: confirmation.body).contains("失効申込内容確認"))
                #expect(String(buffer: confirmation.body).contains(signing.requestID))
                let unchecked = try await a.send(base + "/submit", .post, json: #"{"checked":false}"#)
                #expect(try unchecked.problem().rule == "confirmationNotChecked")
                let submitted = try await b.send(base + "/submit", .post, json: #"{"checked":true}"#)
                #expect(submitted.status == .ok, "\(String(buffer: submitted.body))")
                let record = try submitted.json(Record.self)
                #expect(record.requestID == signing.requestID)
                #expect(record.text.contains("受付番号: \(record.receiptNumber)"))
                #expect(record.portal.contains("recorded certificate"))
                let cms = try CMSSignedData(derEncoded: Array(try #require(Data(base64Encoded: record.request))))
                #expect(cms.content == Array(document))
                let back = try await a.send(base + "/back", .post)
                #expect(try back.problem().rule == "revocationAlreadySubmitted")
                #expect(try await b.send(base, .get).json(Reply.self).receiptNumber == record.receiptNumber)
                #expect(
                    bench.audit.all.contains {
                        $0.metadata["event"] == "revocationRequest" && $0.metadata["flowID"] == flow
                    })

                // The revoked certificate no longer logs in.
                let login = try await a.send(
                    "/api/v1/login", .post, json: try await a.answer(try await a.challenge(), with: card))
                #expect(login.status.code >= 400, "\(String(buffer: login.body))")
            }
        }
    }
}
