import CardCredentials
import CardSimulator
import Foundation
import Registration
import Testing
import X509

@Suite("Registration service: input → confirmation → completion")
struct RegistrationServiceTests {
    @Test("a new registration is stored only on commit, with its history, hand-over and mail")
    func newRegistration() async throws {
        let bench = try ServiceTestBench()
        defer { bench.remove() }
        let credential = try bench.credential()
        let prepared = try await bench.service.prepareRegistration(
            of: ServiceTestBench.business(), representative: ServiceTestBench.user(),
            certificate: credential.certificate, kind: .fileCertificate, by: .portal(operator: "test"))
        #expect(prepared.review.title == "新規登録確認")
        #expect(prepared.review.rows.contains { $0.label == "法人番号" && $0.after == "4011001098993" })
        #expect(try await bench.store.registrations().isEmpty, "nothing is stored before the commit")

        let done = try await bench.service.commit(prepared)
        let stored = try #require(try await bench.store.registration(done.registration.id))
        #expect(stored == done.registration)
        #expect(stored.version == 1)
        #expect(stored.users.count == 1 && stored.users[0].role == .representative)
        #expect(try await bench.store.history(of: stored.id).map(\.kind) == ["registerBusiness"])

        let outbox = try await bench.store.outbox(state: nil)
        #expect(outbox.map(\.kind) == [.gepsHandOver, .mail])
        #expect(outbox[1].after == outbox[0].id, "the mail waits for GEPS")
        #expect(Set(outbox.map(\.idempotencyKey)).count == 2)
        let mail = try JSONDecoder().decode(MailMessage.self, from: Data(outbox[1].payload))
        #expect(mail.subject == "[重要]利用者更新完了通知")
        #expect(mail.to.map(\.text) == ["taro@example.co.jp"])
        #expect(mail.body.contains("受付番号: \(done.changeID)"))
        let document = try #require(try JSONSerialization.jsonObject(with: Data(outbox[0].payload)) as? [String: Any])
        #expect(document["corporateNumber"] as? String == "4011001098993")
        #expect(document["kind"] as? String == "registerBusiness")
        // Dates leave the portal as ISO 8601 text (Documentation/GEPSHandOver.md), never as Foundation's seconds
        // since 2001, which a receiver would read as a Unix time.
        let committedAt = try #require(document["committedAt"] as? String)
        #expect(ISO8601DateFormatter().date(from: committedAt) != nil, "\(committedAt)")
        let certificates = try #require(document["activeCertificates"] as? [[String: Any]])
        #expect(certificates.allSatisfy { ($0["notValidAfter"] as? String)?.hasSuffix("Z") == true })
    }

