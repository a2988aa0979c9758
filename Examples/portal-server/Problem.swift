import CardCredentials
import Foundation
import Hummingbird
import Registration

/// An RFC 9457 problem document (`application/problem+json`): what every refusal of the server answers.
///
/// `type` is `urn:procurement-identity:problem:<rule>`, `rule` the name of the rule that refused (the library's
/// error case, or the server's own: `unknownField`, `csrfOrigin`, …), `field` the input field when one is to blame.
struct Problem: Error, HTTPResponseError {
    var status: HTTPResponse.Status
    var title: String
    var detail: String
    var rule: String
    var field: String?
    /// Extra headers (Retry-After for a rate limit, Allow for a wrong method).
    var headers: HTTPFields = [:]

    init(
        _ status: HTTPResponse.Status, rule: String, title: String, detail: String, field: String? = nil,
        headers: HTTPFields = [:]
    ) {
        self.status = status
        self.rule = rule
        self.title = title
        self.detail = detail
        self.field = field
        self.headers = headers
    }

    var type: String { "urn:procurement-identity:problem:\(rule)" }

    /// The JSON body: keys sorted, `field` null when no field is to blame.
    struct Document: Codable, Equatable {
        var type: String
        var title: String
        var status: Int
        var detail: String
        var rule: String
        var field: String?

        func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(type, forKey: .type)
            try container.encode(title, forKey: .title)
            try container.encode(status, forKey: .status)
            try container.encode(detail, forKey: .detail)
            try container.encode(rule, forKey: .rule)
            try container.encode(field, forKey: .field)
        }
    }

    var document: Document {
        Document(type: type, title: title, status: Int(status.code), detail: detail, rule: rule, field: field)
    }

    func response(from request: Request, context: some RequestContext) throws -> Response {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        let body = try encoder.encode(document)
        var fields = headers
        fields[.contentType] = "application/problem+json"
        fields[.cacheControl] = "no-store"
        return Response(status: status, headers: fields, body: .init(byteBuffer: ByteBuffer(bytes: body)))
    }
}

// MARK: The one table

extension Problem {
    /// The library's refusals as problems: the one place where a `RegistrationError` becomes an HTTP status.
    ///
    /// 400 the request cannot be used as sent (a challenge unknown or expired); 403 the rights, or a certificate
    /// that may not log in; 404 a record not found; 409 the registration's state (stale version, already bound);
    /// 422 a field or rule of the input; 502 a peer (mail, GEPS); 503 the store.
    init(_ error: RegistrationError) {
        let detail = error.description
        switch error {
        case .corporateNumberFormat, .corporateNumberCheckDigit:
            self.init(
                .unprocessableContent, rule: "corporateNumber", title: "法人番号が正しくありません", detail: detail,
                field: "corporateNumber")
        case .invalidField(let field, _):
            self.init(
                .unprocessableContent, rule: "invalidField", title: "入力項目が正しくありません", detail: detail,
                field: Self.jsonFields[field] ?? field)
        case .notPermitted:
            self.init(.forbidden, rule: "notPermitted", title: "この変更の権限がありません", detail: detail)
        case .notOwnRecord:
            self.init(.forbidden, rule: "notOwnRecord", title: "自分の情報のみ変更できます", detail: detail)
        case .userDeleted:
            self.init(.forbidden, rule: "userDeleted", title: "利用者は削除されています", detail: detail)
        case .powerOfAttorneyExpired:
            self.init(.forbidden, rule: "powerOfAttorneyExpired", title: "電子委任状の有効期限が切れています", detail: detail)
        case .changeNotAllowed:
            self.init(.unprocessableContent, rule: "changeNotAllowed", title: "この変更はできません", detail: detail)
        case .businessNotFound:
            self.init(.notFound, rule: "businessNotFound", title: "事業者が見つかりません", detail: detail)
        case .userNotFound:
            self.init(.notFound, rule: "userNotFound", title: "利用者が見つかりません", detail: detail, field: "userID")
        case .bindingNotFound:
            self.init(
                .notFound, rule: "bindingNotFound", title: "電子証明書情報が見つかりません", detail: detail, field: "bindingID")
        case .certificateAlreadyBound:
            self.init(
                .conflict, rule: "certificateAlreadyBound", title: "電子証明書は登録済みです", detail: detail,
                field: "certificate")
        case .corporateNumberAlreadyRegistered:
            self.init(
                .conflict, rule: "corporateNumberAlreadyRegistered", title: "法人番号は登録済みです", detail: detail,
                field: "corporateNumber")
        case .companyNameMismatch:
            self.init(
                .unprocessableContent, rule: "companyNameMismatch", title: "証明書の商号又は名称が一致しません", detail: detail,
                field: "certificate")
        case .staleChange:
            self.init(.conflict, rule: "staleChange", title: "登録情報が更新されています", detail: detail)
        case .preparationExpired:
            self.init(.conflict, rule: "preparationExpired", title: "確認画面の有効期限が切れました", detail: detail)
        case .preparationUnknown:
            self.init(.conflict, rule: "preparationUnknown", title: "確認待ちの変更がありません", detail: detail)
        case .certificateNotRegistered:
            self.init(.forbidden, rule: "certificateNotRegistered", title: "電子証明書が登録されていません", detail: detail)
        case .certificateNotActive:
            self.init(.forbidden, rule: "certificateNotActive", title: "電子証明書は使用できません", detail: detail)
        case .certificateUntrusted:
            self.init(.forbidden, rule: "certificateUntrusted", title: "電子証明書を検証できません", detail: detail)
        case .evidenceRefused(let refusal):
            self.init(refusal, detail: detail)
        case .flowChanged:
            self.init(.conflict, rule: "flowChanged", title: "他の操作で更新されています", detail: detail)
        case .storeFailure, .storeUnreadable:
            // The reason may name tables and files: it goes to the log, not to the client.
            self.init(
                .serviceUnavailable, rule: "storeFailure", title: "データベースを利用できません",
                detail: "The registration store failed; nothing was changed. Try again later.")
        case .outboxMessageNotFound:
            self.init(.notFound, rule: "outboxMessageNotFound", title: "通知が見つかりません", detail: detail)
        case .mailRejected, .mailServerUnreachable, .gepsRejected, .gepsUnavailable:
            self.init(.badGateway, rule: "deliveryFailed", title: "通知を送信できません", detail: detail)
        }
    }

