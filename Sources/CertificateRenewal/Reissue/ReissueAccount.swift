public import CardCredentials
import Crypto
public import Foundation
public import Registration
import _CryptoExtras

/// A 契約者ID (利用者番号): the 11 digits printed on the customer card (お客様カード).
public struct ContractID: Sendable, Hashable, Codable, CustomStringConvertible {
    /// The 11 half-width digits.
    public let digits: String

    /// Reads a contract ID; spaces and hyphens around or between the digits are dropped.
    ///
    /// - Throws: ``LifecycleError/contractIDFormat`` unless exactly 11 digits 0–9 remain.
    public init(_ text: String) throws(LifecycleError) {
        let kept = text.filter { $0 != " " && $0 != "-" && $0 != "\u{3000}" }
        guard kept.count == 11, kept.unicodeScalars.allSatisfy({ $0.value >= 0x30 && $0.value <= 0x39 }) else {
            throw .contractIDFormat
        }
        digits = kept
    }

    /// The 11 digits.
    public var description: String { digits }
}

/// A password kept as a salted PBKDF2-HMAC-SHA-256 digest, never as text.
public struct PasswordDigest: Sendable, Hashable, Codable {
    /// 16 random bytes.
    public let salt: [UInt8]
    /// PBKDF2 rounds (210,000 or more).
    public let rounds: Int
    /// The 32-byte derived key.
    public let digest: [UInt8]

    /// The rounds new digests use: the OWASP minimum for PBKDF2-HMAC-SHA-256.
    public static let defaultRounds = 210_000

    /// Digests a password with a fresh salt.
    ///
    /// - Parameters:
    ///   - password: The password.
    ///   - rounds: PBKDF2 rounds; keep the default (210,000) for real accounts. Fewer rounds are accepted only so
    ///     that tests stay quick; a digest remembers its rounds.
    /// - Throws: ``LifecycleError/credentialNotCreated(reason:)`` when the derivation fails or `rounds` is not
    ///   positive.
    public init(of password: SecretPIN, rounds: Int = PasswordDigest.defaultRounds) throws(LifecycleError) {
        guard rounds > 0 else { throw .credentialNotCreated(reason: "PBKDF2 needs at least one round") }
        var generator = SystemRandomNumberGenerator()
        let salt = (0..<16).map { _ in UInt8.random(in: 0...255, using: &generator) }
        self.salt = salt
        self.rounds = rounds
        digest = try Self.derive(password, salt: salt, rounds: rounds)
    }

    /// Whether `password` is the password digested, compared in constant time.
    public func matches(_ password: SecretPIN) -> Bool {
        guard let candidate = try? Self.derive(password, salt: salt, rounds: rounds),
            candidate.count == digest.count
        else { return false }
        var difference: UInt8 = 0
        for index in 0..<digest.count { difference |= digest[index] ^ candidate[index] }
        return difference == 0
    }

    private static func derive(_ password: SecretPIN, salt: [UInt8], rounds: Int) throws(LifecycleError) -> [UInt8] {
        do {
            let key = try password.withUnsafeBytes { bytes in
                try KDF.Insecure.PBKDF2.deriveKey(
                    from: bytes, salt: salt, using: .sha256, outputByteCount: 32, unsafeUncheckedRounds: rounds)
            }
            return key.withUnsafeBytes { Array($0) }
        } catch {
            throw .credentialNotCreated(reason: "the password could not be digested (PBKDF2): \(error)")
        }
    }
}

/// The two passwords the manuals ask for together: 暗証番号 and 確認暗証番号 (for the administrator
/// ご契約先暗証番号 and ご契約先確認暗証番号).
public struct PasswordPair: Sendable, Hashable, Codable {
    /// The 暗証番号's digest.
    public var password: PasswordDigest
    /// The 確認暗証番号's digest.
    public var confirmation: PasswordDigest

    /// Digests both passwords (`rounds`: see ``PasswordDigest/init(of:rounds:)``).
    public init(password: SecretPIN, confirmation: SecretPIN, rounds: Int = PasswordDigest.defaultRounds)
        throws(LifecycleError)
    {
        self.password = try PasswordDigest(of: password, rounds: rounds)
        self.confirmation = try PasswordDigest(of: confirmation, rounds: rounds)
    }

    /// Whether both passwords match (both are always checked).
    public func matches(password: SecretPIN, confirmation: SecretPIN) -> Bool {
        let first = self.password.matches(password)
        let second = self.confirmation.matches(confirmation)
        return first && second
    }
}

/// A user (利用者) of a contract who may obtain a certificate on a computer.
public struct ReissueUserAccount: Sendable, Hashable, Codable {
    /// 利用者ID: the identifier the customer set for the user.
    public var loginID: String
    /// The user in the registration.
    public var userID: UserID
    /// 利用者暗証番号 and 利用者確認暗証番号.
    public var passwords: PasswordPair
    /// Wrong sign-ins since the last good one.
    public var failedAttempts: Int
    /// Whether the user is locked (ロック) after too many wrong passwords.
    public var isLocked: Bool

    /// A user account, unlocked.
    public init(loginID: String, userID: UserID, passwords: PasswordPair) {
        self.loginID = loginID
        self.userID = userID
        self.passwords = passwords
        failedAttempts = 0
        isLocked = false
    }
}