    @Test("one representative registration per business, and a certificate binds once")
    func duplicates() async throws {
        let bench = try ServiceTestBench()
        defer { bench.remove() }
        let (registration, representative, _) = try await bench.registered()
        let again = await #expect(throws: RegistrationError.self) {
            try await bench.service.prepareRegistration(
                of: ServiceTestBench.business(), representative: ServiceTestBench.user(),
                certificate: bench.credential().certificate, kind: .icCard, by: .portal(operator: "test"))
        }
        #expect(again == .corporateNumberAlreadyRegistered(try CorporateNumber("4011001098993")))
        let bound = await #expect(throws: RegistrationError.self) {
            try await bench.service.prepare(
                .addCertificate(registration.representative!.id, representative.certificate, .icCard),
                to: registration.id, by: .user(registration.representative!.id, binding: nil))
        }
        guard case .certificateAlreadyBound = bound else { Issue.record("got \(String(describing: bound))"); return }
    }

    @Test("a certificate of another company is refused, showing both names")
    func companyNameMismatch() async throws {
        let bench = try ServiceTestBench()
        defer { bench.remove() }
        let (registration, _, _) = try await bench.registered()
        let other = try bench.credential(name: "別社 次郎", company: "株式会社ほかの会社")
        let error = await #expect(throws: RegistrationError.self) {
            try await bench.service.prepare(
                .addAgent(try ServiceTestBench.user(name: "別社 次郎"), other.certificate, .icCard, powerOfAttorney: nil),
                to: registration.id, by: .user(registration.representative!.id, binding: nil))
        }
        #expect(error == .companyNameMismatch(registered: ServiceTestBench.companyName, certificate: "株式会社ほかの会社"))
        #expect(error?.description.contains("株式会社ほかの会社") == true)
    }

    @Test("a stale preparation fails cleanly and stores nothing")
    func staleCommit() async throws {
        let bench = try ServiceTestBench()
        defer { bench.remove() }
        let (registration, _, _) = try await bench.registered()
        let representative = registration.representative!.id
        let first = try await bench.service.prepare(
            .updateUserInformation(representative, ServiceTestBench.user(mail: "first@example.co.jp")),
            to: registration.id, by: .user(representative, binding: nil))
        let second = try await bench.service.prepare(
            .updateUserInformation(representative, ServiceTestBench.user(mail: "second@example.co.jp")),
            to: registration.id, by: .user(representative, binding: nil))
        _ = try await bench.service.commit(first)
        let outboxBefore = try await bench.store.outbox(state: nil)
        let historyBefore = try await bench.store.history(of: registration.id)
        let error = await #expect(throws: RegistrationError.self) { try await bench.service.commit(second) }
        #expect(error == .staleChange(registration.id))
        let stored = try #require(try await bench.store.registration(registration.id))
        #expect(stored.representative?.information.mail.text == "first@example.co.jp")
        #expect(try await bench.store.outbox(state: nil) == outboxBefore)
        #expect(try await bench.store.history(of: registration.id) == historyBefore)
        // Committing the same preparation twice is stale too.
        await #expect(throws: RegistrationError.staleChange(registration.id)) { try await bench.service.commit(first) }
    }

    @Test("concurrent commits of one version: exactly one wins")
    func concurrentCommits() async throws {
        let bench = try ServiceTestBench()
        defer { bench.remove() }
        let (registration, _, _) = try await bench.registered()
        let representative = registration.representative!.id
        var prepared: [PreparedChange] = []
        for index in 0..<8 {
            prepared.append(
                try await bench.service.prepare(
                    .updateUserInformation(representative, ServiceTestBench.user(mail: "user\(index)@example.co.jp")),
                    to: registration.id, by: .user(representative, binding: nil)))
        }
        let service = bench.service
        let results = await withTaskGroup(of: Bool.self) { group in
            for change in prepared {
                group.addTask { (try? await service.commit(change)) != nil }
            }
            return await group.reduce(into: [Bool]()) { $0.append($1) }
        }
        #expect(results.filter { $0 }.count == 1)
        #expect(try await bench.store.registration(registration.id)?.version == registration.version + 1)
    }

    @Test("a preparation expires; 戻る (dropping it) changes nothing")
    func expiry() async throws {
        let bench = try ServiceTestBench()
        defer { bench.remove() }
        let (registration, _, _) = try await bench.registered()
        let representative = registration.representative!.id
        let prepared = try await bench.service.prepare(
            .addQualification(Qualification(kind: .sales, grade: .a)), to: registration.id,
            by: .user(representative, binding: nil))
        #expect(try await bench.store.registration(registration.id) == registration)
        bench.clock.advance(by: 31 * 60)
        await #expect(throws: RegistrationError.preparationExpired) { try await bench.service.commit(prepared) }
        #expect(try await bench.store.registration(registration.id) == registration)
    }
}

