// jpki: the My Number card (マイナンバーカード) from the command line: its certificates, PIN tries left, CMS
// signatures with the signing key, their verification, and the text-input-support data. A thin example over the
// JPKI, PCSC and CardCredentials modules.

import ArgumentParser
import CardCredentials
import Foundation
import ISO7816
import JPKI
import PCSC
import PDFSignature
import ToolSupport
import X509

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

@main
struct JPKITool: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "jpki",
        abstract: "Use a My Number card (マイナンバーカード) over PC/SC: certificates, PINs, CMS signatures.",
        discussion: """
            PINs are asked for on the terminal without echo, or read from standard input with --pin-stdin; they are \
            never printed. A reader is named with --reader: its number in `cardtool readers`, or a part of its name \
            only one reader's name contains; without --reader, the reader holding a My Number card (when several \
            readers hold cards, the one whose card has the JPKI application).

            \(ExitStatus.helpText)
            Refused (1): a wrong or blocked PIN, a PIN of the wrong form, the last try not sent without \
            --allow-last-try, a signature that does not verify.

            certs, pin-status and text-info print JSON with --json (see each command's --help; keys sorted, dates \
            ISO 8601).

            \(ExitStatus.commonOptionsText)
            """,
        version: ToolVersion.current,
        subcommands: [
            Certs.self, PINStatusCommand.self, PINCommand.self, Sign.self, Verify.self, SignPDF.self, VerifyPDF.self,
            TextInfo.self,
        ]
    )

    static func main() async {
        await ToolMain.run(Self.self, tool: "jpki") { isRefusal($0) ? .refused : .failed }
    }
}

// MARK: - Shared options

struct CardOptions: ParsableArguments {
    @Option(
        name: .long,
        help: """
            The reader: its number in `cardtool readers`, or a unique part of its name (default: the one holding a \
            My Number card).
            """)
    var reader: String?
}

struct PINOptions: ParsableArguments {
    @Flag(name: .long, help: "Read the PIN from the first line of standard input instead of the terminal.")
    var pinStdin = false

    @Flag(name: .long, help: "Send the PIN even when only one try is left (a wrong PIN then blocks it (閉塞)).")
    var allowLastTry = false

    /// Asks for the PIN and checks its form before anything reaches the card.
    func read(_ pin: JPKIPIN) throws -> SecretPIN {
        var bytes = pinStdin ? try PINInput.readStandardInput() : try PINInput.prompt("Enter \(pin): ")
        return try SecretPIN(wiping: &bytes, policy: pin.policy)
    }
}

// MARK: - Commands

struct Certs: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Show the card's certificates (the signing certificate asks for the signing PIN).",
        discussion: """
            With --json, one document (keys sorted, dates ISO 8601 in UTC):
              {"certificates": [{"type": "auth", "subject": "…", "issuer": "…", "serialNumber": "0A1B…",
                "notValidBefore": "2026-01-01T00:00:00Z", "notValidAfter": "…", "holder": "…" or null,
                "pem": "-----BEGIN CERTIFICATE-----…"}]}
            type is auth, sign, auth-ca or sign-ca; holder is the name the authentication or signing certificate \
            carries, null for the CA certificates.
            """)

    @OptionGroup var card: CardOptions
    @OptionGroup var pin: PINOptions

    @Option(name: .long, help: "Which certificate: auth, sign, auth-ca or sign-ca (default: the three free ones).")
    var type: CertificateType?

    @Flag(name: .long, help: "Print PEM instead of a summary.")
    var pem = false

    @Flag(name: .long, help: "Print JSON (documented in --help) instead of a summary.")
    var json = false

    func run() async throws {
        let kinds = type.map { [$0.kind] } ?? [.authentication, .authenticationCA, .signingCA]
        let secret = try kinds.contains(.signing) ? pin.read(.signing) : nil
        let allowLastTry = pin.allowLastTry
        let certificates = try await withMyNumberCard(reader: card.reader) { card in
            if let secret { try await card.verifyPIN(secret, for: .signing, allowLastTry: allowLastTry) }
            var certificates: [(JPKICertificateKind, [UInt8])] = []
            for kind in kinds { certificates.append((kind, try await card.certificateDER(kind))) }
            return certificates
        }
        if json {
            try JSONOutput.print(
                CertificatesDocument(certificates: try certificates.map { try .init(kind: $0, der: $1) }))
            return
        }
        for (kind, der) in certificates {
            print(pem ? PEMText.certificate(der) : try Summary.certificate(kind, der: der), terminator: "")
        }
    }
}

