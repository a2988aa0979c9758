import CardCredentials
import CardSimulator
import CertificateRenewal
import Foundation
import JPKI
import Registration
import Synchronization
import Testing
import X509

/// The 電子委任状取扱事業者 of the tests: issues a year's power of attorney for the request, or what the test set.
final class TestPOAProvider: ElectronicPOAProvider {
    struct State {
        var requests: [PowerOfAttorneyRequest] = []
        var override: IssuedPowerOfAttorney?
        var refusal: String?
    }

    let name = "テスト委任状サービス"
    let now: @Sendable () -> Date
    private let state = Mutex(State())

    init(now: @escaping @Sendable () -> Date) { self.now = now }

    var requests: [PowerOfAttorneyRequest] { state.withLock { $0.requests } }
    func issue(_ document: IssuedPowerOfAttorney) { state.withLock { $0.override = document } }
    func refuse(_ reason: String) { state.withLock { $0.refusal = reason } }

    func requestPowerOfAttorney(_ request: PowerOfAttorneyRequest) async throws -> IssuedPowerOfAttorney {
        let (override, refusal) = state.withLock {
            $0.requests.append(request)
            return ($0.override, $0.refusal)
        }
        if let refusal { throw BenchFailure(what: refusal) }
        if let override { return override }
        let now = now()
        return IssuedPowerOfAttorney(
            principal: request.principal, agent: request.agent, authority: ["入札及び見積に関する件", "契約締結に関する件"],
            validFrom: now.addingTimeInterval(-3600), validUntil: now.addingTimeInterval(365 * 86_400),
            reference: "POA-\(request.applicationNumber)")
    }
}

extension UpdateBench {
    func provider() -> TestPOAProvider {
        let clock = clock
        return TestPOAProvider(now: { clock.now })
    }

    func flow(slot: SimulatedSlot, provider: TestPOAProvider, linkage: (any JPKILinkageService)? = nil) throws
        -> PowerOfAttorneyFlow
    {
        PowerOfAttorneyFlow(
            user: agentID, of: businessID, slot: slot, environment: try environment(timeout: .milliseconds(300)),
            provider: provider, linkage: linkage ?? self.linkage)
    }

    static func authentication(_ text: String) throws -> SecretPIN { try SecretPIN(text, policy: .jpkiAuthentication) }
}

