import CardCredentials
import Foundation
public import Registration

/// Where a revocation request (インターネット失効申込) stands: what the front end shows and asks next.
public enum RevocationRequestStep: Sendable, Hashable, CustomStringConvertible {
    /// The conditions and the advice (``RevocationRequest/notice``), then 手続きの流れを確認
    /// (``RevocationRequest/openProcedure()``), 利用規約を確認 (``RevocationRequest/openTerms()``) and
    /// 同意して次へ (``RevocationRequest/agree()``), possible only once both were opened.
    case agreement(procedureOpened: Bool, termsOpened: Bool)
    /// Insert the card to revoke, then ``RevocationRequest/readCard()``.
    case insertCard
    /// PIN(暗証番号)の入力: ``RevocationRequest/verifyPIN(_:allowLastTry:)``; `triesLeft` as the card says.
    case enterPIN(triesLeft: Int?)
    /// ⑩ The card's contents: check it is the card to revoke, then ``RevocationRequest/continueToForm()``
    /// (失効申込情報入力へ).
    case reviewCard(RevocationCardContents)
    /// ⑪ The request form: ``RevocationRequest/fill(_:)`` (失効申込内容確認へ) signs the request with the card.
    case fillForm(RevocationCardContents)
    /// ⑫ The confirmation: ``RevocationRequest/setChecked(_:)`` (上記内容を確認しました), then
    /// ``RevocationRequest/submit()`` (失効申込をする(確定)).
    case confirm(RevocationConfirmation, checked: Bool)
    /// The request was sent but the CA's answer did not arrive: ``RevocationRequest/submit()`` sends the very same
    /// request again (the CA does not record it twice). It can no longer be changed or withdrawn.
    case awaitingReceipt(RevocationConfirmation)
    /// ⑭ Done: the CA accepted the request; print the record (失効申込内容印刷).
    case completed(RevocationRecord)

    /// The names of the steps, as errors and logs name them.
    public enum Name: String, LifecycleStepName {
        /// The name of `RevocationRequestStep.agreement`.
        case agreement
        /// The name of `RevocationRequestStep.insertCard`.
        case insertCard
        /// The name of `RevocationRequestStep.enterPIN`.
        case enterPIN
        /// The name of `RevocationRequestStep.reviewCard`.
        case reviewCard
        /// The name of `RevocationRequestStep.fillForm`.
        case fillForm
        /// The name of `RevocationRequestStep.confirm`.
        case confirm
        /// The name of `RevocationRequestStep.awaitingReceipt`.
        case awaitingReceipt
        /// The name of `RevocationRequestStep.completed`.
        case completed
    }

    /// The step's name, as errors name it.
    public var name: Name {
        switch self {
        case .agreement: .agreement
        case .insertCard: .insertCard
        case .enterPIN: .enterPIN
        case .reviewCard: .reviewCard
        case .fillForm: .fillForm
        case .confirm: .confirm
        case .awaitingReceipt: .awaitingReceipt
        case .completed: .completed
        }
    }

    /// What the screen tells the person, after the manual's wording.
    public var prompt: String {
        switch self {
        case .agreement(let procedure, let terms):
            procedure && terms
                ? "「同意して次へ」をクリックしてください。"
                : "「手続きの流れを確認」と「利用規約を確認」をクリックして内容をご確認ください。"
                    + "ご確認いただくまでは「同意して次へ」はクリックできません。"
        case .insertCard:
            "失効したいICカードをICカードリーダーに挿入し、OKをクリックしてください。"
        case .enterPIN:
            "PIN(暗証番号)を入力して、OKをクリックしてください。"
        case .reviewCard:
            "失効したいICカードと相違ないか確認し、「失効申込情報入力へ」をクリックしてください。"
        case .fillForm:
            "失効申込に必要な情報を入力し、「失効申込内容確認へ」をクリックしてください。"
        case .confirm(_, let checked):
            checked
                ? "「失効申込をする(確定)」をクリックしてください。"
                : "失効申込内容に誤りがないことを確認し、「上記内容を確認しました」にチェックしてください。"
        case .awaitingReceipt:
            "認証局からの応答がありませんでした。「失効申込をする(確定)」をもう一度クリックしてください（同じ申込が送信されます）。"
        case .completed:
            "失効申込を受け付けました。「失効申込内容印刷」で申込内容を印刷し、お手元に保管してください。"
        }
    }

    /// The name, with what the step holds where it is short.
    public var description: String {
        switch self {
        case .agreement(let procedure, let terms): "agreement (procedure opened: \(procedure), terms opened: \(terms))"
        case .enterPIN(let tries?): "enterPIN (\(tries) tries left)"
        case .confirm(_, let checked): "confirm (checked: \(checked))"
        default: name.rawValue
        }
    }
}

/// A document the person must open before agreeing: the procedure (手続きの流れ) or the terms (利用規約).
public struct RevocationDocument: Sendable, Hashable {
    /// The document's title.
    public var title: String
    /// Its paragraphs.
    public var paragraphs: [String]

