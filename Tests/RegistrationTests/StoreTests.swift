import Foundation
import Synchronization
import Testing
import X509

@testable import Registration

/// Whether a test's writer still runs, for its readers.
final class WritingFlag: Sendable {
    let state = Mutex(true)
}

/// The stores the conformance suite runs against.
enum StoreUnderTest: String, CaseIterable, Sendable, CustomTestStringConvertible {
    case inMemory
    case sqliteFile
    case sqliteMemory
    /// A PostgreSQL store in a schema of its own (see ``PostgresTestDatabase``): never skipped, a test fails when
    /// the server cannot be reached.
    case postgres

    var testDescription: String { rawValue }

    func make() async throws -> any RegistrationStore {
        switch self {
        case .inMemory: InMemoryRegistrationStore()
        case .sqliteFile: try SQLiteRegistrationStore(path: try StoreTests.temporaryPath())
        case .sqliteMemory: try SQLiteRegistrationStore.inMemory()
        case .postgres: try await PostgresTestDatabase.store()
        }
    }
}

/// One conformance suite for every ``RegistrationStore``, then what only the SQLite store has (a file, WAL,
/// foreign keys, migrations, several processes).
struct StoreTests {
    typealias Sample = StoreTestData

    static func temporaryPath(_ name: String = "registrations.sqlite") throws -> String {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent(
            "store-tests-\(UUID().uuidString)", isDirectory: true)
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        return folder.appendingPathComponent(name).path
    }

    /// The `storeFailure` sentence of an error, or nil for another error.
    static func failureSentence(_ error: RegistrationError?) -> String? {
        if case .storeFailure(let sentence) = error { return sentence }
        return nil
    }

    // MARK: Round trip

    @Test("a full registration reads back equal, by every query", arguments: StoreUnderTest.allCases)
    func roundTrip(_ kind: StoreUnderTest) async throws {
        let store = try await kind.make()
        let registration = try Sample.fullRegistration()
        try await store.commit(Sample.newRegistrationCommit(registration))

        #expect(try await store.registration(registration.id) == registration)
        let agent = try #require(registration.users.last)
        #expect(try await store.registration(ofUser: agent.id) == registration)
        let superseded = try #require(registration.bindings.first)
        #expect(superseded.recordedStatus == .superseded)
        #expect(try await store.registration(boundTo: superseded.fingerprint) == registration)
        #expect(try await store.registrations() == [registration])

        // Nothing else answers.
        #expect(try await store.registration(BusinessID.random()) == nil)
        #expect(try await store.registration(ofUser: UserID.random()) == nil)
        #expect(try await store.registration(boundTo: String(repeating: "0", count: 64)) == nil)
    }

    @Test(
        "a certificate's holder is its binding that counts, its user and business", arguments: StoreUnderTest.allCases)
    func holderOfCertificate(_ kind: StoreUnderTest) async throws {
        let store = try await kind.make()
        /// The holder, checked against what it is defined by: the binding that counts in the registration that
        /// `registration(boundTo:)` finds.
        func holder(_ fingerprint: String) async throws -> CertificateHolder? {
            let holder = try await store.holder(ofCertificate: fingerprint)
            let registration = try await store.registration(boundTo: fingerprint)
            #expect(holder == (try registration.flatMap { try CertificateHolder(fingerprint: fingerprint, in: $0) }))
            return holder
        }
        let registration = try Sample.fullRegistration()
        try await store.commit(Sample.newRegistrationCommit(registration))
        for binding in registration.bindings {
            #expect(
                try await holder(binding.fingerprint)
                    == CertificateHolder(
                        businessID: registration.id, businessName: registration.business.name, binding: binding,
                        user: try registration.user(binding.userID)))
        }
        #expect(try await holder(String(repeating: "0", count: 64)) == nil)

        // The card removed, then bound again: the new, active binding counts, not the first in the list; nor an
        // ended binding of it bound later still.
        var next = try Sample.nextVersion(of: registration)
        let card = try #require(next.bindings.first { $0.recordedStatus == .active })
        let index = try #require(next.bindings.firstIndex(of: card))
        next.bindings[index].recordedStatus = .removed
        next.bindings[index].endedAt = Sample.at(40)
        var again = card
        again.id = BindingID.random()
        again.boundAt = Sample.at(50)
        var ended = card
        ended.id = BindingID.random()
        ended.boundAt = Sample.at(55)
        ended.recordedStatus = .removed
        ended.endedAt = Sample.at(56)
        next.bindings += [again, ended]
        try await store.commit(Sample.change(of: next, at: Sample.at(56)))
        #expect(try await holder(card.fingerprint)?.binding == again)
        #expect(try await holder(card.fingerprint)?.user.id == card.userID)

        // Another business bound it later, and removed it: the active binding still counts.
        var other = try Sample.simpleRegistration(name: "二の商事")
        var copy = card
        copy.id = BindingID.random()
        copy.userID = other.users[0].id
        copy.boundAt = Sample.at(70)
        copy.recordedStatus = .removed
        copy.endedAt = Sample.at(71)
        other.bindings.append(copy)
        try await store.commit(Sample.newRegistrationCommit(other))
        #expect(try await holder(card.fingerprint)?.binding == again)