@Suite("Power-of-attorney renewal and agent deletion (電子委任状更新, 利用者情報削除)")
struct PowerOfAttorneyFlowTests {
    @Test("Renewal: the agent's card with the signing PIN, 取得依頼, 確認, 電子委任状更新")
    func renewal() async throws {
        let bench = try await UpdateBench()
        defer { bench.remove() }
        let slot = SimulatedSlot(name: "Reader")
        slot.insert(bench.agentCard)
        let provider = bench.provider()
        let flow = try bench.flow(slot: slot, provider: provider)
        try await flow.open()
        guard case .expired(let notice) = await flow.step else {
            Issue.record("not at the 失効画面: \(await flow.step)")
            return
        }
        #expect(notice.agentName == "試験 花子")
        #expect(notice.powerOfAttorney.reference == "POA-OLD-1")
        try await flow.chooseRenewal()
        try await flow.readCardForRenewal(signingPIN: try UpdateBench.signing(UpdateBench.signingPIN))
        #expect(await flow.step == .requestPowerOfAttorney)
        #expect(
            await outcome { try await flow.request(applicationNumber: "  ") }
                == .powerOfAttorneyRequestInvalid(field: "申込番号", reason: "it is empty"))
        try await flow.request(applicationNumber: "APP-2026-0001")
        #expect(provider.requests.count == 1)
        #expect(provider.requests.first?.agent == "試験 花子")
        #expect(provider.requests.first?.corporateNumber == "4011001098993")
        #expect(provider.requests.first?.previousReference == "POA-OLD-1")
        guard case .confirmRenewal(let confirmation) = await flow.step else {
            Issue.record("not at the confirmation: \(await flow.step)")
            return
        }
        #expect(confirmation.agent.first?.value == "試験 花子")
        #expect(confirmation.authority.filter { $0.label == "代理権" }.map(\.value) == ["入札及び見積に関する件", "契約締結に関する件"])
        #expect(confirmation.authority.contains { $0.label == "電子委任状取扱事業者" && $0.value == "テスト委任状サービス" })
        #expect(try await bench.stored().version == 3)
        let done = try await flow.renew()
        let current = try requireValue(done.registration.currentPowerOfAttorney(of: bench.agentID))
        #expect(current.reference == "POA-APP-2026-0001")
        #expect(current.isValid(at: bench.clock.now))
        #expect(done.registration.powersOfAttorney.filter(\.isSuperseded).map(\.reference) == ["POA-OLD-1"])
        #expect(!done.outbox.isEmpty, "handed to GEPS")
        // In force again: the flow is no longer offered.
        let again = try bench.flow(slot: slot, provider: provider)
        #expect(await outcome { try await again.open() } == .powerOfAttorneyStillValid(validUntil: current.validUntil))
    }

    @Test("Renewal refusals: another card, a wrong PIN, the provider's refusal, a document for someone else")
    func renewalRefusals() async throws {
        let bench = try await UpdateBench()
        defer { bench.remove() }
        let slot = SimulatedSlot(name: "Reader")
        let provider = bench.provider()
        let flow = try bench.flow(slot: slot, provider: provider)
        #expect(await outcome { try await flow.chooseRenewal() } == .notAtStep(expected: "expired", current: "start"))
        try await flow.open()
        try await flow.chooseRenewal()
        #expect(
            await outcome {
                try await flow.readCardForRenewal(signingPIN: try UpdateBench.signing(UpdateBench.signingPIN))
            }
                == .noCardInserted(reader: "Reader"))
        let stranger = try JPKICard.issue(
            by: bench.authority, holder: .example, signingPIN: UpdateBench.signingPIN, authenticationPIN: "1234")
        slot.insert(stranger)
        #expect(
            await outcome {
                try await flow.readCardForRenewal(signingPIN: try UpdateBench.signing(UpdateBench.signingPIN))
            }
                == .agentCardMismatch)
        slot.swap(to: bench.agentCard)
        #expect(
            await outcome { try await flow.readCardForRenewal(signingPIN: try UpdateBench.signing("WRONG99")) }
                == .myNumberCard(.wrongPIN(.signing, triesLeft: 4)))
        try await flow.readCardForRenewal(signingPIN: try UpdateBench.signing(UpdateBench.signingPIN))
        provider.refuse("申込番号が見つかりません")
        let refused = await outcome { try await flow.request(applicationNumber: "APP-1") }
        #expect(refused == .powerOfAttorneyRequestFailed(reason: "申込番号が見つかりません"))
        let now = bench.clock.now
        let provider2 = bench.provider()
        provider2.issue(
            IssuedPowerOfAttorney(
                principal: "\(RenewalBench.companyName) 代表取締役 入札 太郎", agent: "別人 次郎", authority: ["入札"],
                validFrom: now.addingTimeInterval(-60), validUntil: now.addingTimeInterval(86_400), reference: "X"))
        let flow2 = try bench.flow(slot: slot, provider: provider2)
        try await flow2.open()
        try await flow2.chooseRenewal()
        try await flow2.readCardForRenewal(signingPIN: try UpdateBench.signing(UpdateBench.signingPIN))
        #expect(
            await outcome { try await flow2.request(applicationNumber: "APP-2") }
                == .powerOfAttorneyMismatch(field: "受任者", reason: "it names 別人 次郎, not 試験 花子"))
        provider2.issue(
            IssuedPowerOfAttorney(
                principal: "株式会社別会社", agent: "試験 花子", authority: ["入札"],
                validFrom: now.addingTimeInterval(-60), validUntil: now.addingTimeInterval(86_400), reference: "X"))
        let principal = await outcome { try await flow2.request(applicationNumber: "APP-2") }
        guard principal?.code == .powerOfAttorneyMismatch, principal?.field == "委任者" else {
            Issue.record("expected the 委任者 mismatch, got \(String(describing: principal))")
            return
        }
        provider2.issue(
            IssuedPowerOfAttorney(
                principal: RenewalBench.companyName, agent: "試験\u{3000}花子", authority: ["入札"],
                validFrom: now.addingTimeInterval(-90 * 86_400), validUntil: now.addingTimeInterval(-86_400),
                reference: "X"))
        let stale = await outcome { try await flow2.request(applicationNumber: "APP-2") }
        guard stale?.code == .powerOfAttorneyMismatch, stale?.field == "有効期間" else {
            Issue.record("expected the 有効期間 mismatch, got \(String(describing: stale))")
            return
        }
        #expect(await flow2.step == .requestPowerOfAttorney)
        #expect(try await bench.stored().version == 3)
    }

    @Test("Deletion: the 4-digit PIN proves the agent through JPKI's pairing; irreversible; handed to GEPS")
    func deletion() async throws {
        let bench = try await UpdateBench()
        defer { bench.remove() }
        let slot = SimulatedSlot(name: "Reader")
        slot.insert(bench.agentCard)
        let flow = try bench.flow(slot: slot, provider: bench.provider())
        try await flow.open()
        try await flow.chooseDeletion()
        #expect(
            await outcome {
                try await flow.readCardForDeletion(authenticationPIN: try UpdateBench.authentication("9999"))
            }
                == .myNumberCard(.wrongPIN(.authentication, triesLeft: 2)))
        try await flow.readCardForDeletion(
            authenticationPIN: try UpdateBench.authentication(UpdateBench.authenticationPIN))
        guard case .confirmDeletion(let confirmation) = await flow.step else {
            Issue.record("not at the deletion confirmation: \(await flow.step)")
            return
        }
        #expect(confirmation.user.contains { $0.label == "氏名" && $0.value == "試験 花子" })
        #expect(confirmation.certificates.contains { $0.value == "マイナンバーカード" })
        #expect(confirmation.powerOfAttorney.contains { $0.label == "受任者" && $0.value == "試験 花子" })
        #expect(confirmation.notes.first == "削除した利用者情報を元に戻すことはできません。")
        #expect(await outcome { try await flow.delete(acknowledgingIrreversible: false) } == .deletionNotAcknowledged)
        #expect(try await bench.stored().version == 3)
        let done = try await flow.delete(acknowledgingIrreversible: true)
        let agent = try done.registration.user(bench.agentID)
        #expect(agent.status == .deleted)
        #expect(done.registration.bindings(of: bench.agentID).allSatisfy { $0.recordedStatus == .removed })
        #expect(!done.outbox.isEmpty, "handed to GEPS")
    }

    @Test("Deletion refusals: a card JPKI does not pair with the agent, the linkage down; 戻る keeps everything")
    func deletionRefusals() async throws {
        let bench = try await UpdateBench()
        defer { bench.remove() }
        let slot = SimulatedSlot(name: "Reader")
        let stranger = try JPKICard.issue(
            by: bench.authority, holder: .example, signingPIN: UpdateBench.signingPIN, authenticationPIN: "1234")
        try bench.linkage.record(stranger)
        slot.insert(stranger)
        let flow = try bench.flow(slot: slot, provider: bench.provider())
        try await flow.open()
        try await flow.chooseDeletion()
        #expect(
            await outcome {
                try await flow.readCardForDeletion(authenticationPIN: try UpdateBench.authentication("1234"))
            }
                == .agentCardMismatch)
        try await flow.back()
        guard case .expired = await flow.step else {
            Issue.record("戻る did not return to the 失効画面: \(await flow.step)")
            return
        }
        try await flow.chooseDeletion()
        slot.swap(to: bench.agentCard)
        try await flow.readCardForDeletion(authenticationPIN: try UpdateBench.authentication("1234"))
        try await flow.back()
        #expect(
            await outcome { try await flow.delete(acknowledgingIrreversible: true) }
                == .notAtStep(expected: "confirmDeletion", current: "expired"))
        bench.linkage.makeUnavailable()
        try await flow.chooseDeletion()
        let down = await outcome {
            try await flow.readCardForDeletion(authenticationPIN: try UpdateBench.authentication("1234"))
        }
        guard down?.code == .jpkiLinkageUnavailable else {
            Issue.record("expected jpkiLinkageUnavailable, got \(String(describing: down))")
            return
        }
        slot.remove()
        #expect(
            await outcome {
                try await flow.readCardForDeletion(authenticationPIN: try UpdateBench.authentication("1234"))
            }
                == .noCardInserted(reader: "Reader"))
        #expect(await flow.step == .readCardForDeletion)
        #expect(try await bench.stored().version == 3)
        #expect(try await bench.stored().user(bench.agentID).status == .active)
    }

    @Test("A stale confirmation: the registration changed; nothing stored, back to the start")
    func stale() async throws {
        let bench = try await UpdateBench()
        defer { bench.remove() }
        let slot = SimulatedSlot(name: "Reader")
        slot.insert(bench.agentCard)
        let flow = try bench.flow(slot: slot, provider: bench.provider())
        try await flow.open()
        try await flow.chooseDeletion()
        try await flow.readCardForDeletion(authenticationPIN: try UpdateBench.authentication("1234"))
        // The representative changes the agent's user information meanwhile.
        let registration = try await bench.stored()
        var information = try registration.user(bench.agentID).information
        information.title = "営業部次長"
        _ = try await bench.service.commit(
            try await bench.service.prepare(
                .updateUserInformation(bench.agentID, information), to: bench.businessID,
                by: .portal(operator: "test")))
        #expect(await outcome { try await flow.delete(acknowledgingIrreversible: true) } == .registrationChanged)
        #expect(await flow.step == .start)
        #expect(try await bench.stored().user(bench.agentID).status == .active)
    }

    @Test("Only an agent with an expired power of attorney is offered the flow")
    func onlyExpiredAgents() async throws {
        let bench = try await UpdateBench()
        defer { bench.remove() }
        let slot = SimulatedSlot(name: "Reader")
        let representative = PowerOfAttorneyFlow(
            user: bench.representativeID, of: bench.businessID, slot: slot, environment: try bench.environment(),
            provider: bench.provider(), linkage: bench.linkage)
        #expect(await outcome { try await representative.open() } == .notAnAgentWithPowerOfAttorney)

        // An agent whose My Number certificate expired too is told so, not that it is no agent.
        bench.clock.advance(by: 6 * 365 * 86_400)
        let agent = try bench.flow(slot: slot, provider: bench.provider())
        let refusal = await outcome { try await agent.open() }
        #expect(refusal == .agentCertificateNotActive(.expired))
        #expect(refusal?.description.contains("電子証明書更新") == true)
    }
}
