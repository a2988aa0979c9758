public import CardCredentials
import Foundation

/// Why the holder asks the certification authority to revoke the card (失効理由): the grounds a private CA lists.
public enum RevocationRequestReason: String, Sendable, Hashable, Codable, CaseIterable, CustomStringConvertible {
    /// 紛失: the card was lost.
    case loss
    /// 盗難: the card was stolen.
    case theft
    /// 破損: the card is damaged.
    case damage
    /// 秘密鍵の危殆化: the card's key or PIN may be known to someone else.
    case keyCompromise
    /// 記載事項の変更: a field stored in the certificate changed (company name, holder's name, address).
    case detailsChanged
    /// 退職・異動: the holder left the company or no longer acts for it.
    case leftCompany
    /// 廃業・倒産: the business closed.
    case businessClosed
    /// 利用中止: the card is no longer needed.
    case noLongerNeeded

    /// The reason as the request form lists it.
    public var japaneseLabel: String {
        switch self {
        case .loss: "紛失"
        case .theft: "盗難"
        case .damage: "破損"
        case .keyCompromise: "秘密鍵の危殆化（PINの漏えいを含む）"
        case .detailsChanged: "記載事項の変更"
        case .leftCompany: "退職・異動"
        case .businessClosed: "廃業・倒産"
        case .noLongerNeeded: "利用中止"
        }
    }

    /// The RFC 5280 reason code the CA puts in its revocation list.
    public var crlReason: RevocationReason {
        switch self {
        case .loss, .theft, .keyCompromise: .keyCompromise
        case .detailsChanged, .leftCompany: .affiliationChanged
        case .damage, .businessClosed, .noLongerNeeded: .cessationOfOperation
        }
    }

    /// The Japanese label with the raw value, e.g. `紛失 (loss)`.
    public var description: String { "\(japaneseLabel) (\(rawValue))" }
}

/// What the request form (失効申込情報入力) asks: the reason and how the CA reaches the person who asks.
public struct RevocationRequestForm: Sendable, Hashable {
    /// 失効理由.
    public var reason: RevocationRequestReason
    /// 申込者氏名: who asks (the holder, or the person acting for the company).
    public var requesterName: String
    /// 電話番号: digits with optional hyphens, 10 or 11 digits.
    public var phone: String
    /// メールアドレス.
    public var mail: String
    /// 部署名: the requester's department (optional).
    public var department: String
    /// 備考: anything the CA should know (optional).
    public var note: String

    /// A filled form.
    public init(
        reason: RevocationRequestReason, requesterName: String, phone: String, mail: String, department: String = "",
        note: String = ""
    ) {
        self.reason = reason
        self.requesterName = requesterName
        self.phone = phone
        self.mail = mail
        self.department = department
        self.note = note
    }

    /// The filled-in example the form shows (記入例を表示).
    public static let example = RevocationRequestForm(
        reason: .loss, requesterName: "入札 太郎", phone: "03-1234-5678", mail: "taro@example.co.jp",
        department: "総務部", note: "令和X年X月X日に紛失")

    /// The form with its fields trimmed, or the first problem as ``LifecycleError/requestFormInvalid(field:problem:)``.
    func validated() throws(LifecycleError) -> RevocationRequestForm {
        var form = self
        form.requesterName = requesterName.trimmingCharacters(in: .whitespacesAndNewlines)
        form.phone = phone.trimmingCharacters(in: .whitespaces)
        form.mail = mail.trimmingCharacters(in: .whitespaces)
        form.department = department.trimmingCharacters(in: .whitespacesAndNewlines)
        form.note = note.trimmingCharacters(in: .whitespacesAndNewlines)
        guard !form.requesterName.isEmpty else { throw .requestFormInvalid(field: "申込者氏名", problem: "it is empty") }
        guard form.requesterName.count <= 60 else {
            throw .requestFormInvalid(field: "申込者氏名", problem: "it is longer than 60 characters")
        }
        let digits = form.phone.filter { $0 != "-" }
        guard !digits.isEmpty, digits.allSatisfy({ $0.isASCII && $0.isNumber }), (10...11).contains(digits.count),
            !form.phone.hasPrefix("-"), !form.phone.hasSuffix("-"), !form.phone.contains("--")
        else {
            throw .requestFormInvalid(
                field: "電話番号", problem: "it must be 10 or 11 half-width digits, optionally with hyphens")
        }
        let parts = form.mail.split(separator: "@", omittingEmptySubsequences: false)
        guard parts.count == 2, !parts[0].isEmpty, parts[1].contains("."), !parts[1].hasPrefix("."),
            !parts[1].hasSuffix("."), form.mail.allSatisfy({ $0.isASCII && !$0.isWhitespace })
        else {
            throw .requestFormInvalid(field: "メールアドレス", problem: "it is not a mail address (name@example.jp)")
        }
        guard form.department.count <= 60 else {
            throw .requestFormInvalid(field: "部署名", problem: "it is longer than 60 characters")
        }
        guard form.note.count <= 200 else {
            throw .requestFormInvalid(field: "備考", problem: "it is longer than 200 characters")
        }
        return form
    }