    /// Refused card evidence: the code is the rule, the field the one it is about.
    init(_ refusal: EvidenceError, detail: String) {
        let (status, title, field): (HTTPResponse.Status, String, String?) =
            switch refusal.code {
            case .challengeUnknown: (.badRequest, "チャレンジが見つかりません", "challengeID")
            case .challengeExpired: (.badRequest, "チャレンジの有効期限が切れました", "challengeID")
            case .challengeNotYours: (.forbidden, "このチャレンジには応答できません", "challengeID")
            case .foreignOrigin: (.forbidden, "他のサイトのための署名です", "origin")
            case .wrongStep: (.conflict, "手順が違います", "challengeID")
            case .signatureInvalid: (.forbidden, "署名を検証できません", "signature")
            case .certificateUntrusted: (.forbidden, "電子証明書を検証できません", "certificate")
            case .storeFailure: (.serviceUnavailable, "データベースを利用できません", nil)
            default: (.badRequest, "署名の形式が正しくありません", nil)
            }
        self.init(status, rule: refusal.code.rawValue, title: title, detail: detail, field: field)
    }

    /// An error thrown by Hummingbird itself (no route, a body too large) or by anything else, as a problem.
    static func from(_ error: any Error) -> Problem {
        switch error {
        case let problem as Problem:
            return problem
        case let error as RegistrationError:
            return Problem(error)
        case let error as HTTPError:
            switch error.status {
            case .notFound:
                return Problem(
                    .notFound, rule: "unknownRoute", title: "Not Found",
                    detail: "No such endpoint; GET /openapi.yaml lists the endpoints.")
            case .methodNotAllowed:
                return Problem(
                    .methodNotAllowed, rule: "methodNotAllowed", title: "Method Not Allowed",
                    detail: "This endpoint does not take that method; GET /openapi.yaml lists the endpoints.",
                    headers: error.headers)
            case .contentTooLarge:
                return .bodyTooLarge
            default:
                return Problem(
                    error.status, rule: "http\(error.status.code)", title: error.status.reasonPhrase,
                    detail: error.body ?? error.status.reasonPhrase)
            }
        default:
            return Problem(
                .internalServerError, rule: "internal", title: "Internal Server Error",
                detail: "The server failed; nothing was changed.")
        }
    }

    /// The library names fields by the manual's labels; the API by its JSON keys.
    static let jsonFields: [String: String] = [
        "役職名": "title", "氏名": "name", "郵便番号": "postalCode", "住所": "address", "電話番号": "phone", "FAX番号": "fax",
        "メールアドレス": "mail", "商号又は名称": "name", "所在地": "address", "代表者役職名": "representativeTitle",
        "代表者氏名": "representativeName", "法人番号": "corporateNumber", "委任者": "powerOfAttorney.principal",
        "受任者": "powerOfAttorney.agent", "代理権": "powerOfAttorney.authority", "有効期間": "powerOfAttorney.validUntil",
        "電子委任状取扱事業者": "powerOfAttorney.provider", "電子委任状の識別番号": "powerOfAttorney.reference",
    ]

    static let bodyTooLarge = Problem(
        .contentTooLarge, rule: "bodyTooLarge", title: "Content Too Large",
        detail: "The request body is larger than the server accepts.")
}