    /// 手続きの流れ: the steps of the online revocation request.
    public static let procedure = RevocationDocument(
        title: "手続きの流れ",
        paragraphs: [
            "① 失効したいICカードをICカードリーダーに挿入します。",
            "② 手続きの流れと利用規約を確認し、同意して次へ進みます。",
            "③ PIN(暗証番号)を入力し、表示されたICカードの内容が失効したいICカードと相違ないか確認します。",
            "④ 失効申込に必要な情報（失効理由、申込者の連絡先）を入力します。",
            "⑤ 失効申込内容を確認し、「上記内容を確認しました」にチェックして「失効申込をする(確定)」をクリックします。",
            "⑥ 受付番号の記載された失効申込内容を印刷し、お手元に保管します。",
        ])

    /// 利用規約: the terms of the online revocation request.
    public static let terms = RevocationDocument(
        title: "利用規約（インターネット失効申込）",
        paragraphs: [
            "第1条 インターネット失効申込は、失効するICカードを手元に有し、その暗証番号により本人であることを確認できる場合に限り利用できます。",
            "第2条 ICカードの有効期間が満了する30日前を過ぎた場合、またはICカードが手元にない場合は、書面により失効申込を行うものとします。",
            "第3条 認証局は、失効申込を受け付けた場合、速やかにICカードの電子証明書を失効し、失効情報を証明書失効リストにより公開します。",
            "第4条 失効申込の送信後は、申込データの訂正および取消はできません。",
            "第5条 電子入札等、ICカードを利用した取引が継続している場合、申込者は失効の時期について事前に取引先の行政機関等に相談するものとします。",
        ])

    /// The document as text: the title, then its paragraphs.
    public var text: String { ([title, ""] + paragraphs).joined(separator: "\n") }
}

/// How the portal's registration took the revocation.
public enum RevocationPortalUpdate: Sendable, Hashable, CustomStringConvertible {
    /// The certificate is not registered with this portal; nothing to mark.
    case notRegistered
    /// The binding is now recorded as revoked (it can no longer log in); `change` is the registration change.
    case markedRevoked(binding: BindingID, change: ChangeID)
    /// The binding was recorded as revoked already.
    case recordedAlready(binding: BindingID)
    /// The registration could not be updated; the CA revoked the certificate all the same and its next CRL
    /// refuses the card's logins. `reason` is the registration's error.
    case failed(RegistrationError)

    /// A sentence for the completion screen.
    public var description: String {
        switch self {
        case .notRegistered: "The certificate is not registered with this portal."
        case .markedRevoked(let binding, _): "The portal recorded certificate \(binding) as revoked (失効)."
        case .recordedAlready(let binding): "The portal had recorded certificate \(binding) as revoked already."
        case .failed(let error):
            "The portal could not record the revocation (\(error)); the CA's revocation list refuses the card all "
                + "the same."
        }
    }
}

/// The printable record of a submitted revocation request (失効申込内容印刷, ⑮): keep it.
public struct RevocationRecord: Sendable, Hashable {
    /// The CA's receipt (受付番号).
    public var receipt: RevocationReceipt
    /// The card that was revoked.
    public var card: RevocationCardContents
    /// The form as submitted.
    public var form: RevocationRequestForm
    /// The signed request as submitted.
    public var request: SignedRevocationRequest
    /// How the portal's registration took it.
    public var portal: RevocationPortalUpdate

    /// The signed request's CMS file bytes (`.p7m`, DER), to keep with the printed record.
    public var cmsFile: [UInt8] { request.cms }

    /// The record as text, one `label: value` line each, for printing.
    public var text: String {
        var lines = [
            "失効申込内容（インターネット失効申込）",
            "",
            "受付番号: \(receipt.receiptNumber)",
            "受付日時: \(Self.japanDateTime(receipt.acceptedAt))",
            "申込ID: \(receipt.requestID)",
            "",
        ]
        lines += card.rows.map { "\($0.label): \($0.value)" }
        lines.append("")
        lines += form.rows.map { "\($0.label): \($0.value)" }
        lines += [
            "",
            "この申込は電子署名（CMS SignedData）付きで送信されました。申込データの訂正や取消はできません。",
            "印刷された紙はお手元に保管してください。",
        ]
        return lines.joined(separator: "\n") + "\n"
    }

    /// `YYYY/MM/DD hh:mm:ss (JST)`.
    static func japanDateTime(_ date: Date) -> String {
        let seconds = Int((date.timeIntervalSince1970 + 9 * 3600).rounded(.down))
        let inDay = ((seconds % 86400) + 86400) % 86400
        func pad(_ n: Int) -> String { n < 10 ? "0\(n)" : "\(n)" }
        return
            "\(CertificateSummary.japanDate(date)) \(pad(inDay / 3600)):\(pad(inDay / 60 % 60)):\(pad(inDay % 60)) (JST)"
    }
}