@Suite("Registration service: the rights, enforced")
struct RegistrationRightsTests {
    @Test("an agent acts on its own record only, and never on business information or qualifications")
    func agentRights() async throws {
        let bench = try ServiceTestBench()
        defer { bench.remove() }
        let (registration, _, _) = try await bench.registered()
        let representative = registration.representative!.id
        let agent = try #require(registration.users.first { $0.role == .agent }).id
        let asAgent = RegistrationActor.user(agent, binding: nil)
        let other = try bench.credential(name: "代理 花子")

        let cases: [(RegistrationChange, RegistrationError?)] = [
            (
                .updateBusinessInformation(
                    try ServiceTestBench.business(
                        name: ServiceTestBench.companyName,
                        corporateNumber: "7123456789012")),
                .notPermitted(role: .agent, change: .businessBasicInformation)
            ),
            (
                .addQualification(Qualification(kind: .services, grade: .b)),
                .notPermitted(role: .agent, change: .qualifications)
            ),
            (
                .updateUserInformation(representative, try ServiceTestBench.user(mail: "x@example.co.jp")),
                .notOwnRecord(change: .userBasicInformation)
            ),
            (
                .addCertificate(representative, other.certificate, .fileCertificate),
                .notOwnRecord(change: .certificates)
            ),
            (
                .addAgent(
                    try ServiceTestBench.user(name: "新人"), other.certificate, .fileCertificate, powerOfAttorney: nil),
                .notPermitted(role: .agent, change: .userBasicInformation)
            ),
            (
                .deleteUser(representative),
                .changeNotAllowed(
                    "the representative (代表者) cannot be deleted; the business registers anew when it changes")
            ),
            (.updateUserInformation(agent, try ServiceTestBench.user(name: "代理 花子", mail: "new@example.co.jp")), nil),
            (.addCertificate(agent, other.certificate, .fileCertificate), nil),
        ]
        for (change, expected) in cases {
            do {
                _ = try await bench.service.prepare(change, to: registration.id, by: asAgent)
                #expect(expected == nil, "\(change) should have been refused")
            } catch {
                #expect(error == expected, "\(change)")
            }
        }
    }

    @Test("a representative may change everything of its business, and may delete an agent")
    func representativeRights() async throws {
        let bench = try ServiceTestBench()
        defer { bench.remove() }
        let (registration, _, _) = try await bench.registered()
        let representative = RegistrationActor.user(registration.representative!.id, binding: nil)
        let agent = try #require(registration.users.first { $0.role == .agent }).id
        for change: RegistrationChange in [
            .updateBusinessInformation(try ServiceTestBench.business(corporateNumber: "7123456789012")),
            .addQualification(Qualification(kind: .sales, grade: .c)),
            .updateUserInformation(agent, try ServiceTestBench.user(name: "代理 花子", mail: "h2@example.co.jp")),
            .deleteUser(agent),
        ] {
            let prepared = try await bench.service.prepare(change, to: registration.id, by: representative)
            #expect(prepared.review.rows.contains { $0.changes })
        }
    }