/// `jpki certs --json`.
struct CertificatesDocument: Encodable {
    struct Entry: Encodable {
        var type: String
        var subject: String
        var issuer: String
        var serialNumber: String
        var notValidBefore: Date
        var notValidAfter: Date
        var holder: String?
        var pem: String

        init(kind: JPKICertificateKind, der: [UInt8]) throws {
            let summary = CertificateSummary(try Certificate(derEncoded: der))
            type = kind.rawValue
            subject = summary.subject
            issuer = summary.issuer
            serialNumber = summary.serialNumber
            notValidBefore = summary.notValidBefore
            notValidAfter = summary.notValidAfter
            holder = summary.jpkiPersonalAttributes?.name
            pem = PEMText.certificate(der)
        }

        func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(type, forKey: .type)
            try container.encode(subject, forKey: .subject)
            try container.encode(issuer, forKey: .issuer)
            try container.encode(serialNumber, forKey: .serialNumber)
            try container.encode(notValidBefore, forKey: .notValidBefore)
            try container.encode(notValidAfter, forKey: .notValidAfter)
            try container.encode(holder, forKey: .holder)  // null, not left out
            try container.encode(pem, forKey: .pem)
        }

        enum CodingKeys: String, CodingKey {
            case type, subject, issuer, serialNumber, notValidBefore, notValidAfter, holder, pem
        }
    }
    var certificates: [Entry]
}

struct PINStatusCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "pin-status", abstract: "Show how many tries each PIN has left (no try is spent).",
        discussion: """
            With --json, one document (keys sorted):
              {"pins": [{"pin": "auth", "state": "triesLeft", "triesLeft": 3}, {"pin": "sign", "state": "blocked", \
            "triesLeft": 0}, {"pin": "text", "state": "verified", "triesLeft": null}]}
            pin is auth (利用者証明用), sign (署名用) or text (券面事項入力補助用); state is triesLeft, verified, \
            blocked (閉塞) or unknown; triesLeft is a number for triesLeft and blocked, else null.
            """)

    @OptionGroup var card: CardOptions

    @Flag(name: .long, help: "Print JSON (documented in --help) instead of lines.")
    var json = false

    struct Document: Encodable {
        struct PIN: Encodable {
            var pin: String
            var state: String
            var triesLeft: Int?

            func encode(to encoder: any Encoder) throws {
                var container = encoder.container(keyedBy: CodingKeys.self)
                try container.encode(pin, forKey: .pin)
                try container.encode(state, forKey: .state)
                try container.encode(triesLeft, forKey: .triesLeft)
            }
            enum CodingKeys: String, CodingKey { case pin, state, triesLeft }
        }
        var pins: [PIN]
    }

    func run() async throws {
        // SELECT of the JPKI application recognises the card here (as OpenSC does): the token label would cost
        // two more APDUs, and a card without the text-input-support application is refused anyway.
        let statuses = try await withMyNumberCard(reader: card.reader, readTokenLabel: false) { card in
            try await card.pinStatuses()
        }
        if json {
            let order: [(String, JPKIPIN)] = [
                ("auth", .authentication), ("sign", .signing), ("text", .textInputSupport),
            ]
            try JSONOutput.print(
                Document(
                    pins: order.map { name, pin in
                        switch statuses[pin] {
                        case .triesLeft(let count): .init(pin: name, state: "triesLeft", triesLeft: count)
                        case .verified: .init(pin: name, state: "verified", triesLeft: nil)
                        case .blocked: .init(pin: name, state: "blocked", triesLeft: 0)
                        case nil: .init(pin: name, state: "unknown", triesLeft: nil)
                        }
                    }))
            return
        }
        for pin in JPKIPIN.allCases {
            print("\(pin): \(statuses[pin].map { "\($0)" } ?? "unknown")")
        }
    }
}

struct PINCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "pin", abstract: "Manage the card's PINs.", subcommands: [PINChange.self])
}