        // None active: the binding bound last, in the other business.
        var last = try Sample.nextVersion(of: next)
        let againIndex = try #require(last.bindings.firstIndex { $0.id == again.id })
        last.bindings[againIndex].recordedStatus = .removed
        last.bindings[againIndex].endedAt = Sample.at(80)
        try await store.commit(Sample.change(of: last, at: Sample.at(80)))
        let found = try await holder(card.fingerprint)
        #expect(found?.binding == copy)
        #expect(found?.businessID == other.id)
        #expect(found?.businessName == other.business.name)
    }

    @Test("a change replaces the registration's rows: removed ones are gone", arguments: StoreUnderTest.allCases)
    func changeReplacesRows(_ kind: StoreUnderTest) async throws {
        let store = try await kind.make()
        let first = try Sample.fullRegistration()
        try await store.commit(Sample.newRegistrationCommit(first))

        var second = try Sample.nextVersion(of: first)
        second.qualifications.removeFirst()
        second.qualifications.append(Qualification(kind: .purchase, grade: .b))
        second.users[1].status = .deleted
        second.users[1].deletedAt = Sample.at(500.5)
        for index in second.bindings.indices where second.bindings[index].userID == second.users[1].id {
            if second.bindings[index].recordedStatus == .active {
                second.bindings[index].recordedStatus = .removed
                second.bindings[index].endedAt = Sample.at(500.5)
            }
        }
        second.powersOfAttorney[0].isSuperseded = true
        second.bindings.remove(at: 2)
        let newCard = try Sample.binding(for: second.users[0].id, "調達 太郎 (新)", at: Sample.at(600))
        second.bindings.append(newCard)
        try await store.commit(Sample.change(of: second, at: Sample.at(600)))

        #expect(try await store.registration(first.id) == second)
        #expect(try await store.registration(boundTo: newCard.fingerprint) == second)
        #expect(try await store.registration(boundTo: first.bindings[2].fingerprint) == nil)

        // A user removed from the list is gone with its bindings and powers of attorney.
        var third = try Sample.nextVersion(of: second)
        let agent = third.users.removeLast()
        third.bindings.removeAll { $0.userID == agent.id }
        third.powersOfAttorney = []
        try await store.commit(Sample.change(of: third, at: Sample.at(700)))
        #expect(try await store.registration(first.id) == third)
        #expect(try await store.registration(ofUser: agent.id) == nil)
    }

    @Test("registrations are listed in order of registration", arguments: StoreUnderTest.allCases)
    func registrationsInOrder(_ kind: StoreUnderTest) async throws {
        let store = try await kind.make()
        let later = try Sample.simpleRegistration(name: "後の商事", at: Sample.at(100))
        let earlier = try Sample.simpleRegistration(name: "先の商事", at: Sample.at(50))
        let sameMoment = try Sample.simpleRegistration(name: "同時の商事", at: Sample.at(100))
        for registration in [later, earlier, sameMoment] {
            try await store.commit(Sample.newRegistrationCommit(registration))
        }
        #expect(try await store.registrations().map(\.id) == [earlier.id, later.id, sameMoment.id])
    }

    @Test(
        "pages filtered by 法人番号 and by an active certificate expiring within some days",
        arguments: StoreUnderTest.allCases)
    func registrationFilters(_ kind: StoreUnderTest) async throws {
        let store = try await kind.make()
        var stored: [BusinessRegistration] = []
        for index in 0..<6 {
            var registration = try Sample.simpleRegistration(name: "期限の商事\(index)", at: Sample.at(Double(index)))
            // Business i's card ends i × 10 days after the epoch; business 4's card is superseded (not active).
            registration.bindings[0].notValidAfter = Sample.at(Double(index) * 10 * 86_400)
            if index == 4 { registration.bindings[0].recordedStatus = .superseded }
            try await store.commit(Sample.newRegistrationCommit(registration))
            stored.append(registration)
        }
        let number = try #require(stored[2].business.corporateNumber)
        #expect(try await store.registrations(RegistrationPage(limit: 10, corporateNumber: number)) == [stored[2]])
        #expect(
            try await store.registrations(
                RegistrationPage(
                    limit: 10, corporateNumber: try CorporateNumber(Sample.corporateNumber(for: "どこにもない商事"))
                )
            ).isEmpty)
        #expect(
            try await store.registrations(
                RegistrationPage(limit: 10, nameContaining: "期限の商事3", corporateNumber: number)
            ).isEmpty)

        // Within 45 days of day 5: ends on days 10, 20, 30, 40, 50 → 10 to 40; business 4 (day 40) is superseded.
        let window = RegistrationPage.expiry(withinDays: 45, from: Sample.at(5 * 86_400))
        let expiring = try await store.registrations(RegistrationPage(limit: 10, certificateExpiry: window))
        #expect(expiring.map(\.id) == [stored[1].id, stored[2].id, stored[3].id])
        #expect(expiring == stored.filter { RegistrationPage(limit: 1, certificateExpiry: window).matches($0) })
        let second = try await store.registrations(
            RegistrationPage(limit: 1, after: stored[1].id, certificateExpiry: window))
        #expect(second.map(\.id) == [stored[2].id])
        #expect(RegistrationPage.expiry(withinDays: 0, from: Sample.epoch).isEmpty)
    }

    @Test(
        "registrations are read in pages, in order of registration, filtered by name",
        arguments: StoreUnderTest.allCases)
    func registrationPages(_ kind: StoreUnderTest) async throws {
        let store = try await kind.make()
        var stored: [BusinessRegistration] = []
        for index in 0..<7 {
            // Two at each moment: the order within one moment is the order of storing.
            let name = index % 3 == 0 ? "北の商事\(index)" : "南の商事\(index)"
            let registration = try Sample.simpleRegistration(name: name, at: Sample.at(Double(index / 2)))
            try await store.commit(Sample.newRegistrationCommit(registration))
            stored.append(registration)
        }
        var pages: [[BusinessID]] = []
        var after: BusinessID?
        while true {
            let page = try await store.registrations(RegistrationPage(limit: 3, after: after))
            if page.isEmpty { break }
            pages.append(page.map(\.id))
            after = page.last?.id
        }
        #expect(pages.map(\.count) == [3, 3, 1])
        #expect(pages.flatMap { $0 } == stored.map(\.id))

        let north = try await store.registrations(RegistrationPage(limit: 10, nameContaining: "北の"))
        #expect(north.map(\.business.name) == ["北の商事0", "北の商事3", "北の商事6"])
        let afterFirstNorth = try await store.registrations(
            RegistrationPage(limit: 1, after: north[0].id, nameContaining: "北の"))
        #expect(afterFirstNorth.map(\.id) == [north[1].id])
        // % and _ are plain text, an unknown business gives no page, a limit of 0 nothing.
        #expect(try await store.registrations(RegistrationPage(limit: 10, nameContaining: "%")).isEmpty)
        #expect(try await store.registrations(RegistrationPage(limit: 10, after: BusinessID.random())).isEmpty)
        #expect(try await store.registrations(RegistrationPage(limit: 0)).isEmpty)
    }

    // MARK: Versions

    @Test("a stale commit is refused and writes nothing", arguments: StoreUnderTest.allCases)
    func staleCommit(_ kind: StoreUnderTest) async throws {
        let store = try await kind.make()
        let first = try Sample.simpleRegistration()
        try await store.commit(Sample.newRegistrationCommit(first))
        let second = try Sample.nextVersion(of: first)
        try await store.commit(Sample.change(of: second, at: Sample.at(10)))
        let history = try await store.history(of: first.id)
        let outbox = try await store.outbox(state: nil)
        #expect(history.count == 2)
        #expect(outbox.count == 4)

        // Prepared against version 1, committed after version 2 was.
        var stale = try Sample.nextVersion(of: first, phone: "03-0000-1111")
        stale.bindings.append(try Sample.binding(for: first.users[0].id, "stale", at: Sample.at(20)))
        await #expect(throws: RegistrationError.staleChange(first.id)) {
            try await store.commit(Sample.change(of: stale, at: Sample.at(20)))
        }
        // A version that was never reached.
        var future = second
        future.version = 9
        await #expect(throws: RegistrationError.staleChange(first.id)) {
            try await store.commit(Sample.change(of: future, at: Sample.at(21)))
        }
        // A change to a registration that does not exist.
        let unknown = try Sample.nextVersion(of: Sample.simpleRegistration())
        await #expect(throws: RegistrationError.staleChange(unknown.id)) {
            try await store.commit(Sample.change(of: unknown, at: Sample.at(22)))
        }

        #expect(try await store.registration(first.id) == second)
        #expect(try await store.history(of: first.id) == history)
        #expect(try await store.outbox(state: nil) == outbox)
        #expect(try await store.registration(boundTo: stale.bindings[1].fingerprint) == nil)
        #expect(try await store.registration(unknown.id) == nil)
    }

    @Test("a new registration stored twice is refused", arguments: StoreUnderTest.allCases)
    func newRegistrationTwice(_ kind: StoreUnderTest) async throws {
        let store = try await kind.make()
        let registration = try Sample.simpleRegistration()
        try await store.commit(Sample.newRegistrationCommit(registration))
        var again = registration
        again.business.name = "別の商事"
        again.bindings = []
        await #expect(throws: RegistrationError.staleChange(registration.id)) {
            try await store.commit(Sample.newRegistrationCommit(again))
        }
        #expect(try await store.registration(registration.id) == registration)
        #expect(try await store.history(of: registration.id).count == 1)
        #expect(try await store.outbox(state: nil).count == 2)
    }

    @Test("a commit whose version is not the expected one plus one is refused", arguments: StoreUnderTest.allCases)
    func versionNotNext(_ kind: StoreUnderTest) async throws {
        let store = try await kind.make()
        var registration = try Sample.simpleRegistration()
        registration.version = 2
        var commit = Sample.newRegistrationCommit(registration)
        commit.expectedVersion = 0
        let error = await #expect(throws: RegistrationError.self) { try await store.commit(commit) }
        #expect(Self.failureSentence(error)?.contains("not 1") == true)
        #expect(try await store.registrations().isEmpty)
        #expect(try await store.outbox(state: nil).isEmpty)
    }

    @Test(
        "a commit whose parts name another business, or a missing user, is refused", arguments: StoreUnderTest.allCases)
    func inconsistentCommit(_ kind: StoreUnderTest) async throws {
        let store = try await kind.make()
        let registration = try Sample.simpleRegistration()
        var foreignRecord = Sample.newRegistrationCommit(registration)
        foreignRecord.record.businessID = BusinessID.random()
        var foreignMessage = Sample.newRegistrationCommit(registration)
        foreignMessage.outbox[1].businessID = BusinessID.random()
        var orphan = registration
        orphan.bindings.append(try Sample.binding(for: UserID.random(), "誰でもない", at: Sample.epoch))
        for commit in [foreignRecord, foreignMessage, Sample.newRegistrationCommit(orphan)] {
            let error = await #expect(throws: RegistrationError.self) { try await store.commit(commit) }
            #expect(Self.failureSentence(error) != nil, "\(String(describing: error))")
        }
        #expect(try await store.registrations().isEmpty)
        #expect(try await store.outbox(state: nil).isEmpty)
    }

    @Test(
        "a registration read while commits change it is one version's, never the business of one and the users of another",
        arguments: StoreUnderTest.allCases)
    func readsDuringCommits(_ kind: StoreUnderTest) async throws {
        let store = try await kind.make()
        let first = try Sample.simpleRegistration()
        try await store.commit(Sample.newRegistrationCommit(first))
        let writing = WritingFlag()
        let torn = try await withThrowingTaskGroup(of: [String].self) { group in
            // Each commit gives the business and its representative the same new telephone number.
            group.addTask {
                defer { writing.state.withLock { $0 = false } }
                var current = first
                for round in 1...200 {
                    var next = try Sample.nextVersion(of: current, phone: "03-5555-\(String(format: "%04d", round))")
                    next.users[0].information.phone = next.business.phone
                    try await store.commit(Sample.change(of: next, at: Sample.at(Double(round))))
                    current = next
                }
                return []
            }
            for reader in 0..<2 {
                group.addTask {
                    var torn: [String] = []
                    while writing.state.withLock({ $0 }) {
                        let read =
                            reader == 0
                            ? try await store.registration(first.id)
                            : try await store.registration(boundTo: first.bindings[0].fingerprint)
                        let registration = try #require(read)
                        let business = registration.business.phone.text
                        let user = registration.users[0].information.phone.text
                        // From version 2 on both numbers are the same; at version 1 the user's is its own.
                        if registration.version >= 2 ? business != user : user != first.users[0].information.phone.text
                        {
                            torn.append("v\(registration.version): business \(business), user \(user)")
                        }
                    }
                    return torn
                }
            }
            return try await group.reduce(into: [String]()) { $0 += $1 }
        }
        #expect(torn.isEmpty, "\(torn.count) reads mixed two versions, e.g. \(torn.prefix(3))")
    }

    @Test("ten concurrent commits over one version: exactly one wins", arguments: StoreUnderTest.allCases)
    func concurrentCommits(_ kind: StoreUnderTest) async throws {
        let store = try await kind.make()
        let first = try Sample.simpleRegistration()
        try await store.commit(Sample.newRegistrationCommit(first))
        let contenders = try (0..<10).map { index in
            try Sample.nextVersion(of: first, phone: "03-0000-\(String(format: "%04d", index))")
        }
        let results = await withTaskGroup(of: Result<String, RegistrationError>.self) { group in
            for (index, next) in contenders.enumerated() {
                group.addTask {
                    do throws(RegistrationError) {
                        try await store.commit(Sample.change(of: next, at: Sample.at(Double(index))))
                        return .success(next.business.phone.text)
                    } catch {
                        return .failure(error)
                    }
                }
            }
            var results: [Result<String, RegistrationError>] = []
            for await result in group { results.append(result) }
            return results
        }
        let winners = results.compactMap { try? $0.get() }
        #expect(winners.count == 1)
        let failures = results.compactMap { result -> RegistrationError? in
            if case .failure(let error) = result { return error }
            return nil
        }
        #expect(failures == Array(repeating: .staleChange(first.id), count: 9))
        let stored = try #require(try await store.registration(first.id))
        #expect(stored.version == 2)
        #expect(stored.business.phone.text == winners.first)
        #expect(try await store.history(of: first.id).map(\.version) == [1, 2])
        #expect(try await store.outbox(state: nil).count == 4)
    }

    // MARK: Certificates

    @Test("an active certificate cannot be bound in a second registration", arguments: StoreUnderTest.allCases)
    func activeFingerprintInTwoRegistrations(_ kind: StoreUnderTest) async throws {
        let store = try await kind.make()
        let first = try Sample.simpleRegistration(name: "一の商事")
        try await store.commit(Sample.newRegistrationCommit(first))
        let card = first.bindings[0]

        var second = try Sample.simpleRegistration(name: "二の商事")
        var copy = card
        copy.id = BindingID.random()
        copy.userID = second.users[0].id
        second.bindings.append(copy)
        await #expect(throws: RegistrationError.certificateAlreadyBound(fingerprint: card.fingerprint)) {
            try await store.commit(Sample.newRegistrationCommit(second))
        }
        #expect(try await store.registration(second.id) == nil)
        #expect(try await store.history(of: second.id).isEmpty)
        #expect(try await store.outbox(state: nil).map(\.businessID) == [first.id, first.id])

        // A binding that is not active may name the certificate.
        second.bindings[1].recordedStatus = .removed
        try await store.commit(Sample.newRegistrationCommit(second))
        #expect(try await store.registration(boundTo: card.fingerprint)?.id == first.id)

        // Once the first registration removed it, the second may make it active.
        var firstNext = try Sample.nextVersion(of: first)
        firstNext.bindings[0].recordedStatus = .removed
        try await store.commit(Sample.change(of: firstNext, at: Sample.at(10)))
        var secondNext = try Sample.nextVersion(of: second)
        secondNext.bindings[1].recordedStatus = .active
        try await store.commit(Sample.change(of: secondNext, at: Sample.at(11)))
        #expect(try await store.registration(boundTo: card.fingerprint) == secondNext)

        // Making it active again in the first is now refused, and changes nothing.
        var firstAgain = try Sample.nextVersion(of: firstNext)
        firstAgain.bindings[0].recordedStatus = .active
        await #expect(throws: RegistrationError.certificateAlreadyBound(fingerprint: card.fingerprint)) {
            try await store.commit(Sample.change(of: firstAgain, at: Sample.at(12)))
        }
        #expect(try await store.registration(first.id) == firstNext)
        #expect(try await store.history(of: first.id).count == 2)
    }

    @Test("a certificate active twice in one registration is refused", arguments: StoreUnderTest.allCases)
    func activeFingerprintTwiceInOne(_ kind: StoreUnderTest) async throws {
        let store = try await kind.make()
        var registration = try Sample.simpleRegistration()
        let agent = try Sample.agent(at: Sample.epoch)
        registration.users.append(agent)
        var copy = registration.bindings[0]
        copy.id = BindingID.random()
        copy.userID = agent.id
        registration.bindings.append(copy)
        await #expect(throws: RegistrationError.certificateAlreadyBound(fingerprint: copy.fingerprint)) {
            try await store.commit(Sample.newRegistrationCommit(registration))
        }
        #expect(try await store.registrations().isEmpty)
    }

    @Test("a record identifier of another registration is refused", arguments: StoreUnderTest.allCases)
    func identifiersAreUnique(_ kind: StoreUnderTest) async throws {
        let store = try await kind.make()
        let first = try Sample.simpleRegistration(name: "一の商事")
        try await store.commit(Sample.newRegistrationCommit(first))

        var sharedUser = try Sample.simpleRegistration(name: "二の商事")
        sharedUser.users[0].id = first.users[0].id
        sharedUser.bindings[0].userID = first.users[0].id
        var sharedBinding = try Sample.simpleRegistration(name: "三の商事")
        sharedBinding.bindings[0].id = first.bindings[0].id
        let replayed = Sample.newRegistrationCommit(first)
        var sharedMessage = Sample.newRegistrationCommit(try Sample.simpleRegistration(name: "四の商事"))
        sharedMessage.outbox[0].id = replayed.outbox[0].id
        try await store.commit(replayed.with(registration: try Sample.simpleRegistration(name: "五の商事")))

        for commit in [
            Sample.newRegistrationCommit(sharedUser), Sample.newRegistrationCommit(sharedBinding), sharedMessage,
        ] {
            let error = await #expect(throws: RegistrationError.self) { try await store.commit(commit) }
            #expect(Self.failureSentence(error) != nil, "\(String(describing: error))")
        }
        #expect(try await store.registrations().count == 2)
    }

    // MARK: History

    @Test("the history lists the commits oldest first", arguments: StoreUnderTest.allCases)
    func historyOrder(_ kind: StoreUnderTest) async throws {
        let store = try await kind.make()
        var registration = try Sample.simpleRegistration()
        let other = try Sample.simpleRegistration(name: "他の商事")
        var records: [ChangeRecord] = []
        let register = Sample.newRegistrationCommit(registration)
        try await store.commit(register)
        try await store.commit(Sample.newRegistrationCommit(other))
        records.append(register.record)
        for (index, kind) in ["updateBusinessInformation", "addCertificate", "updateUserInformation"].enumerated() {
            registration = try Sample.nextVersion(of: registration, phone: "03-1111-000\(index)")
            // Committed at earlier and earlier moments: the order is the order of commits.
            let commit = Sample.change(
                of: registration, kind: kind, actor: registration.users[0].id, at: Sample.at(-Double(index)))
            try await store.commit(commit)
            records.append(commit.record)
        }
        #expect(try await store.history(of: registration.id) == records)
        #expect(try await store.history(of: other.id).map(\.kind) == ["register"])
        #expect(try await store.history(of: BusinessID.random()).isEmpty)
    }

    // MARK: Login challenges

    @Test("a login challenge is taken once; expired ones are purged", arguments: StoreUnderTest.allCases)
    func challenges(_ kind: StoreUnderTest) async throws {
        let store = try await kind.make()
        let challenge = try Sample.challenge(
            0xa1b2, nonce: (0..<32).map { UInt8($0 * 7 & 0xFF) }, expiresAt: Sample.at(300), owner: "flow-1")
        try await store.insert(challenge)
        let error = await #expect(throws: RegistrationError.self) { try await store.insert(challenge) }
        #expect(Self.failureSentence(error)?.contains("exists already") == true)
        // Read back whole: the nonce, the flow and step, the owner and both times.
        #expect(try await store.takeChallenge(challenge.id) == challenge)
        #expect(try await store.takeChallenge(challenge.id) == nil)
        #expect(try await store.takeChallenge("unknown") == nil)

        let expiries: [Double] = [100, 200, 300]
        let issued = try expiries.enumerated().map { try Sample.challenge($0.offset, expiresAt: Sample.at($0.element)) }
        for challenge in issued { try await store.insert(challenge) }
        // Expired before 200: only the first (its expiry is cut to whole seconds, as it is signed); the one
        // expiring at 200 itself stays.
        #expect(try await store.purgeChallenges(expiredBefore: Sample.at(200).addingTimeInterval(-1)) == 1)
        #expect(try await store.takeChallenge(issued[0].id) == nil)
        #expect(try await store.purgeChallenges(expiredBefore: Sample.at(1_000)) == 2)
        #expect(try await store.takeChallenge(issued[1].id) == nil)
        #expect(try await store.takeChallenge(issued[2].id) == nil)
        #expect(try await store.purgeChallenges(expiredBefore: Sample.at(1_000)) == 0)
    }

    // MARK: Outbox

    @Test(
        "the outbox leases due messages, waits for the message before, records outcomes",
        arguments: StoreUnderTest.allCases)
    func outbox(_ kind: StoreUnderTest) async throws {
        let store = try await kind.make()
        let first = try Sample.simpleRegistration(name: "一の商事")
        let firstCommit = Sample.newRegistrationCommit(first, at: Sample.at(0))
        try await store.commit(firstCommit)
        let second = try Sample.simpleRegistration(name: "二の商事")
        let secondCommit = Sample.newRegistrationCommit(second, at: Sample.at(5))
        try await store.commit(secondCommit)
        let handOver = firstCommit.outbox[0]
        let mail = firstCommit.outbox[1]
        let otherHandOver = secondCommit.outbox[0]
        let otherMail = secondCommit.outbox[1]
        #expect(mail.after == handOver.id)
        #expect(try await store.outbox(state: nil) == firstCommit.outbox + secondCommit.outbox)
        #expect(try await store.outbox(state: .pending).count == 4)
        #expect(try await store.outbox(state: .delivered).isEmpty)

        // Nothing is due before it was written; a limit of 0 leases nothing.
        #expect(try await store.leaseDueMessages(at: Sample.at(-1), limit: 10, leaseUntil: Sample.at(60)).isEmpty)
        #expect(try await store.leaseDueMessages(at: Sample.at(10), limit: 0, leaseUntil: Sample.at(60)).isEmpty)

        // The hand-overs are due; the mails wait for them. The limit takes the oldest.
        let leased = try await store.leaseDueMessages(at: Sample.at(1), limit: 10, leaseUntil: Sample.at(61))
        #expect(leased.map(\.id) == [handOver.id])
        #expect(leased.first?.leasedUntil == Sample.at(61))
        let limited = try await store.leaseDueMessages(at: Sample.at(10), limit: 1, leaseUntil: Sample.at(70))
        #expect(limited.map(\.id) == [otherHandOver.id])
        // Leased messages are not leased again before their lease ran out.
        #expect(try await store.leaseDueMessages(at: Sample.at(20), limit: 10, leaseUntil: Sample.at(80)).isEmpty)
        #expect(try await store.outbox(state: .pending).first?.leasedUntil == Sample.at(61))

        // A retry clears the lease and waits until its time.
        try await store.record(
            .retry(error: "GEPS answered 503", nextAttempt: Sample.at(120)), for: handOver.id, at: Sample.at(30))
        var stored = try #require(try await store.outbox(state: nil).first)
        #expect(stored.attempts == 1)
        #expect(stored.leasedUntil == nil)
        #expect(stored.state == .pending)
        #expect(stored.lastError == "GEPS answered 503")
        #expect(stored.nextAttemptAt == Sample.at(120))
        #expect(try await store.leaseDueMessages(at: Sample.at(65), limit: 10, leaseUntil: Sample.at(125)).isEmpty)

        // A lease that ran out makes the message due again.
        let expired = try await store.leaseDueMessages(at: Sample.at(71), limit: 10, leaseUntil: Sample.at(131))
        #expect(expired.map(\.id) == [otherHandOver.id])

        // Delivered: the mail after it becomes due.
        #expect(
            try await store.leaseDueMessages(at: Sample.at(121), limit: 10, leaseUntil: Sample.at(181)).map(\.id) == [
                handOver.id
            ])
        try await store.record(.delivered(receipt: "GEPS-0001"), for: handOver.id, at: Sample.at(122.5))
        stored = try #require(try await store.outbox(state: .delivered).first)
        #expect(stored.id == handOver.id)
        #expect(stored.attempts == 2)
        #expect(stored.deliveredAt == Sample.at(122.5))
        #expect(stored.receipt == "GEPS-0001")
        #expect(stored.lastError == nil)
        #expect(stored.leasedUntil == nil)
        #expect(
            try await store.leaseDueMessages(at: Sample.at(123), limit: 10, leaseUntil: Sample.at(183)).map(\.id) == [
                mail.id
            ])

        // Failed for good: never leased again.
        try await store.record(.failed(error: "550 no such user"), for: mail.id, at: Sample.at(124))
        stored = try #require(try await store.outbox(state: .failed).first)
        #expect(stored.id == mail.id)
        #expect(stored.state == .failed)
        #expect(stored.lastError == "550 no such user")
        #expect(stored.attempts == 1)
        try await store.record(.delivered(receipt: nil), for: otherHandOver.id, at: Sample.at(125))
        #expect(
            try await store.leaseDueMessages(at: Sample.at(1_000), limit: 10, leaseUntil: Sample.at(1_060)).map(\.id)
                == [otherMail.id])
        #expect(try await store.outbox(state: .pending).map(\.id) == [otherMail.id])
        #expect(try await store.outbox(state: .delivered).map(\.id) == [handOver.id, otherHandOver.id])

        let unknown = OutboxMessageID.random()
        await #expect(throws: RegistrationError.outboxMessageNotFound(unknown)) {
            try await store.record(.delivered(receipt: nil), for: unknown, at: Sample.at(126))
        }
    }

    // MARK: Flow state

    @Test(
        "a flow's state is saved at version 1, then only at the next version; expired flows are purged",
        arguments: StoreUnderTest.allCases)
    func flows(_ kind: StoreUnderTest) async throws {
        let store = try await kind.make()
        var flow = StoredFlow(
            id: "flow-a", kind: "ic-card-renewal", owner: "user-1", state: Data("{\"step\":1}".utf8),
            updatedAt: Sample.epoch, expiresAt: Sample.at(600))
        try await store.save(flow)
        #expect(try await store.flow("flow-a") == flow)
        await #expect(throws: RegistrationError.flowChanged("flow-a")) { try await store.save(flow) }

        // Two servers read version 1 and both save version 2: the second is refused, the first's state stays.
        var first = flow
        first.version = 2
        first.state = Data("{\"step\":2}".utf8)
        var second = flow
        second.version = 2
        second.state = Data("{\"step\":\"other\"}".utf8)
        try await store.save(first)
        await #expect(throws: RegistrationError.flowChanged("flow-a")) { try await store.save(second) }
        #expect(try await store.flow("flow-a") == first)

        // Another owner or kind cannot write over it, at any version.
        var stranger = first
        stranger.version = 3
        stranger.owner = "user-2"
        await #expect(throws: RegistrationError.flowChanged("flow-a")) { try await store.save(stranger) }
        stranger.owner = "user-1"
        stranger.kind = "session"
        await #expect(throws: RegistrationError.flowChanged("flow-a")) { try await store.save(stranger) }
        #expect(try await store.flow("flow-a")?.version == 2)

        flow = first
        flow.version = 3
        flow.expiresAt = Sample.at(100)
        try await store.save(flow)
        try await store.save(
            StoredFlow(
                id: "flow-b", kind: "session", owner: "user-1", state: Data(), updatedAt: Sample.epoch,
                expiresAt: Sample.at(900)))
        #expect(try await store.purgeFlows(expiredBefore: Sample.at(200)) == 1)
        #expect(try await store.flow("flow-a") == nil)
        #expect(try await store.removeFlow("flow-b"))
        #expect(try await !store.removeFlow("flow-b"))
        var gone = flow
        gone.version = 4
        await #expect(throws: RegistrationError.flowChanged("flow-a")) { try await store.save(gone) }
    }

    // MARK: SQLite only

    @Test("the SQLite file reopens with everything in it")
    func sqliteReopens() async throws {
        let path = try Self.temporaryPath()
        let registration = try Sample.fullRegistration()
        let commit = Sample.newRegistrationCommit(registration)
        let challenge = try Sample.challenge(0xff, expiresAt: Sample.at(60))
        do {
            let store = try SQLiteRegistrationStore(path: path)
            try await store.commit(commit)
            try await store.insert(challenge)
        }
        let reopened = try SQLiteRegistrationStore(path: path)
        #expect(try await reopened.registration(registration.id) == registration)
        #expect(try await reopened.history(of: registration.id) == [commit.record])
        #expect(try await reopened.outbox(state: nil) == commit.outbox)
        #expect(try await reopened.takeChallenge(challenge.id) == challenge)
    }

    @Test("the SQLite file is in WAL mode, with foreign keys enforced")
    func sqlitePragmas() async throws {
        let store = try SQLiteRegistrationStore(path: try Self.temporaryPath())
        #expect(try await store.text(sql: "PRAGMA journal_mode") == "wal")
        #expect(try await store.text(sql: "PRAGMA foreign_keys") == "1")
        #expect(try await store.text(sql: "PRAGMA busy_timeout") == "5000")

        // A user of no business is refused by the schema itself.
        let error = await #expect(throws: RegistrationError.self) {
            try await store.execute(
                sql: """
                    INSERT INTO "user" (id, business_id, position, role, title, name, postal_code, address, phone, mail,
                        status, registered_at)
                    VALUES ('U-ORPHAN', 'B-NOBODY', 0, 'agent', 't', 'n', '100-0013', 'a', '0312345678', 'a@b.jp',
                        'active', 0)
                    """)
        }
        #expect(Self.failureSentence(error)?.contains("FOREIGN KEY") == true, "\(String(describing: error))")
        #expect(try await store.text(sql: #"SELECT count(*) FROM "user""#) == "0")
    }

    @Test("reads map the file into memory (1 GiB unless told), on the writer and the readers; 0 turns it off")
    func sqliteMemoryMap() async throws {
        let store = try SQLiteRegistrationStore(path: try Self.temporaryPath())
        #expect(SQLiteRegistrationStore.defaultMemoryMapSize == 1 << 30)
        #expect(try await store.text(sql: "PRAGMA mmap_size") == "\(1 << 30)")
        #expect(try await store.textRead(sql: "PRAGMA mmap_size") == "\(1 << 30)")
        // SQLite's own default is 0 on this build too: these two say that 0 is kept, not that it is set.
        let unmapped = try SQLiteRegistrationStore(path: try Self.temporaryPath(), memoryMapSize: 0)
        #expect(try await unmapped.text(sql: "PRAGMA mmap_size") == "0")
        #expect(try await unmapped.textRead(sql: "PRAGMA mmap_size") == "0")
        // A mapped store reads what it wrote.
        let registration = try Sample.fullRegistration()
        try await store.commit(Sample.newRegistrationCommit(registration))
        #expect(try await store.registration(registration.id) == registration)
    }

    @Test("the write-ahead log is checkpointed beside the commits, and stays small")
    func sqliteCheckpointsBesideTheCommits() async throws {
        let path = try Self.temporaryPath()
        // A checkpoint asked for past 8 pages; a commit would run one itself past 80.
        let store = try SQLiteRegistrationStore(
            path: path, memoryMapSize: SQLiteRegistrationStore.defaultMemoryMapSize, checkpointPages: 8)
        var registration = try Sample.fullRegistration()
        try await store.commit(Sample.newRegistrationCommit(registration))
        for round in 0..<300 {
            registration = try Sample.nextVersion(
                of: registration, phone: String(format: "03-%04d-%04d", 1_000 + round, round))
            try await store.commit(Sample.change(of: registration, at: Sample.at(Double(round))))
        }
        // The checkpoints ran on the checkpointer's thread, on the opened log (SQLite's automatic checkpoint would
        // have run only in a commit past 1,000 pages; the commits' own, past 80, is not counted). Counting only the
        // checkpoints that found the log open and frames of it checkpointed matters: on a connection that has not
        // read the database, SQLite answers SQLITE_OK to a checkpoint without copying anything.
        let deadline = ContinuousClock.now + .seconds(10)
        while store.checkpointsRun == 0, ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(20)) }
        #expect(store.checkpointsRun > 0)
        // The log was written from its start again after the checkpoints: its file never held the 300 commits' pages
        // (several each), as it would have up to SQLite's own threshold, 1,000 pages. (How far below depends on when
        // the checkpointer's thread ran: not asserted.)
        let pageSize = try #require(Int(try await store.text(sql: "PRAGMA page_size") ?? ""))
        let logSize = try #require(
            try FileManager.default.attributesOfItem(atPath: path + "-wal")[.size] as? NSNumber
        ).intValue
        #expect(logSize < 1_000 * (pageSize + 24), "log of \(logSize) bytes")
        #expect(try await store.registration(registration.id) == registration)
    }

    @Test("the unique index refuses a second active binding of a certificate, whoever writes it")
    func sqliteActiveIndex() async throws {
        let store = try SQLiteRegistrationStore(path: try Self.temporaryPath())
        let registration = try Sample.simpleRegistration()
        try await store.commit(Sample.newRegistrationCommit(registration))
        let binding = registration.bindings[0]
        let insert = """
            INSERT INTO binding (id, business_id, user_id, position, kind, issuer, subject, serial_number, fingerprint,
                not_valid_before, not_valid_after, certificate, status, bound_at)
            SELECT 'C-COPY', business_id, user_id, 9, kind, issuer, subject, serial_number, fingerprint,
                not_valid_before, not_valid_after, certificate, '%@', bound_at FROM binding WHERE id = '\(binding.id)'
            """
        let error = await #expect(throws: RegistrationError.self) {
            try await store.execute(sql: insert.replacingOccurrences(of: "%@", with: "active"))
        }
        #expect(Self.failureSentence(error)?.contains("UNIQUE") == true, "\(String(describing: error))")
        try await store.execute(sql: insert.replacingOccurrences(of: "%@", with: "removed"))
    }

    @Test("migrations run once: opening a file again keeps it as it is")
    func sqliteMigrationsIdempotent() async throws {
        let path = try Self.temporaryPath()
        let registration = try Sample.simpleRegistration()
        try await SQLiteRegistrationStore(path: path).commit(Sample.newRegistrationCommit(registration))
        _ = try SQLiteRegistrationStore(path: path)
        let third = try SQLiteRegistrationStore(path: path)
        #expect(try await third.text(sql: "SELECT group_concat(identifier) FROM grdb_migrations") == "v1,v2,v3,v4,v5")
        #expect(try await third.text(sql: "PRAGMA user_version") == "5")
        #expect(try await third.registrations() == [registration])
    }

    @Test("a file from a newer version of the store is refused")
    func sqliteNewerSchema() async throws {
        let path = try Self.temporaryPath()
        try await SQLiteRegistrationStore(path: path).execute(
            sql: "INSERT INTO grdb_migrations (identifier) VALUES ('v99-from-the-future')")
        let error = #expect(throws: RegistrationError.self) { try SQLiteRegistrationStore(path: path) }
        #expect(Self.failureSentence(error)?.contains("newer version") == true, "\(String(describing: error))")
    }

    @Test("a file that is not a database, or cannot be created, gives a clear store failure")
    func sqliteBadFiles() throws {
        let path = try Self.temporaryPath()
        var generator = SystemRandomNumberGenerator()
        let garbage = (0..<8_192).map { _ in UInt8.random(in: 0...255, using: &generator) }
        try Foundation.Data(garbage).write(to: URL(fileURLWithPath: path))
        let error = #expect(throws: RegistrationError.self) { try SQLiteRegistrationStore(path: path) }
        let sentence = try #require(Self.failureSentence(error), "\(String(describing: error))")
        #expect(sentence.contains("is not a readable SQLite database"))
        #expect(sentence.contains(path))
        #expect(error?.description.contains("nothing was changed") == true)
        // The file is left as it was.
        #expect(try [UInt8](Foundation.Data(contentsOf: URL(fileURLWithPath: path))) == garbage)

        let missing = "/nonexistent-\(UUID().uuidString)/registrations.sqlite"
        let openError = #expect(throws: RegistrationError.self) { try SQLiteRegistrationStore(path: missing) }
        #expect(
            Self.failureSentence(openError)?.contains("cannot be opened") == true, "\(String(describing: openError))")
    }

    @Test("two stores on one file, like two processes: one of two concurrent commits wins")
    func sqliteTwoConnections() async throws {
        let path = try Self.temporaryPath()
        let one = try SQLiteRegistrationStore(path: path)
        let two = try SQLiteRegistrationStore(path: path)
        let first = try Sample.simpleRegistration()
        try await one.commit(Sample.newRegistrationCommit(first))
        #expect(try await two.registration(first.id) == first)

        for round in 0..<5 {
            let current = try #require(try await one.registration(first.id))
            let a = try Sample.nextVersion(of: current, phone: "03-1000-000\(round)")
            let b = try Sample.nextVersion(of: current, phone: "03-2000-000\(round)")
            async let resultA = Self.outcome { () async throws(RegistrationError) in
                try await one.commit(Sample.change(of: a, at: Sample.at(Double(round))))
            }
            async let resultB = Self.outcome { () async throws(RegistrationError) in
                try await two.commit(Sample.change(of: b, at: Sample.at(Double(round))))
            }
            let outcomes = await [resultA, resultB]
            #expect(outcomes.filter { $0 == nil }.count == 1, "round \(round): \(outcomes)")
            #expect(outcomes.compactMap { $0 } == [.staleChange(first.id)], "round \(round)")
            #expect(try await two.registration(first.id)?.version == current.version + 1)
        }
        #expect(try await one.history(of: first.id).count == 6)

        // Both refuse the same certificate made active in two registrations at once.
        var left = try Sample.simpleRegistration(name: "左の商事")
        var right = try Sample.simpleRegistration(name: "右の商事")
        let shared = try Sample.certificate("共有")
        left.bindings[0] = try CertificateBinding(
            certificate: shared, kind: .icCard, userID: left.users[0].id, at: Sample.epoch)
        right.bindings[0] = try CertificateBinding(
            certificate: shared, kind: .icCard, userID: right.users[0].id, at: Sample.epoch)
        async let leftResult = Self.outcome { () async throws(RegistrationError) in
            try await one.commit(Sample.newRegistrationCommit(left))
        }
        async let rightResult = Self.outcome { () async throws(RegistrationError) in
            try await two.commit(Sample.newRegistrationCommit(right))
        }
        let outcomes = await [leftResult, rightResult]
        #expect(outcomes.compactMap { $0 } == [.certificateAlreadyBound(fingerprint: left.bindings[0].fingerprint)])
    }

    /// The error a body throws, or nil when it succeeds.
    static func outcome(_ body: () async throws(RegistrationError) -> Void) async -> RegistrationError? {
        do {
            try await body()
            return nil
        } catch {
            return error
        }
    }
}

extension RegistrationCommit {
    /// The same commit for another registration (its record and messages keep their identifiers).
    fileprivate func with(registration: BusinessRegistration) -> RegistrationCommit {
        var commit = self
        commit.registration = registration
        commit.record.businessID = registration.id
        commit.outbox = outbox.map { message in
            var message = message
            message.businessID = registration.id
            return message
        }
        return commit
    }
}
