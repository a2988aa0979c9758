import CardCredentials
import CertificateRenewal
import Crypto
import Foundation
import Registration
import RegistrationPostgres
import SwiftASN1
import Testing
import X509

extension ReissueBench {
    /// Another server instance's desk: its own store object over the same database, its own contracts' store.
    func desk(over store: any RegistrationStore) -> ReissueDesk {
        let clock = clock
        let service = RegistrationService(store: store, portal: service.portal, now: { clock.now })
        return ReissueDesk(
            environment: LifecycleEnvironment(
                service: service, validator: CertificateValidator(trustAnchors: [authority.root])),
            accounts: StoredReissueAccounts(store: store), authority: authority)
    }

    /// The user's computer: a key, and a request for `subject` signed with it.
    static func request(for subject: DistinguishedName, key: P256.Signing.PrivateKey = .init()) throws
        -> CertificateSigningRequest
    {
        try CertificateSigningRequest(
            version: .v1, subject: subject, privateKey: Certificate.PrivateKey(key),
            attributes: CertificateSigningRequest.Attributes(), signatureAlgorithm: .ecdsaWithSHA256)
    }
}

/// The reissue across the network: the administrator's side with a session, the user's side with a key made on
/// the user's computer (only its CSR is sent), state and contracts in the store, any instance continuing.
@Suite("Certificate reissue across the network: state and contracts in the store, the key on the user's computer")
struct RemoteReissueTests {
    /// The administrator reissues on `a` and `b` alternately; the user obtains the certificate likewise.
    static func wholeReissue(_ bench: ReissueBench, _ a: ReissueDesk, _ b: ReissueDesk) async throws {
        let session = try await bench.logIn(with: bench.admin)
        let (adminA, adminB) = (RemoteCertificateReissue(desk: a), RemoteCertificateReissue(desk: b))
        var state = try await adminA.start(for: session)
        #expect(state.step == .logOn)
        state = try await adminB.logOn(
            contractID: ReissueBench.contract, password: try ReissueBench.secret(ReissueBench.adminPassword),
            confirmation: try ReissueBench.secret(ReissueBench.adminConfirmation), flow: state.flowID,
            session: session)
        #expect(state.step == .chooseUser)
        let candidates = try await adminA.candidates(flow: state.flowID, session: session)
        #expect(candidates.map(\.loginID) == [ReissueBench.userLoginID])
        state = try await adminB.choose(loginID: ReissueBench.userLoginID, flow: state.flowID, session: session)
        let screen = try await adminA.confirmation(flow: state.flowID, session: session)
        #expect(screen.rows.contains { $0.label == "処理内容" && $0.value == "現在の電子証明書を失効し、再発行する" })
        let receipt = try await adminB.reissue(flow: state.flowID, session: session)
        #expect(receipt.enrollmentCode.count == 19)
        #expect(bench.authority.isRevoked(bench.user.certificate))
        state = try await adminA.state(of: state.flowID, session: session)
        #expect(state.step == .completed)
        #expect(state.revoked == receipt.revoked)
        let stored = try #require(try await bench.store.flow(state.flowID))
        #expect(
            !String(decoding: stored.state, as: UTF8.self).contains(receipt.enrollmentCode),
            "the code is given once, never kept")
        #expect(
            await lifecycleError { _ = try await adminA.reissue(flow: state.flowID, session: session) }
                == .notAtStep(expected: "confirm", current: "completed"))

        // The user's computer: sign in on one instance, obtain on the other; the key stays here.
        let (userA, userB) = (RemoteCertificateEnrollment(desk: a), RemoteCertificateEnrollment(desk: b))
        var enrollment = try await userA.start()
        enrollment = try await userB.signIn(
            contractID: ReissueBench.contract, loginID: ReissueBench.userLoginID,
            password: try ReissueBench.secret(ReissueBench.userPassword),
            confirmation: try ReissueBench.secret(ReissueBench.userConfirmation), code: receipt.enrollmentCode,
            flow: enrollment.flowID)
        #expect(enrollment.step == .confirm)
        #expect(enrollment.confirmation?.userName == "再発行 花子")
        let subject = try #require(enrollment.requestSubject)
        let key = P256.Signing.PrivateKey()
        enrollment = try await userA.obtain(
            request: try ReissueBench.request(for: subject, key: key), flow: enrollment.flowID)
        #expect(enrollment.step == .completed)
        let issued = try #require(enrollment.certificate)
        #expect(issued.certificate.publicKey == Certificate.PublicKey(key.publicKey))
        #expect(issued.chain == [bench.authority.root])
        let registration = try await bench.registration()
        let binding = try #require(registration.bindings.first { $0.id == enrollment.bindingID })
        #expect(binding.userID == bench.userID)
        #expect(binding.kind == .fileCertificate)

        // A lost answer loses nothing: the other instance shows the certificate; the key made here logs in.
        #expect(try await userB.state(of: enrollment.flowID).certificate == issued)
        let file = try FileCredential(privateKeyDER: Array(key.derRepresentation), certificate: issued.certificate)
        #expect(try await bench.logIn(with: file).bindingID == enrollment.bindingID)
        #expect(
            await lifecycleError {
                _ = try await userB.obtain(request: try ReissueBench.request(for: subject), flow: enrollment.flowID)
            } == .notAtStep(expected: "confirm", current: "completed"))
        // The code was used once.
        let again = try await userB.start()
        #expect(
            await lifecycleError {
                _ = try await userA.signIn(
                    contractID: ReissueBench.contract, loginID: ReissueBench.userLoginID,
                    password: try ReissueBench.secret(ReissueBench.userPassword),
                    confirmation: try ReissueBench.secret(ReissueBench.userConfirmation),
                    code: receipt.enrollmentCode, flow: again.flowID)
            } == .enrollmentCodeInvalid)
    }

    @Test("a reissue and the user's enrollment on two instances over one SQLite file")
    func twoInstancesSQLite() async throws {
        let path = FileManager.default.temporaryDirectory.appending(path: "reissue-\(UUID().uuidString).sqlite").path
        defer { try? FileManager.default.removeItem(atPath: path) }
        let bench = try await ReissueBench(store: try SQLiteRegistrationStore(path: path), storedAccounts: true)
        try await Self.wholeReissue(bench, bench.desk, bench.desk(over: try SQLiteRegistrationStore(path: path)))
    }

    @Test("a reissue and the user's enrollment on two instances over one PostgreSQL schema")
    func twoInstancesPostgres() async throws {
        var configuration = try PostgresStoreConfiguration(
            url: ProcessInfo.processInfo.environment["PI_TEST_POSTGRES_URL"]
                ?? "postgres://pi_test:pi_test@127.0.0.1:5432/pi_test", environment: [:])
        configuration.schema =
            "t_\(Int(Date().timeIntervalSince1970))_reissue_\(UUID().uuidString.prefix(8).lowercased())"
        let first = try await PostgresRegistrationStore(configuration)
        let second = try await PostgresRegistrationStore(configuration)
        let bench = try await ReissueBench(store: first, storedAccounts: true)
        try await Self.wholeReissue(bench, bench.desk, bench.desk(over: second))
        try await first.execute(sql: "DROP SCHEMA \"\(configuration.schema ?? "")\" CASCADE")
        await first.close()
        await second.close()
    }

    @Test("a request for another subject or with a bad signature is refused; the code stays usable")
    func requestsRefused() async throws {
        let bench = try await ReissueBench(storedAccounts: true)
        let receipt = try await bench.reissue()
        let enrollment = RemoteCertificateEnrollment(desk: bench.desk)
        var state = try await enrollment.start()
        state = try await enrollment.signIn(
            contractID: ReissueBench.contract, loginID: ReissueBench.userLoginID,
            password: try ReissueBench.secret(ReissueBench.userPassword),
            confirmation: try ReissueBench.secret(ReissueBench.userConfirmation), code: receipt.enrollmentCode,
            flow: state.flowID)
        let flowID = state.flowID
        let other = try DistinguishedName {
            OrganizationName(ReissueBench.company)
            CommonName("再発行 一郎")
        }
        let wrongSubject = await lifecycleError {
            _ = try await enrollment.obtain(request: try ReissueBench.request(for: other), flow: flowID)
        }
        #expect(wrongSubject?.code == .certificateRequestRefused)

        // The same request with its signature's last byte changed: it still parses, it no longer verifies.
        let subject = try #require(state.requestSubject)
        var der = try derBytes(try ReissueBench.request(for: subject))
        der[der.count - 1] ^= 0x01
        let tampered = try CertificateSigningRequest(derEncoded: der)
        let badSignature = await lifecycleError { _ = try await enrollment.obtain(request: tampered, flow: flowID) }
        #expect(badSignature?.code == .certificateRequestRefused)
        #expect(bench.authority.issuedCount == 0)

        // The CA refusing leaves the code too; then the right request is issued.
        bench.authority.mode = .refuse
        let refused = await lifecycleError {
            _ = try await enrollment.obtain(request: try ReissueBench.request(for: subject), flow: flowID)
        }
        #expect(refused?.code == .certificateRequestRefused)
        bench.authority.mode = .normal
        state = try await enrollment.obtain(request: try ReissueBench.request(for: subject), flow: flowID)
        #expect(state.step == .completed)
    }

    @Test("the administrator's flow: a representative's session only, steps in order, another session sees nothing")
    func administratorRefusals() async throws {
        let bench = try await ReissueBench(storedAccounts: true)
        let reissue = RemoteCertificateReissue(desk: bench.desk)
        let user = try await bench.logIn(with: bench.user)
        #expect(await lifecycleError { _ = try await reissue.start(for: user) } == .notTheAdministrator)

        let session = try await bench.logIn(with: bench.admin)
        let state = try await reissue.start(for: session)
        #expect(
            await lifecycleError {
                _ = try await reissue.choose(loginID: ReissueBench.userLoginID, flow: state.flowID, session: session)
            } == .notAtStep(expected: "choose-user", current: "log-on"))
        #expect(
            await lifecycleError { _ = try await reissue.state(of: state.flowID, session: user) }
                == .flowNotFound(state.flowID))
        #expect(
            await lifecycleError { _ = try await reissue.back(flow: state.flowID, session: session) }
                == .notAtStep(expected: "choose-user or confirm", current: "log-on"))

        // Another business's representative, with this contract's right passwords: answered as an unknown contract
        // (not "not the administrator", which would tell that the contract exists), and nothing counted.
        let outsider = try ReissueBench.credential(bench.authority, name: "他社 三郎", from: bench.clock.now, days: 365)
        let otherBusiness = try BusinessInformation(
            name: ReissueBench.company, postalCode: "100-0013", address: "東京都千代田区霞が関2-2-2",
            representativeTitle: "代表取締役", representativeName: "他社 三郎", corporateNumber: nil, phone: "03-9876-5432")
        _ = try await bench.service.commit(
            try await bench.service.prepareRegistration(
                of: otherBusiness,
                representative: try UserInformation(
                    title: "代表取締役", name: "他社 三郎", postalCode: "1000013", address: "東京都千代田区霞が関2-2-2",
                    phone: "03-9876-5432", fax: nil, mail: "saburo@example.co.jp"),
                certificate: outsider.certificate, kind: .fileCertificate, by: .portal(operator: "test")))
        let other = try await bench.logIn(with: outsider)
        let probe = try await reissue.start(for: other)
        let probed = await lifecycleError {
            _ = try await reissue.logOn(
                contractID: ReissueBench.contract, password: try ReissueBench.secret(ReissueBench.adminPassword),
                confirmation: try ReissueBench.secret(ReissueBench.adminConfirmation), flow: probe.flowID,
                session: other)
        }
        #expect(probed == .signInRejected(attemptsLeft: nil))
        let contract = try ContractID(ReissueBench.contract)
        #expect(try await bench.accounts.account(contract)?.administratorFailedAttempts == 0)

        // Wrong passwords count in the store: five lock the contract, here and for every instance.
        for attempt in 1...5 {
            let error = await lifecycleError {
                _ = try await reissue.logOn(
                    contractID: ReissueBench.contract, password: try ReissueBench.secret("wrong-pass-\(attempt)"),
                    confirmation: try ReissueBench.secret(ReissueBench.adminConfirmation), flow: state.flowID,
                    session: session)
            }
            #expect(
                error == (attempt < 5 ? .signInRejected(attemptsLeft: 5 - attempt) : .serviceLocked(contractWide: true))
            )
        }
        let locked = await lifecycleError {
            _ = try await reissue.logOn(
                contractID: ReissueBench.contract, password: try ReissueBench.secret(ReissueBench.adminPassword),
                confirmation: try ReissueBench.secret(ReissueBench.adminConfirmation), flow: state.flowID,
                session: session)
        }
        #expect(locked == .serviceLocked(contractWide: true))
        #expect(try await reissue.state(of: state.flowID, session: session).step == .logOn)
    }

    @Test("contracts in the store: wrong passwords typed at once on two instances are all counted")
    func concurrentCounts() async throws {
        let path = FileManager.default.temporaryDirectory.appending(path: "reissue-\(UUID().uuidString).sqlite").path
        defer { try? FileManager.default.removeItem(atPath: path) }
        let bench = try await ReissueBench(store: try SQLiteRegistrationStore(path: path), storedAccounts: true)
        let other = bench.desk(over: try SQLiteRegistrationStore(path: path))
        let contract = try ContractID(ReissueBench.contract)
        await withTaskGroup(of: Void.self) { group in
            for index in 0..<4 {
                let accounts = index.isMultiple(of: 2) ? bench.desk.accounts : other.accounts
                group.addTask { _ = try? await accounts.update(contract) { $0.administratorFailedAttempts += 1 } }
            }
        }
        #expect(try await other.accounts.account(contract)?.administratorFailedAttempts == 4)
    }

    @Test("codes in the store: taken once across instances; a new grant replaces the user's earlier code")
    func storedCodes() async throws {
        let path = FileManager.default.temporaryDirectory.appending(path: "reissue-\(UUID().uuidString).sqlite").path
        defer { try? FileManager.default.removeItem(atPath: path) }
        let bench = try await ReissueBench(store: try SQLiteRegistrationStore(path: path), storedAccounts: true)
        let other = bench.desk(over: try SQLiteRegistrationStore(path: path))
        let first = try await bench.reissue()
        let second = try await bench.reissue()
        let firstDigest = EnrollmentGrant.digest(ofCode: first.enrollmentCode)
        let secondDigest = EnrollmentGrant.digest(ofCode: second.enrollmentCode)
        #expect(try await other.accounts.grant(codeDigest: firstDigest) == nil, "the earlier code is dropped")
        #expect(try await other.accounts.grant(codeDigest: secondDigest)?.loginID == ReissueBench.userLoginID)
        async let one = bench.desk.accounts.takeGrant(codeDigest: secondDigest)
        async let two = other.accounts.takeGrant(codeDigest: secondDigest)
        let taken = [try await one, try await two].compactMap { $0 }
        #expect(taken.count == 1)
    }
}

/// The DER of an ASN.1 value.
func derBytes(_ value: some DERSerializable) throws -> [UInt8] {
    var serializer = DER.Serializer()
    try serializer.serialize(value)
    return serializer.serializedBytes
}