struct PINChange: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "change",
        abstract: "Change a PIN (暗証番号の変更): the current PIN is verified, then replaced by the new one.",
        discussion: """
            On a terminal, the current PIN is asked once and the new one twice, without echo. With --pin-stdin, \
            line 1 of standard input is the current PIN and line 2 the new one. The new PIN is checked against its \
            rules before anything is sent to the card (sign: 6–16 upper-case letters and digits, lower case \
            upper-cased; auth and text: 4 digits). Neither PIN is ever printed.
            """)

    @OptionGroup var card: CardOptions

    @Option(name: .long, help: "Which PIN: sign (署名用), auth (利用者証明用) or text (券面事項入力補助用).")
    var type: PINType

    @Flag(name: .long, help: "Read the current PIN (line 1) and the new PIN (line 2) from standard input.")
    var pinStdin = false

    @Flag(
        name: .long,
        help: "Send the current PIN even when only one try is left (a wrong PIN then blocks it (閉塞)).")
    var allowLastTry = false

    func run() async throws {
        let pin = type.pin
        let (current, new) = try readPINs(pin)
        let allowLastTry = allowLastTry
        try await withMyNumberCard(reader: card.reader) { card in
            try await card.changePIN(pin, from: current, to: new, allowLastTry: allowLastTry)
        }
        print("\(pin.description.prefix(1).uppercased() + pin.description.dropFirst()) was changed.")
    }

    /// Reads both PINs and checks their forms (nothing reaches the card before).
    func readPINs(_ pin: JPKIPIN) throws -> (current: SecretPIN, new: SecretPIN) {
        if pinStdin {
            var currentBytes = try PINInput.readStandardInput()
            let current = try SecretPIN(wiping: &currentBytes, policy: pin.policy)
            var newBytes = try PINInput.readStandardInput()
            let new = try Self.newPIN(wiping: &newBytes, pin)
            return (current, new)
        }
        let name = pin.unqualifiedName
        var currentBytes = try PINInput.prompt("Enter the current \(name): ")
        let current = try SecretPIN(wiping: &currentBytes, policy: pin.policy)
        var newBytes = try PINInput.prompt("Enter the new \(name): ")
        let new = try Self.newPIN(wiping: &newBytes, pin)
        var againBytes = try PINInput.prompt("Enter the new \(name) again: ")
        let again = try Self.newPIN(wiping: &againBytes, pin)
        guard new.isEqual(to: again) else { throw PINChangeError.newPINsDiffer(pin) }
        return (current, new)
    }

    /// The new PIN, its form checked: a wrong form is a refusal that names the new PIN.
    static func newPIN(wiping bytes: inout [UInt8], _ pin: JPKIPIN) throws -> SecretPIN {
        do {
            return try SecretPIN(wiping: &bytes, policy: pin.policy)
        } catch CardCredentialsError.pinFormat(let problem) {
            throw PINChangeError.newPINFormat(pin, problem)
        }
    }
}

/// Why `jpki pin change` refused before sending anything.
enum PINChangeError: Error, CustomStringConvertible {
    case newPINFormat(JPKIPIN, PINFormatProblem)
    case newPINsDiffer(JPKIPIN)

    var description: String {
        switch self {
        case .newPINFormat(let pin, let problem):
            "The new value of \(pin) was not sent to the card: \(problem); nothing was changed, enter it again."
        case .newPINsDiffer(let pin):
            "The two entries of the new \(pin.unqualifiedName) differ; nothing was sent to the card, try again."
        }
    }
}

extension JPKIPIN {
    /// The PIN's name without its article ("signing PIN (…)"), for "the current …" and "the new …".
    var unqualifiedName: String {
        let text = description
        return text.hasPrefix("the ") ? String(text.dropFirst(4)) : text
    }
}

/// The --type values of `pin change`.
enum PINType: String, ExpressibleByArgument, CaseIterable {
    case sign, auth, text

    var pin: JPKIPIN {
        switch self {
        case .sign: .signing
        case .auth: .authentication
        case .text: .textInputSupport
        }
    }
}

