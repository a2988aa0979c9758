public import X509

/// A change to a registration, as the update screens offer them.
///
/// Prepare it with ``RegistrationService/prepare(_:to:by:)``, show its ``PreparedChange/review``, then commit it.
public enum RegistrationChange: Sendable, Hashable {
    /// 事業者基本情報の変更 (representative only).
    case updateBusinessInformation(BusinessInformation)
    /// 利用者基本情報の変更 (a representative for anyone; an agent for itself).
    case updateUserInformation(UserID, UserInformation)
    /// 資格情報の追加, from ``Qualification/selection`` (representative only).
    case addQualification(Qualification)
    /// 資格情報の削除 (representative only).
    case removeQualification(Qualification)
    /// 電子証明書情報の追加: bind another certificate to a user (a representative for anyone; an agent for itself).
    case addCertificate(UserID, Certificate, CredentialKind)
    /// 電子証明書情報の削除: the binding ends as removed (a representative for anyone; an agent for itself).
    case removeCertificate(BindingID)
    /// Renewal or update of a certificate: the binding moves to the new certificate; the old one is superseded and
    /// can no longer log in.
    case replaceCertificate(BindingID, with: Certificate, CredentialKind)
    /// The CA revoked the certificate (失効): its binding ends as revoked.
    case markCertificateRevoked(BindingID)
    /// A new agent (代理人) with its certificate, and its power of attorney when it registers with a My Number card
    /// (the power of attorney's ``PowerOfAttorney/agentID`` is set to the new user). Representative only.
    case addAgent(UserInformation, Certificate, CredentialKind, powerOfAttorney: PowerOfAttorney?)
    /// 利用者情報削除: irreversible; the user's bindings end as removed. A representative deletes an agent; an agent
    /// may delete itself. The representative cannot be deleted.
    case deleteUser(UserID)
    /// 電子委任状更新: a fresh power of attorney for the agent (the agent itself).
    case renewPowerOfAttorney(UserID, PowerOfAttorney)

    /// The kind of change as the manual's matrix groups it, and whose record it touches.
    var rightsKind: ChangeKind {
        switch self {
        case .updateBusinessInformation: .businessBasicInformation
        case .updateUserInformation, .deleteUser, .renewPowerOfAttorney, .addAgent: .userBasicInformation
        case .addQualification, .removeQualification: .qualifications
        case .addCertificate, .removeCertificate, .replaceCertificate, .markCertificateRevoked: .certificates
        }
    }

    /// A short name for history and GEPS documents.
    var name: String {
        switch self {
        case .updateBusinessInformation: "updateBusinessInformation"
        case .updateUserInformation: "updateUserInformation"
        case .addQualification: "addQualification"
        case .removeQualification: "removeQualification"
        case .addCertificate: "addCertificate"
        case .removeCertificate: "removeCertificate"
        case .replaceCertificate: "replaceCertificate"
        case .markCertificateRevoked: "markCertificateRevoked"
        case .addAgent: "addAgent"
        case .deleteUser: "deleteUser"
        case .renewPowerOfAttorney: "renewPowerOfAttorney"
        }
    }

    /// The Japanese title of the confirmation screen.
    var title: String {
        switch self {
        case .updateBusinessInformation: "事業者基本情報変更"
        case .updateUserInformation: "利用者基本情報変更"
        case .addQualification: "資格情報追加"
        case .removeQualification: "資格情報削除"
        case .addCertificate: "電子証明書情報追加"
        case .removeCertificate: "電子証明書情報削除"
        case .replaceCertificate: "電子証明書更新"
        case .markCertificateRevoked: "電子証明書失効"
        case .addAgent: "代理人登録"
        case .deleteUser: "利用者情報削除"
        case .renewPowerOfAttorney: "電子委任状更新"
        }
    }
}

/// Who makes a change.
public enum RegistrationActor: Sendable, Hashable, CustomStringConvertible {
    /// A user of the business, logged in with the certificate of `binding` (nil: any active certificate of the
    /// user, for back-office tools that act for a user).
    case user(UserID, binding: BindingID?)
    /// The portal itself (its back office), named by its operator: new registrations, revocations reported by CAs,
    /// the lifecycle flows that prove possession of a card themselves. The rights matrix binds users, not the
    /// portal.
    case portal(operator: String)

    public var description: String {
        switch self {
        case .user(let id, let binding): binding.map { "user \(id) (certificate \($0))" } ?? "user \(id)"
        case .portal(let name): "portal operator \(name)"
        }
    }

    var userID: UserID? {
        if case .user(let id, _) = self { return id }
        return nil
    }
}

/// One line of a confirmation screen: the manual's label, the value before and after.
public struct ReviewRow: Sendable, Hashable, Codable {
    /// The label, e.g. `郵便番号`.
    public var label: String
    /// The value before the change (nil: the record is new).
    public var before: String?
    /// The value after the change (nil: the record goes away).
    public var after: String?

    /// Whether the value changes.
    public var changes: Bool { before != after }

    /// A row.
    public init(label: String, before: String?, after: String?) {
        self.label = label
        self.before = before
        self.after = after
    }
}

/// The confirmation screen (確認) of a change: what is shown before the user commits.
public struct ChangeReview: Sendable, Hashable, Codable {
    /// The screen's title, e.g. `利用者基本情報変更確認`.
    public var title: String
    /// The business, as `商号又は名称`.
    public var businessName: String
    /// The rows, before and after.
    public var rows: [ReviewRow]
    /// Notes the user must read (e.g. that a deletion is irreversible).
    public var notes: [String]

    /// A review.
    public init(title: String, businessName: String, rows: [ReviewRow], notes: [String] = []) {
        self.title = title
        self.businessName = businessName
        self.rows = rows
        self.notes = notes
    }
}