    @Test("a deleted agent can do nothing; its certificate can no longer log in")
    func deletedAgent() async throws {
        let bench = try ServiceTestBench()
        defer { bench.remove() }
        let (registration, _, agentCredential) = try await bench.registered()
        let agent = try #require(registration.users.first { $0.role == .agent }).id
        let deletion = try await bench.service.prepare(
            .deleteUser(agent), to: registration.id, by: .user(registration.representative!.id, binding: nil))
        #expect(deletion.review.notes.contains { $0.contains("取り消せません") })
        let done = try await bench.service.commit(deletion)
        #expect(done.registration.bindings(of: agent).allSatisfy { $0.recordedStatus == .removed })
        await #expect(throws: RegistrationError.userDeleted(agent)) {
            try await bench.service.prepare(
                .updateUserInformation(agent, try ServiceTestBench.user(name: "代理 花子")), to: registration.id,
                by: .user(agent, binding: nil))
        }
        let login = bench.login()
        let challenge = try await login.issueChallenge()
        await #expect(throws: RegistrationError.certificateNotActive(.removed)) {
            try await login.login(try await challenge.sign(for: .inProcess, with: agentCredential))
        }
    }

    @Test("a superseded or expired certificate can do nothing")
    func inactiveCertificates() async throws {
        let bench = try ServiceTestBench()
        defer { bench.remove() }
        let (registration, _, _) = try await bench.registered()
        let agent = try #require(registration.users.first { $0.role == .agent })
        let oldBinding = try #require(registration.activeBindings(of: agent.id, at: bench.clock.now).first)
        let renewed = try bench.credential(name: "代理 花子")
        let replace = try await bench.service.prepare(
            .replaceCertificate(oldBinding.id, with: renewed.certificate, .fileCertificate), to: registration.id,
            by: .user(agent.id, binding: oldBinding.id))
        #expect(replace.review.rows.contains { $0.label == "証明書シリアル番号" && $0.before == oldBinding.serialNumber })
        let after = try await bench.service.commit(replace).registration
        let change = RegistrationChange.updateUserInformation(
            agent.id, try ServiceTestBench.user(name: "代理 花子", mail: "z@example.co.jp"))
        await #expect(throws: RegistrationError.certificateNotActive(.superseded)) {
            try await bench.service.prepare(change, to: registration.id, by: .user(agent.id, binding: oldBinding.id))
        }
        let newBinding = try #require(after.activeBindings(of: agent.id, at: bench.clock.now).first)
        _ = try await bench.service.prepare(change, to: registration.id, by: .user(agent.id, binding: newBinding.id))
        bench.clock.advance(by: 400 * 86_400)
        await #expect(throws: RegistrationError.certificateNotActive(.expired)) {
            try await bench.service.prepare(change, to: registration.id, by: .user(agent.id, binding: newBinding.id))
        }
    }

    @Test("an agent whose power of attorney expired may only renew it or be deleted")
    func expiredPowerOfAttorney() async throws {
        let bench = try ServiceTestBench()
        defer { bench.remove() }
        let (registration, _, _) = try await bench.registered()
        let representative = registration.representative!.id
        let now = bench.clock.now
        let myNumberAgent = try bench.credential(name: "番号 三郎")
        let attorney = try PowerOfAttorney(
            agentID: UserID(rawValue: "pending"), principal: "株式会社テスト建設 代表取締役 入札 太郎", agent: "番号 三郎",
            authority: ["入札・見積に関する件", "契約締結に関する件"], validFrom: now, validUntil: now.addingTimeInterval(30 * 86_400),
            provider: "テスト電子委任状サービス", reference: "POA-0001")
        let added = try await bench.service.commit(
            try await bench.service.prepare(
                .addAgent(
                    try ServiceTestBench.user(name: "番号 三郎", mail: "saburo@example.co.jp"), myNumberAgent.certificate,
                    .myNumberCard, powerOfAttorney: attorney), to: registration.id,
                by: .user(representative, binding: nil)))
        let agent = try #require(added.registration.users.first { $0.information.name == "番号 三郎" }).id
        #expect(added.registration.currentPowerOfAttorney(of: agent)?.agentID == agent)

        bench.clock.advance(by: 31 * 86_400)
        let update = RegistrationChange.updateUserInformation(
            agent, try ServiceTestBench.user(name: "番号 三郎", mail: "s2@example.co.jp"))
        let refused = await #expect(throws: RegistrationError.self) {
            try await bench.service.prepare(update, to: registration.id, by: .user(agent, binding: nil))
        }
        guard case .powerOfAttorneyExpired = refused else { Issue.record("got \(String(describing: refused))"); return }

        let later = bench.clock.now
        let fresh = try PowerOfAttorney(
            agentID: agent, principal: "株式会社テスト建設 代表取締役 入札 太郎", agent: "番号 三郎", authority: ["入札・見積に関する件"],
            validFrom: later, validUntil: later.addingTimeInterval(365 * 86_400), provider: "テスト電子委任状サービス",
            reference: "POA-0002")
        _ = try await bench.service.prepare(.deleteUser(agent), to: registration.id, by: .user(agent, binding: nil))
        let renewal = try await bench.service.prepare(
            .renewPowerOfAttorney(agent, fresh), to: registration.id, by: .user(agent, binding: nil))
        #expect(renewal.review.rows.contains { $0.label == "代理権" && $0.after == "入札・見積に関する件" })
        _ = try await bench.service.commit(renewal)
        _ = try await bench.service.prepare(update, to: registration.id, by: .user(agent, binding: nil))
    }
}