struct Sign: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Sign a file with the signing key: a detached CMS signature (DER) next to it.")

    @OptionGroup var card: CardOptions
    @OptionGroup var pin: PINOptions

    @Argument(help: "The file to sign.")
    var file: String

    @Option(name: .long, help: "Where to write the signature (FILE.p7s).")
    var out: String

    @Flag(
        name: .long,
        help: "Also read the signing CA certificate from the card and put it in the signature (two more APDUs).")
    var includeCA = false

    func run() async throws {
        let content = try Array(Data(contentsOf: URL(fileURLWithPath: file)))
        let secret = try pin.read(.signing)
        let allowLastTry = pin.allowLastTry
        let includeCA = includeCA
        let (signed, certificate) = try await withMyNumberCard(reader: card.reader) { card in
            let key = try await card.signingKey(
                pin: secret, allowLastTry: allowLastTry, includeCACertificate: includeCA)
            return (try await CMSSignedData.sign(content, with: key), key.certificate)
        }
        try Data(signed.derEncoded).write(to: URL(fileURLWithPath: out))
        print("signed \(file) as \(DirectoryStringText.subject(of: certificate)); signature written to \(out)")
    }
}

struct Verify: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Verify a detached CMS signature against the file and trusted CA certificates (no card needed).")

    @Argument(help: "The signed file.")
    var file: String

    @Argument(help: "The signature (DER or PEM CMS).")
    var signature: String

    @Option(name: .long, help: "A PEM file of trusted CA certificates.")
    var trust: String

    func run() async throws {
        let content = try Array(Data(contentsOf: URL(fileURLWithPath: file)))
        let cms = try CMSSignedData(bytes: Array(Data(contentsOf: URL(fileURLWithPath: signature))))
        let anchors = try PEMText.certificates(in: String(contentsOfFile: trust, encoding: .utf8), source: trust)
        let validator = CertificateValidator(trustAnchors: anchors)
        let result = try await cms.verify(content: content, validator: validator, purpose: .signing)
        for signer in result.signers {
            print("Verification successful: signed by \(DirectoryStringText.subject(of: signer.certificate))")
        }
    }
}

struct SignPDF: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sign-pdf",
        abstract: "Sign a PDF with the signing key: PAdES baseline B-B, or B-T with --tsa.",
        discussion: """
            The signature is appended as an incremental update: the original bytes stay as they were. Encrypted \
            PDFs are refused. With --tsa, an RFC 3161 time-stamp of the signature is added (B-T); when the \
            time-stamp authority fails, nothing is written. The field is invisible unless --visible places it: \
            PAGE:x,y,w,h in points from the page's lower-left corner; it shows the signer's name (Latin letters \
            only: a Japanese name is replaced by the certificate's serial number) and the time.
            """)

    @OptionGroup var card: CardOptions
    @OptionGroup var pin: PINOptions

    @Argument(help: "The PDF to sign.")
    var file: String

    @Option(name: .long, help: "Where to write the signed PDF.")
    var out: String

    @Option(name: .long, help: "The signature field's name (default: Signature1, or the next free number).")
    var field: String?

    @Option(name: .long, help: "The reason written in the signature (/Reason).")
    var reason: String?

    @Flag(name: .long, help: "Also read the signing CA certificate from the card and put it in the signature.")
    var includeCA = false

    @Option(name: .long, help: "An RFC 3161 time-stamp authority's URL: the signature gets its time-stamp (B-T).")
    var tsa: String?

    @Option(
        name: .long,
        help: ArgumentHelp(
            "A visible signature: PAGE:x,y,w,h (page from 1; points from the lower-left corner).",
            valueName: "PAGE:x,y,w,h"))
    var visible: String?

    func run() async throws {
        let pdf = try Array(Data(contentsOf: URL(fileURLWithPath: file)))
        var settings = PAdES.Options()
        settings.fieldName = field
        settings.reason = reason
        if let tsa {
            guard let url = URL(string: tsa), ["http", "https"].contains(url.scheme?.lowercased() ?? "") else {
                throw ValidationError("--tsa \(tsa) is not an http:// or https:// URL; give the TSA's address.")
            }
            settings.timeStampAuthority = TimeStampAuthority(url: url)
        }
        if let visible { settings.appearance = try Self.appearance(visible) }
        let options = settings
        try PAdES.checkSignable(pdf, options: options)  // refused before the PIN: encrypted, unreadable, no page
        let secret = try pin.read(.signing)
        let allowLastTry = pin.allowLastTry
        let includeCA = includeCA
        let (signed, certificate) = try await withMyNumberCard(reader: card.reader) { card in
            let key = try await card.signingKey(
                pin: secret, allowLastTry: allowLastTry, includeCACertificate: includeCA)
            return (try await PAdES.sign(pdf, with: key, options: options), key.certificate)
        }
        try Data(signed).write(to: URL(fileURLWithPath: out))
        print("signed \(file) as \(DirectoryStringText.subject(of: certificate)); signed PDF written to \(out)")
    }

    /// Reads `PAGE:x,y,w,h`.
    static func appearance(_ text: String) throws -> PAdES.Appearance {
        let halves = text.split(separator: ":", omittingEmptySubsequences: false)
        let numbers = halves.count == 2 ? halves[1].split(separator: ",").compactMap { Double($0) } : []
        guard halves.count == 2, let page = Int(halves[0]), page >= 1, numbers.count == 4 else {
            throw ValidationError(
                "--visible \(text) is not PAGE:x,y,w,h (for example 1:360,50,200,60); give the page from 1 and the "
                    + "rectangle in points.")
        }
        return PAdES.Appearance(page: page, x: numbers[0], y: numbers[1], width: numbers[2], height: numbers[3])
    }
}