/// A contract (ご契約先): its administrator (管理者, the business's representative) and users, with the lock
/// state of each.
public struct ReissueAccount: Sendable, Hashable, Codable {
    /// 契約者ID.
    public var contractID: ContractID
    /// The business in the registration.
    public var businessID: BusinessID
    /// The administrator: the business's representative (代表者).
    public var administrator: UserID
    /// ご契約先暗証番号 and ご契約先確認暗証番号.
    public var administratorPasswords: PasswordPair
    /// Wrong administrator passwords since the last good one.
    public var administratorFailedAttempts: Int
    /// Whether the administrator is locked; that locks every user of the contract too.
    public var administratorLocked: Bool
    /// The users.
    public var users: [ReissueUserAccount]
    /// Wrong tries that lock an administrator or a user.
    public var lockThreshold: Int

    /// A contract, unlocked, locking after `lockThreshold` wrong tries (5 by default).
    public init(
        contractID: ContractID, businessID: BusinessID, administrator: UserID, administratorPasswords: PasswordPair,
        users: [ReissueUserAccount] = [], lockThreshold: Int = 5
    ) {
        self.contractID = contractID
        self.businessID = businessID
        self.administrator = administrator
        self.administratorPasswords = administratorPasswords
        administratorFailedAttempts = 0
        administratorLocked = false
        self.users = users
        self.lockThreshold = lockThreshold
    }

    /// The user with this 利用者ID.
    public func user(loginID: String) -> ReissueUserAccount? { users.first { $0.loginID == loginID } }

    /// Counts a wrong administrator password; locks at the threshold.
    mutating func administratorFailed() {
        administratorFailedAttempts += 1
        if administratorFailedAttempts >= lockThreshold { administratorLocked = true }
    }

    /// Counts a wrong user sign-in; locks at the threshold.
    mutating func userFailed(_ loginID: String) {
        guard let index = users.firstIndex(where: { $0.loginID == loginID }) else { return }
        users[index].failedAttempts += 1
        if users[index].failedAttempts >= lockThreshold { users[index].isLocked = true }
    }
}

/// A one-time enrollment code's record: the code itself is never stored, only its SHA-256.
public struct EnrollmentGrant: Sendable, Hashable, Codable {
    /// SHA-256 of the code, lower-case hexadecimal.
    public var codeDigest: String
    /// The contract.
    public var contractID: ContractID
    /// The user's 利用者ID.
    public var loginID: String
    /// The user in the registration.
    public var userID: UserID
    /// When the administrator reissued.
    public var issuedAt: Date
    /// After this moment the code is refused.
    public var expiresAt: Date

    /// A grant.
    public init(
        codeDigest: String, contractID: ContractID, loginID: String, userID: UserID, issuedAt: Date, expiresAt: Date
    ) {
        self.codeDigest = codeDigest
        self.contractID = contractID
        self.loginID = loginID
        self.userID = userID
        self.issuedAt = issuedAt
        self.expiresAt = expiresAt
    }

    /// The SHA-256 of a code as typed (upper-cased, hyphens and spaces dropped).
    public static func digest(ofCode code: String) -> String {
        let normalized = code.uppercased().filter { $0 != "-" && $0 != " " }
        return LowerHex.string(Array(SHA256.hash(data: Array(normalized.utf8))))
    }
}

/// Where contracts, their lock state and enrollment codes persist.
///
/// Each call is atomic; ``update(_:_:)`` changes one contract with nothing in between, so two wrong passwords
/// typed at once are both counted.
public protocol ReissueAccountStore: Sendable {
    /// The contract, or nil.
    func account(_ contractID: ContractID) async throws(LifecycleError) -> ReissueAccount?
    /// Stores a contract (new or replacing).
    func save(_ account: ReissueAccount) async throws(LifecycleError)
    /// Changes a contract atomically and returns it as stored, or nil when there is none.
    func update(_ contractID: ContractID, _ change: @Sendable (inout ReissueAccount) -> Void)
        async throws(LifecycleError) -> ReissueAccount?
    /// Keeps a new enrollment code; the user's earlier codes are dropped.
    func insert(_ grant: EnrollmentGrant) async throws(LifecycleError)
    /// The grant of a code, without using it.
    func grant(codeDigest: String) async throws(LifecycleError) -> EnrollmentGrant?
    /// Removes and returns the grant of a code: a code is taken once.
    func takeGrant(codeDigest: String) async throws(LifecycleError) -> EnrollmentGrant?
}

/// A ``ReissueAccountStore`` in memory (tests, examples).
public actor InMemoryReissueAccountStore: ReissueAccountStore {
    private var accounts: [ContractID: ReissueAccount] = [:]
    private var grants: [String: EnrollmentGrant] = [:]

    /// An empty store.
    public init() {}

    /// The contract, or nil.
    public func account(_ contractID: ContractID) -> ReissueAccount? { accounts[contractID] }

    /// Stores a contract (new or replacing).
    public func save(_ account: ReissueAccount) { accounts[account.contractID] = account }

    /// Changes a contract atomically and returns it as stored, or nil when there is none.
    public func update(_ contractID: ContractID, _ change: @Sendable (inout ReissueAccount) -> Void)
        -> ReissueAccount?
    {
        guard var account = accounts[contractID] else { return nil }
        change(&account)
        accounts[contractID] = account
        return account
    }

    /// Keeps a new enrollment code; the user's earlier codes are dropped.
    public func insert(_ grant: EnrollmentGrant) {
        grants = grants.filter { $0.value.contractID != grant.contractID || $0.value.loginID != grant.loginID }
        grants[grant.codeDigest] = grant
    }

    /// The grant of a code, without using it.
    public func grant(codeDigest: String) -> EnrollmentGrant? { grants[codeDigest] }

    /// Removes and returns the grant of a code: a code is taken once.
    public func takeGrant(codeDigest: String) -> EnrollmentGrant? { grants.removeValue(forKey: codeDigest) }
}