@Suite("Certificate login")
struct CertificateLoginTests {
    @Test("a signed challenge logs in; a challenge is single-use and expires")
    func challenge() async throws {
        let bench = try ServiceTestBench()
        defer { bench.remove() }
        let (registration, representative, _) = try await bench.registered()
        let login = bench.login()
        let challenge = try await login.issueChallenge()
        #expect(challenge.nonce.count == 32)
        let answer = try await challenge.sign(for: .inProcess, with: representative)
        let session = try await login.login(answer)
        #expect(session.userID == registration.representative?.id)
        #expect(session.role == .representative)
        #expect(await Self.refusal { try await login.login(answer) } == .challengeUnknown)

        let late = try await login.issueChallenge()
        let lateAnswer = try await late.sign(for: .inProcess, with: representative)
        bench.clock.advance(by: 121)
        #expect(await Self.refusal { try await login.login(lateAnswer) } == .challengeExpired)
    }

    @Test("a certificate removed and bound again logs in with its new binding")
    func reboundCertificate() async throws {
        let bench = try ServiceTestBench()
        defer { bench.remove() }
        let (registration, representative, _) = try await bench.registered()
        let representativeID = try #require(registration.representative?.id)
        let card = try #require(registration.activeBindings(of: representativeID, at: bench.clock.now).first)
        // The first binding ended, the same certificate bound again after it (later in the list).
        var next = registration
        next.version += 1
        let index = try #require(next.bindings.firstIndex(of: card))
        next.bindings[index].recordedStatus = .removed
        next.bindings[index].endedAt = bench.clock.now
        var again = card
        again.id = BindingID.random()
        again.boundAt = bench.clock.now.addingTimeInterval(1)
        next.bindings.append(again)
        try await bench.store.commit(StoreTestData.change(of: next, at: bench.clock.now))

        let login = bench.login()
        let challenge = try await login.issueChallenge()
        let session = try await login.login(try await challenge.sign(for: .inProcess, with: representative))
        #expect(session.bindingID == again.id)
        #expect(session.userID == representativeID)
    }

    /// The code of the evidence refusal `body` throws, or nil (recording an issue) for any other outcome.
    static func refusal(_ body: () async throws -> Any) async -> EvidenceError.Code? {
        do {
            _ = try await body()
            Issue.record("no error")
        } catch RegistrationError.evidenceRefused(let error) {
            return error.code
        } catch {
            Issue.record("got \(error)")
        }
        return nil
    }

    @Test("evidence made for another origin, another step or another owner is refused, and each is used up")
    func foreignEvidence() async throws {
        let bench = try ServiceTestBench()
        defer { bench.remove() }
        let (_, representative, _) = try await bench.registered()
        let clock = bench.clock
        let portal = try PortalOrigin("https://portal.example.jp")
        let desk = EvidenceDesk(
            store: bench.store, validator: bench.validator(), origin: portal, now: { clock.now })

        // A page of another site had the card sign the portal's challenge: the origin names it, and the
        // signature (over the other origin) would not verify for this portal's either.
        let challenge = try await desk.issue(for: .login)
        let foreign = try await challenge.sign(for: try PortalOrigin("https://evil.example"), with: representative)
        #expect(await Self.refusal { try await desk.verify(foreign, for: .login) } == .foreignOrigin)
        // The challenge was used up by the refusal: the same challenge signed for the right origin is a replay.
        let late = try await challenge.sign(for: portal, with: representative)
        #expect(await Self.refusal { try await desk.verify(late, for: .login) } == .challengeUnknown)

        // Lying about the origin does not help: the signature binds the origin signed for.
        let second = try await desk.issue(for: .login)
        var relabelled = try await second.sign(for: try PortalOrigin("https://evil.example"), with: representative)
        relabelled.origin = portal
        #expect(await Self.refusal { try await desk.verify(relabelled, for: .login) } == .signatureInvalid)

        // Out of order: evidence for the renewal's current card sent to its new-card step.
        let current = try EvidencePurpose(flow: "ic-card-renewal", step: "current-card")
        let new = try EvidencePurpose(flow: "ic-card-renewal", step: "new-card")
        let third = try await desk.issue(for: current, owner: "flow-1")
        let forCurrent = try await third.sign(for: portal, with: representative)
        #expect(
            await Self.refusal { try await desk.verify(forCurrent, for: new, owner: "flow-1") } == .wrongStep)

