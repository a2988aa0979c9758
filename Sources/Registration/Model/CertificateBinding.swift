import CardCredentials
import Crypto
public import Foundation
import SwiftASN1
public import X509

/// The kind of credential that holds a certificate (the certificate type chosen on the screen).
public enum CredentialKind: String, Sendable, Hashable, Codable, CaseIterable, CustomStringConvertible {
    /// A private CA's IC card (民間認証局のICカード).
    case icCard
    /// A file-type certificate (ファイルタイプ, PKCS#12).
    case fileCertificate
    /// A My Number card's JPKI signing certificate (マイナンバーカード).
    case myNumberCard

    /// The Japanese label of the certificate-type selection.
    public var japaneseLabel: String {
        switch self {
        case .icCard: "ICカード"
        case .fileCertificate: "ファイルタイプ"
        case .myNumberCard: "マイナンバーカード"
        }
    }

    public var description: String { japaneseLabel }
}

/// What became of a certificate binding.
public enum BindingStatus: String, Sendable, Hashable, Codable, CaseIterable, CustomStringConvertible {
    /// The certificate can log in and sign for its user.
    case active
    /// A newer certificate replaced it (IC card renewal, certificate update).
    case superseded
    /// Its CA revoked it (失効).
    case revoked
    /// Its validity period ended.
    case expired
    /// It was removed from the user's record (電子証明書情報の削除), or its user was deleted.
    case removed

    public var description: String {
        switch self {
        case .active: "active"
        case .superseded: "superseded by a newer certificate (更新済み)"
        case .revoked: "revoked (失効)"
        case .expired: "expired (有効期限切れ)"
        case .removed: "removed from the registration (削除)"
        }
    }
}

/// A certificate bound to one user: its issuer, serial and fingerprint, with its history.
public struct CertificateBinding: Sendable, Hashable, Codable, Identifiable {
    /// The binding's identifier.
    public var id: BindingID
    /// The user the certificate belongs to.
    public var userID: UserID
    /// The credential kind that holds it.
    public var kind: CredentialKind
    /// 証明書発行者: the issuer's name as the screens show it.
    public var issuer: String
    /// The subject's name as the screens show it.
    public var subject: String
    /// 証明書シリアル番号: the serial number in hexadecimal, as the screens show it.
    public var serialNumber: String
    /// The SHA-256 fingerprint of the certificate's DER, in lower-case hexadecimal: what identifies it.
    public var fingerprint: String
    /// The start of the validity period.
    public var notValidBefore: Date
    /// 証明書有効期限: the end of the validity period.
    public var notValidAfter: Date
    /// The certificate, DER.
    public var certificateDER: [UInt8]
    /// The status as recorded; see ``status(at:)`` for the status at a moment.
    public var recordedStatus: BindingStatus
    /// When the certificate was bound.
    public var boundAt: Date
    /// When it stopped being active (superseded, revoked, removed), if it did.
    public var endedAt: Date?
    /// The binding that replaced this one, after a renewal or update.
    public var supersededBy: BindingID?

    /// Binds a certificate to a user, active from `date`.
    public init(certificate: Certificate, kind: CredentialKind, userID: UserID, at date: Date) throws(RegistrationError)
    {
        let der: [UInt8]
        do {
            var serializer = DER.Serializer()
            try serializer.serialize(certificate)
            der = serializer.serializedBytes
        } catch {
            throw .certificateUntrusted("the certificate cannot be encoded: \(error)")
        }
        let summary = CertificateSummary(certificate)
        id = .random()
        self.userID = userID
        self.kind = kind
        issuer = summary.issuer
        subject = summary.subject
        serialNumber = summary.serialNumber
        fingerprint = Self.fingerprint(of: der)
        notValidBefore = certificate.notValidBefore
        notValidAfter = certificate.notValidAfter
        certificateDER = der
        recordedStatus = .active
        boundAt = date
    }

    /// A binding as a store read it back: the stored values stand as they were bound (nothing is derived again from
    /// the certificate, whose DER the store has checked to decode).
    package init(
        stored id: BindingID, userID: UserID, kind: CredentialKind, issuer: String, subject: String,
        serialNumber: String, fingerprint: String, notValidBefore: Date, notValidAfter: Date, certificateDER: [UInt8],
        recordedStatus: BindingStatus, boundAt: Date, endedAt: Date?, supersededBy: BindingID?
    ) {
        self.id = id
        self.userID = userID
        self.kind = kind
        self.issuer = issuer
        self.subject = subject
        self.serialNumber = serialNumber
        self.fingerprint = fingerprint
        self.notValidBefore = notValidBefore
        self.notValidAfter = notValidAfter
        self.certificateDER = certificateDER
        self.recordedStatus = recordedStatus
        self.boundAt = boundAt
        self.endedAt = endedAt
        self.supersededBy = supersededBy
    }

    /// The SHA-256 fingerprint of a certificate's DER, lower-case hexadecimal.
    public static func fingerprint(of der: [UInt8]) -> String {
        LowerHex.string(Array(SHA256.hash(data: der)))
    }

    /// Whether `der` is the certificate whose ``fingerprint`` was recorded: its SHA-256 is `fingerprint` (lower-case
    /// hexadecimal). What a store checks on reading a binding instead of decoding the DER: a DER altered after it was
    /// bound (and it decoded when it was bound) no longer matches.
    package static func der(_ der: [UInt8], hasFingerprint fingerprint: String) -> Bool {
        let digits = Array("0123456789abcdef".utf8)
        var expected = fingerprint.utf8.makeIterator()
        for byte in SHA256.hash(data: der) {
            guard expected.next() == digits[Int(byte >> 4)], expected.next() == digits[Int(byte & 0x0F)] else {
                return false
            }
        }
        return expected.next() == nil
    }

    /// Whether a stored DER is still a certificate, as a store checks it on reading a binding: a DER whose SHA-256 is
    /// the stored fingerprint is the one that was bound (and decoded then), and is not decoded again (decoding it on
    /// every read cost more than the rest of the row; ``certificate()`` decodes it when it is used); any other DER
    /// (a fingerprint recorded otherwise, or a DER altered after it was bound) must decode.
    package static func storedDERIsCertificate(_ der: [UInt8], fingerprint: String) -> Bool {
        if self.der(der, hasFingerprint: fingerprint) { return true }
        return (try? Certificate(untrustedDER: der)) != nil
    }

    /// The SHA-256 fingerprint of a certificate.
    public static func fingerprint(of certificate: Certificate) throws(RegistrationError) -> String {
        do {
            var serializer = DER.Serializer()
            try serializer.serialize(certificate)
            return fingerprint(of: serializer.serializedBytes)
        } catch {
            throw .certificateUntrusted("the certificate cannot be encoded: \(error)")
        }
    }

    /// The status at `date`: an active binding whose certificate's validity ended is ``BindingStatus/expired``.
    public func status(at date: Date) -> BindingStatus {
        if recordedStatus == .active && date > notValidAfter { return .expired }
        return recordedStatus
    }

    /// The certificate, decoded.
    public func certificate() throws(RegistrationError) -> Certificate {
        do { return try Certificate(untrustedDER: certificateDER) } catch {
            throw .certificateUntrusted("the stored certificate cannot be read: \(error)")
        }
    }
}