struct VerifyPDF: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "verify-pdf",
        abstract: "Verify the signatures of a PDF against trusted CA certificates (no card needed).")

    @Argument(help: "The signed PDF.")
    var file: String

    @Option(name: .long, help: "A PEM file of trusted CA certificates.")
    var trust: String

    @Option(name: .long, help: "A revocation list (DER or PEM) to check the signers against; may be repeated.")
    var crl: [String] = []

    func run() async throws {
        let pdf = try Array(Data(contentsOf: URL(fileURLWithPath: file)))
        let anchors = try PEMText.certificates(in: String(contentsOfFile: trust, encoding: .utf8), source: trust)
        let crls = try crl.map {
            try CertificateRevocationList(bytes: Array(Data(contentsOf: URL(fileURLWithPath: $0))))
        }
        let validator = CertificateValidator(
            trustAnchors: anchors, crls: crls, revocation: crls.isEmpty ? .whenAvailable : .required)
        let reports = try await PAdES.verify(pdf, validator: validator)
        for report in reports {
            let extent =
                report.coversWholeDocument
                ? "covers the whole document"
                : "covers the first \(report.signedLength) of \(pdf.count) bytes (changed or signed again after)"
            print(
                "\(report.fieldName): signature valid (\(report.subFilter)), signed by "
                    + "\(DirectoryStringText.subject(of: report.signer)); \(extent)")
            if let stamp = report.timeStamp {
                let trust = report.timeStampTrusted ? "trusted" : "its authority not among the trusted certificates"
                print(
                    "  time-stamp: \(stamp.time.formatted(.iso8601)) by "
                        + "\(DirectoryStringText.subject(of: stamp.authority)) (\(trust))")
            }
        }
    }
}

struct TextInfo: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "text-info",
        abstract: "Show the text-input-support data (券面事項入力補助): individual number, name, address, birth, sex.",
        discussion: """
            With --json, one document (keys sorted):
              {"individualNumber": "123456789012", "name": "…", "address": "…", "dateOfBirth": "1990-01-31", \
            "sex": "male"}
            sex is male, female or notApplicable (the card's codes 1, 2, 9).
            """)

    @OptionGroup var card: CardOptions
    @OptionGroup var pin: PINOptions

    @Flag(name: .long, help: "Print JSON (documented in --help) instead of lines.")
    var json = false

    struct Document: Encodable {
        var individualNumber: String
        var name: String
        var address: String
        var dateOfBirth: String
        var sex: String
    }

    func run() async throws {
        let secret = try pin.read(.textInputSupport)
        let allowLastTry = pin.allowLastTry
        let info = try await withMyNumberCard(reader: card.reader) { card in
            try await card.textInputSupportInfo(pin: secret, allowLastTry: allowLastTry)
        }
        let birth = info.dateOfBirth
        let date = "\(birth.prefix(4))-\(birth.dropFirst(4).prefix(2))-\(birth.suffix(2))"
        if json {
            let sex =
                switch info.sex {
                case .male: "male"
                case .female: "female"
                case .notApplicable: "notApplicable"
                }
            try JSONOutput.print(
                Document(
                    individualNumber: info.individualNumber, name: info.name, address: info.address,
                    dateOfBirth: date, sex: sex))
            return
        }
        print("個人番号 (individual number): \(info.individualNumber)")
        print("氏名 (name): \(info.name)")
        print("住所 (address): \(info.address)")
        print("生年月日 (date of birth): \(date)")
        print("性別 (sex): \(info.sex)")
    }
}