    /// The form's rows, labelled as the confirmation screen shows them.
    var rows: [ScreenRow] {
        [
            ScreenRow(label: "失効理由", value: reason.japaneseLabel),
            ScreenRow(label: "申込者氏名", value: requesterName),
            ScreenRow(label: "部署名", value: department),
            ScreenRow(label: "電話番号", value: phone),
            ScreenRow(label: "メールアドレス", value: mail),
            ScreenRow(label: "備考", value: note),
        ]
    }
}

/// The card's contents as the flow shows them after the PIN (⑩): check it is the card to revoke.
public struct RevocationCardContents: Sendable, Hashable {
    /// What the card's certificate says.
    public var certificate: CertificateSummary
    /// The SHA-256 fingerprint of the certificate (lower-case hex).
    public var fingerprint: String
    /// The rows in screen order: 商号, 氏名, 所在地, シリアル番号, 発行者, 有効期間 (開始, 終了).
    public var rows: [ScreenRow]

    init(certificate: CertificateSummary, fingerprint: String) {
        self.certificate = certificate
        self.fingerprint = fingerprint
        rows = [
            ScreenRow(label: "ICカード業者名称", value: certificate.value(of: .companyName)),
            ScreenRow(label: "ICカード取得者氏名", value: certificate.value(of: .holderName)),
            ScreenRow(label: "ICカード取得者所在地", value: certificate.value(of: .holderAddress)),
            ScreenRow(label: "証明書シリアル番号", value: certificate.serialNumber),
            ScreenRow(label: "証明書発行者", value: certificate.issuer),
            ScreenRow(label: "有効期間の開始日", value: CertificateSummary.japanDate(certificate.notValidBefore)),
            ScreenRow(label: "有効期間の満了日", value: CertificateSummary.japanDate(certificate.notValidAfter)),
        ]
    }

    /// The value of the row labelled `label`, if there is one.
    public func value(of label: String) -> String? {
        rows.first { $0.label == label }?.value
    }
}

/// The confirmation screen (失効申込内容確認, ⑫): the card, the form and the request's identifier; the person
/// ticks 上記内容を確認しました before 失効申込をする(確定) is possible.
public struct RevocationConfirmation: Sendable, Hashable {
    /// The screen's title.
    public static let title = "失効申込内容確認"
    /// The label of the check box that must be ticked before the submit.
    public static let checkLabel = "上記内容を確認しました"
    /// The label of the final button.
    public static let submitLabel = "失効申込をする(確定)"
    /// The card to revoke.
    public var card: RevocationCardContents
    /// The validated form.
    public var form: RevocationRequestForm
    /// The request as signed by the card (its identifier, content and CMS bytes).
    public var request: SignedRevocationRequest
    /// The notes under the rows.
    public static let notes = [
        "失効申込内容に誤りがないことを確認し、「上記内容を確認しました」にチェックしてください。",
        "失効申込をする(確定)をクリックした時点で申込データが認証局に送信されます。これ以降は申込データの訂正や取消はできません。",
    ]

    /// Every row in screen order: the card's, then the form's, then the request's identifier.
    public var rows: [ScreenRow] {
        card.rows + form.rows + [ScreenRow(label: "申込ID", value: request.requestID)]
    }
}