        // Issued to one flow, sent in another.
        let fourth = try await desk.issue(for: current, owner: "flow-1")
        let elsewhere = try await fourth.sign(for: portal, with: representative)
        #expect(
            await Self.refusal { try await desk.verify(elsewhere, for: current, owner: "flow-2") }
                == .challengeNotYours)

        // And the right one passes, once.
        let fifth = try await desk.issue(for: current, owner: "flow-1")
        let good = try await fifth.sign(for: portal, with: representative)
        let verified = try await desk.verify(good, for: current, owner: "flow-1")
        #expect(verified.purpose == current)
        #expect(verified.fingerprint == (try CertificateBinding.fingerprint(of: representative.certificate)))
        #expect(await Self.refusal { try await desk.verify(good, for: current, owner: "flow-1") } == .challengeUnknown)

        // A portal that serves the web refuses evidence made for a program in one process, and the reverse.
        let sixth = try await desk.issue(for: .login)
        let inProcess = try await sixth.sign(for: .inProcess, with: representative)
        #expect(await Self.refusal { try await desk.verify(inProcess, for: .login) } == .foreignOrigin)
    }

    @Test("a wrong signature, an unregistered or an untrusted certificate is refused")
    func refusals() async throws {
        let bench = try ServiceTestBench()
        defer { bench.remove() }
        let (_, representative, _) = try await bench.registered()
        let login = bench.login()

        let challenge = try await login.issueChallenge()
        var forged = try await challenge.sign(for: .inProcess, with: representative)
        forged.signature[10] ^= 0x01
        #expect(await Self.refusal { try await login.login(forged) } == .signatureInvalid)

        let stranger = try bench.credential(name: "未登録 四郎")
        let second = try await login.issueChallenge()
        await #expect(throws: RegistrationError.certificateNotRegistered) {
            try await login.login(try await second.sign(for: .inProcess, with: stranger))
        }

        // The same registered certificate, checked against another CA's root: untrusted.
        let elsewhere = try ServiceTestBench()
        defer { elsewhere.remove() }
        let strictLogin = CertificateLogin(store: bench.store, validator: elsewhere.validator())
        let third = try await strictLogin.issueChallenge()
        #expect(
            await Self.refusal {
                try await strictLogin.login(try await third.sign(for: .inProcess, with: representative))
            }
                == .certificateUntrusted)
    }

    @Test("after a renewal the old certificate is refused and the new one accepted; a revoked one is refused")
    func renewalAndRevocation() async throws {
        let bench = try ServiceTestBench()
        defer { bench.remove() }
        let (registration, representative, agentCredential) = try await bench.registered()
        let representativeID = try #require(registration.representative?.id)
        let old = try #require(registration.activeBindings(of: representativeID, at: bench.clock.now).first)
        let renewed = try bench.credential()
        _ = try await bench.service.commit(
            try await bench.service.prepare(
                .replaceCertificate(old.id, with: renewed.certificate, .icCard), to: registration.id,
                by: .user(representativeID, binding: old.id)))
        let login = bench.login()
        await #expect(throws: RegistrationError.certificateNotActive(.superseded)) {
            try await login.login(try await login.issueChallenge().sign(for: .inProcess, with: representative))
        }
        let session = try await login.login(try await login.issueChallenge().sign(for: .inProcess, with: renewed))
        #expect(session.userID == representativeID)

        // The CA revokes the agent's certificate: with the CA's CRL, the login is refused.
        try bench.authority.revoke(
            agentCredential.certificate.serialNumber, reason: .keyCompromise, at: bench.clock.now)
        let crl = try CertificateRevocationList(
            bytes: bench.authority.publishCRL(for: .eBidding, thisUpdate: bench.clock.now))
        let clock = bench.clock
        let checked = CertificateLogin(store: bench.store, validator: bench.validator(crls: [crl]), now: { clock.now })
        let revoked = await #expect(throws: RegistrationError.self) {
            try await checked.login(try await checked.issueChallenge().sign(for: .inProcess, with: agentCredential))
        }
        guard case .evidenceRefused(let refusal) = revoked, refusal.code == .certificateUntrusted else {
            Issue.record("got \(String(describing: revoked))")
            return
        }
        #expect(refusal.description.contains("revoked") || refusal.description.contains("失効"))
    }
}