/// The --type values: the JPKI module's certificate kinds by their short names.
enum CertificateType: String, ExpressibleByArgument, CaseIterable {
    case auth, sign
    case authCA = "auth-ca"
    case signCA = "sign-ca"

    var kind: JPKICertificateKind {
        switch self {
        case .auth: .authentication
        case .sign: .signing
        case .authCA: .authenticationCA
        case .signCA: .signingCA
        }
    }
}

// MARK: - The card

/// Connects to the card in the chosen reader, checks it is a My Number card (its token label, unless
/// `readTokenLabel` is false: then the JPKI application's SELECT alone recognises it), and runs `body` inside a
/// PC/SC transaction so no other program interleaves.
func withMyNumberCard<T: Sendable>(
    reader requested: String?, readTokenLabel: Bool = true,
    _ body: @escaping @Sendable (MyNumberCard) async throws -> T
) async throws -> T {
    let context = try PCSCContext()
    let name = try await ReaderChoice.resolve(
        requested, context: context, kind: "My Number card (マイナンバーカード)",
        accepts: { reader in await holdsJPKI(context: context, reader: reader) })
    let connection = try await context.connect(to: name)
    do {
        let value = try await connection.withTransaction { connection in
            let card =
                readTokenLabel
                ? try await MyNumberCard.connect(transport: connection) : MyNumberCard(transport: connection)
            return try await body(card)
        }
        await connection.disconnect()
        return value
    } catch {
        await connection.disconnect()
        throw error
    }
}

/// Whether the card in `reader` has the JPKI application (its SELECT answers 90 00): a My Number card.
func holdsJPKI(context: PCSCContext, reader: String) async -> Bool {
    guard let connection = try? await context.connect(to: reader) else { return false }
    let select =
        [0x00, 0xA4, 0x04, 0x0C, UInt8(MyNumberCardApplication.jpki.aid.count)] + MyNumberCardApplication.jpki.aid
    let answer = try? await connection.transmit(select)
    await connection.disconnect()
    return answer.map { $0.suffix(2) == [0x90, 0x00] } ?? false
}

// MARK: - Errors and exit codes

/// Wrong or blocked PINs, PINs of the wrong form and signatures that do not verify are refusals (exit 1).
func isRefusal(_ error: any Error) -> Bool {
    switch error {
    case let error as JPKIError:
        return [.wrongPIN, .pinBlocked, .lastTryRefused, .pinFormat, .newPINRefused].contains(error.code)
    case is PINChangeError:
        return true
    case let error as PDFSignatureError:
        return [.encryptedPDF, .noSignature, .unsupportedSignature, .timeStampInvalid].contains(error.code)
    case let error as CardCredentialsError:
        switch error {
        case .pinFormat, .wrongPIN, .pinBlocked, .lastTryRefused, .cmsContentMismatch, .cmsSignatureInvalid,
            .cmsSignerNotTrusted, .cardSignatureInvalid:
            return true
        default: return false
        }
    default:
        return false
    }
}

// MARK: - Output

enum DirectoryStringText {
    static func subject(of certificate: Certificate) -> String {
        DirectoryString.display(certificate.subject)
    }
}

enum Summary {
    static func certificate(_ kind: JPKICertificateKind, der: [UInt8]) throws -> String {
        let certificate = try Certificate(derEncoded: der)
        let summary = CertificateSummary(certificate)
        var text = "\(kind.rawValue): \(kind)\n"
        text += "  subject: \(summary.subject)\n"
        text += "  issuer: \(summary.issuer)\n"
        text += "  serial number: \(summary.serialNumber)\n"
        text += "  valid until: \(summary.expiryText)\n"
        if let person = summary.jpkiPersonalAttributes, let name = person.name {
            text += "  holder: \(name)\n"
        }
        return text
    }
}
