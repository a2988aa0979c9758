public import CertificateRenewal
import Foundation

// The contracts' file of the reissue example, shared by `portal reissue` (which keeps its contracts and codes in
// it) and `portal-server --reissue-contracts` (which imports its contracts into the database).

/// A ``ReissueAccountStore`` in a JSON file, rewritten atomically on each change (one process at a time: an
/// example, not a server's store).
public actor JSONReissueAccountStore: ReissueAccountStore {
    struct Contents: Codable {
        var accounts: [ReissueAccount] = []
        var grants: [EnrollmentGrant] = []
    }

    let url: URL

    /// The store in the file at `path` (made at the first change).
    public init(path: String) { url = URL(fileURLWithPath: path) }

    /// Every contract in the file.
    public func accounts() throws(LifecycleError) -> [ReissueAccount] { try load().accounts }

    private func load() throws(LifecycleError) -> Contents {
        guard FileManager.default.fileExists(atPath: url.path) else { return Contents() }
        do { return try JSONDecoder().decode(Contents.self, from: Data(contentsOf: url)) } catch {
            throw .reissueStoreFailure(reason: "\(url.path) cannot be read: \(error)")
        }
    }

    private func write(_ contents: Contents) throws(LifecycleError) {
        do {
            try JSONEncoder().encode(contents).write(to: url, options: .atomic)
            try FileManager.default.setAttributes([.posixPermissions: 0o600], ofItemAtPath: url.path)
        } catch { throw .reissueStoreFailure(reason: "\(url.path) cannot be written: \(error)") }
    }

    /// The contract, or nil.
    public func account(_ contractID: ContractID) throws(LifecycleError) -> ReissueAccount? {
        try load().accounts.first { $0.contractID == contractID }
    }

    /// Stores a contract (new or replacing).
    public func save(_ account: ReissueAccount) throws(LifecycleError) {
        var contents = try load()
        contents.accounts.removeAll { $0.contractID == account.contractID }
        contents.accounts.append(account)
        try write(contents)
    }

    /// Changes a contract and returns it as stored, or nil when there is none.
    public func update(_ contractID: ContractID, _ change: @Sendable (inout ReissueAccount) -> Void)
        throws(LifecycleError)
        -> ReissueAccount?
    {
        var contents = try load()
        guard let index = contents.accounts.firstIndex(where: { $0.contractID == contractID }) else { return nil }
        change(&contents.accounts[index])
        try write(contents)
        return contents.accounts[index]
    }

    /// Keeps a new enrollment code; the user's earlier codes are dropped.
    public func insert(_ grant: EnrollmentGrant) throws(LifecycleError) {
        var contents = try load()
        contents.grants.removeAll { $0.contractID == grant.contractID && $0.loginID == grant.loginID }
        contents.grants.append(grant)
        try write(contents)
    }

    /// The grant of a code, without using it.
    public func grant(codeDigest: String) throws(LifecycleError) -> EnrollmentGrant? {
        try load().grants.first { $0.codeDigest == codeDigest }
    }

    /// Removes and returns the grant of a code.
    public func takeGrant(codeDigest: String) throws(LifecycleError) -> EnrollmentGrant? {
        var contents = try load()
        guard let index = contents.grants.firstIndex(where: { $0.codeDigest == codeDigest }) else { return nil }
        let grant = contents.grants.remove(at: index)
        try write(contents)
        return grant
    }
}
