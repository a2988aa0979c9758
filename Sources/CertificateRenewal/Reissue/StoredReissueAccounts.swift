import Foundation
public import Registration

/// A ``ReissueAccountStore`` kept in a `RegistrationStore` — SQLite, PostgreSQL or in memory — so that several
/// server instances over one database share the contracts, their lock state and the one-time codes.
///
/// Each contract and each code is one of the store's versioned records (`StoredFlow`, of the kinds
/// `reissue-account` and `enrollment-grant`): ``update(_:_:)`` reads the contract and writes it at the next
/// version, reading again when another instance wrote first, so two wrong passwords typed at once on two
/// instances are both counted; ``takeGrant(codeDigest:)`` is one delete, so a code is taken by one instance only.
/// A code's record expires with the code (the store's purge removes it); a contract's never does.
///
/// ```swift
/// let accounts = StoredReissueAccounts(store: store)
/// try await accounts.save(contract)
/// let desk = ReissueDesk(environment: environment, accounts: accounts, authority: authority)
/// ```
public struct StoredReissueAccounts: ReissueAccountStore {
    /// The store that keeps the records.
    public let store: any RegistrationStore

    /// The contracts and codes kept in `store`.
    public init(store: any RegistrationStore) { self.store = store }

    /// How often a change is tried again when another writer was first.
    private static let attempts = 32

    /// The contract, or nil.
    public func account(_ contractID: ContractID) async throws(LifecycleError) -> ReissueAccount? {
        try await read(ReissueAccount.self, Self.accountID(contractID), kind: Self.accountKind)?.value
    }

    /// Stores a contract (new or replacing).
    public func save(_ account: ReissueAccount) async throws(LifecycleError) {
        let id = Self.accountID(account.contractID)
        try await retrying { () throws(LifecycleError) in
            let version = try await read(ReissueAccount.self, id, kind: Self.accountKind)?.version ?? 0
            try await write(
                account, id: id, kind: Self.accountKind, owner: account.contractID.digits, version: version + 1,
                expiresAt: .distantFuture)
        }
    }

    /// Changes a contract atomically and returns it as stored, or nil when there is none.
    public func update(_ contractID: ContractID, _ change: @Sendable (inout ReissueAccount) -> Void)
        async throws(LifecycleError) -> ReissueAccount?
    {
        let id = Self.accountID(contractID)
        return try await retrying { () throws(LifecycleError) -> ReissueAccount? in
            guard let found = try await read(ReissueAccount.self, id, kind: Self.accountKind) else { return nil }
            var account = found.value
            let version = found.version
            change(&account)
            try await write(
                account, id: id, kind: Self.accountKind, owner: contractID.digits, version: version + 1,
                expiresAt: .distantFuture)
            return account
        }
    }

    /// Keeps a new enrollment code; the user's earlier code is dropped.
    public func insert(_ grant: EnrollmentGrant) async throws(LifecycleError) {
        let owner = "\(grant.contractID.digits)/\(grant.loginID)"
        try await write(
            grant, id: Self.grantID(grant.codeDigest), kind: Self.grantKind, owner: owner, version: 1,
            expiresAt: grant.expiresAt)
        // The user's current code: a record that names it, so the next grant can drop this one.
        let pointer = "\(Self.grantKind)-of:\(owner)"
        try await retrying { () throws(LifecycleError) in
            let current = try await read(String.self, pointer, kind: Self.pointerKind)
            if let earlier = current?.value, earlier != grant.codeDigest {
                do throws(RegistrationError) { _ = try await store.removeFlow(Self.grantID(earlier)) } catch {
                    throw .registration(error)
                }
            }
            try await write(
                grant.codeDigest, id: pointer, kind: Self.pointerKind, owner: owner,
                version: (current?.version ?? 0) + 1, expiresAt: .distantFuture)
        }
    }

    /// The grant of a code, without using it.
    public func grant(codeDigest: String) async throws(LifecycleError) -> EnrollmentGrant? {
        try await read(EnrollmentGrant.self, Self.grantID(codeDigest), kind: Self.grantKind)?.value
    }

    /// Removes and returns the grant of a code: a code is taken once, by one instance.
    public func takeGrant(codeDigest: String) async throws(LifecycleError) -> EnrollmentGrant? {
        let id = Self.grantID(codeDigest)
        guard let grant = try await read(EnrollmentGrant.self, id, kind: Self.grantKind)?.value else { return nil }
        let removed: Bool
        do { removed = try await store.removeFlow(id) } catch { throw .registration(error) }
        return removed ? grant : nil
    }

    // MARK: Records

    private static let accountKind = "reissue-account"
    private static let grantKind = "enrollment-grant"
    private static let pointerKind = "enrollment-grant-of"

    private static func accountID(_ contractID: ContractID) -> String { "\(accountKind):\(contractID.digits)" }
    private static func grantID(_ digest: String) -> String { "\(grantKind):\(digest)" }

    private func read<Value: Decodable>(_ type: Value.Type, _ id: String, kind: String)
        async throws(LifecycleError) -> (value: Value, version: Int)?
    {
        let stored: StoredFlow?
        do { stored = try await store.flow(id) } catch { throw .registration(error) }
        guard let stored, stored.kind == kind else { return nil }
        do { return (try JSONDecoder().decode(Value.self, from: stored.state), stored.version) } catch {
            throw .reissueStoreFailure(reason: "the record \(kind) cannot be read: \(error)")
        }
    }

    private func write<Value: Encodable>(
        _ value: Value, id: String, kind: String, owner: String, version: Int, expiresAt: Date
    ) async throws(LifecycleError) {
        let data: Data
        do { data = try JSONEncoder().encode(value) } catch {
            throw .reissueStoreFailure(reason: "the record \(kind) cannot be written: \(error)")
        }
        do {
            try await store.save(
                StoredFlow(
                    id: id, kind: kind, owner: owner, version: version, state: data, updatedAt: Date(),
                    expiresAt: expiresAt))
        } catch { throw .registration(error) }
    }

    /// Runs `body` again while another writer saved the record first.
    private func retrying<T>(_ body: () async throws(LifecycleError) -> T) async throws(LifecycleError) -> T {
        for _ in 1..<Self.attempts {
            do throws(LifecycleError) { return try await body() } catch {
                guard error.code == .registration, case .flowChanged = error.registrationError else { throw error }
            }
        }
        return try await body()
    }
}
