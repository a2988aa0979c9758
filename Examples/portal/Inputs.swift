import ArgumentParser
import CardCredentials
import Foundation
import ISO7816
import JPKI
import PCSC
import Registration
import ToolSupport
import X509

/// 利用者基本情報 as flags. For an update, flags left out keep the current value.
struct UserFields: ParsableArguments {
    @Option(help: "役職名 (title).") var title: String?
    @Option(help: "氏名 (name).") var name: String?
    @Option(help: "郵便番号 (postal code, 100-0013).") var postalCode: String?
    @Option(help: "住所 (address).") var address: String?
    @Option(help: "電話番号 (telephone).") var phone: String?
    @Option(help: "FAX番号 (fax; empty to remove).") var fax: String?
    @Option(help: "メールアドレス (mail address).") var mail: String?

    /// The information, every field required.
    func information() throws -> UserInformation {
        try UserInformation(
            title: try required(title, "--title"), name: try required(name, "--name"),
            postalCode: try required(postalCode, "--postal-code"), address: try required(address, "--address"),
            phone: try required(phone, "--phone"), fax: fax, mail: try required(mail, "--mail"))
    }

    /// The information with the flags given replacing `current`.
    func information(updating current: UserInformation) throws -> UserInformation {
        try UserInformation(
            title: title ?? current.title, name: name ?? current.name,
            postalCode: postalCode ?? current.postalCode.text, address: address ?? current.address,
            phone: phone ?? current.phone.text, fax: fax ?? current.fax?.text, mail: mail ?? current.mail.text)
    }
}

/// 事業者基本情報 as flags. For an update, flags left out keep the current value.
struct BusinessFields: ParsableArguments {
    @Option(help: "商号又は名称 (company name, as the certificates carry it).") var company: String?
    @Option(help: "郵便番号 of the head office.") var companyPostalCode: String?
    @Option(help: "所在地 (head office address).") var companyAddress: String?
    @Option(help: "代表者役職名 (the representative's title).") var representativeTitle: String?
    @Option(help: "代表者氏名 (the representative's name).") var representativeName: String?
    @Option(help: "法人番号 (13 digits; empty for none).") var corporateNumber: String?
    @Option(help: "電話番号 of the business.") var companyPhone: String?

    func information() throws -> BusinessInformation {
        try BusinessInformation(
            name: try required(company, "--company"),
            postalCode: try required(companyPostalCode, "--company-postal-code"),
            address: try required(companyAddress, "--company-address"),
            representativeTitle: try required(representativeTitle, "--representative-title"),
            representativeName: try required(representativeName, "--representative-name"),
            corporateNumber: corporateNumber, phone: try required(companyPhone, "--company-phone"))
    }

    func information(updating current: BusinessInformation) throws -> BusinessInformation {
        try BusinessInformation(
            name: company ?? current.name, postalCode: companyPostalCode ?? current.postalCode.text,
            address: companyAddress ?? current.address,
            representativeTitle: representativeTitle ?? current.representativeTitle,
            representativeName: representativeName ?? current.representativeName,
            corporateNumber: corporateNumber ?? current.corporateNumber?.digits,
            phone: companyPhone ?? current.phone.text)
    }
}

struct MissingOption: Error, CustomStringConvertible {
    let flag: String
    var description: String { "\(flag) is required here." }
}

func required(_ value: String?, _ flag: String) throws -> String {
    guard let value else { throw MissingOption(flag: flag) }
    return value
}

/// Where a certificate comes from: a PEM file, a PKCS#12 file, a private CA's IC card, or a My Number card.
struct CertificateSource: ParsableArguments {
    @Option(help: "A certificate in a PEM file (binding only; it cannot sign).") var pem: String?
    @Option(help: "A file-type certificate (PKCS#12, .p12/.pfx); its password is asked for.") var pkcs12: String?
    @Flag(help: "A private CA's IC card (民間認証局のICカード) in a reader.") var card = false
    @Flag(help: "A My Number card (マイナンバーカード): its signing certificate (署名用電子証明書).") var myNumber = false
    @Option(
        help:
            "The reader: its number in `cardtool readers`, or a unique part of its name (default: the one holding a card)."
    )
    var reader: String?
    @Flag(help: "Read the PIN or password from the first line of standard input.") var pinStdin = false
    @OptionGroup var lastTry: LastTryOption
    var allowLastTry: Bool { lastTry.allowLastTry }

    var kind: CredentialKind {
        if myNumber { return .myNumberCard }
        if card { return .icCard }
        return .fileCertificate
    }

    func validate() throws {
        let chosen = [pem != nil, pkcs12 != nil, card, myNumber].filter { $0 }.count
        guard chosen == 1 else {
            throw ValidationError("Choose one certificate source: --pem, --pkcs12, --card or --my-number.")
        }
    }

    /// The certificate alone. An IC card's is read without its PIN; a My Number card gives its signing
    /// certificate only after the signing PIN (署名用パスワード) was verified, so that PIN is asked for.
    func certificate() async throws -> Certificate {
        if let pem {
            return try PEMText.certificates(in: String(contentsOfFile: pem, encoding: .utf8), source: pem)[0]
        }
        if pkcs12 != nil { return try fileCredential().certificate }
        let pin = myNumber ? try readPIN() : nil
        let allowLastTry = self.allowLastTry
        return try await withCard { card in
            switch card {
            case .icCard(let card):
                return try await card.certificate()
            case .myNumber(let card):
                if let pin { try await card.verifyPIN(pin, for: .signing, allowLastTry: allowLastTry) }
                return try await card.certificate(.signing)
            }
        }
    }

    /// Signs a challenge with the key (asking for the PIN or password) and returns the evidence, in process.
    func answer(_ challenge: EvidenceChallenge) async throws -> CardEvidence {
        if pem != nil { throw ValidationError("A PEM certificate cannot sign; use --pkcs12, --card or --my-number.") }
        if pkcs12 != nil { return try await challenge.sign(for: .inProcess, with: try fileCredential()) }
        let pin = try readPIN()
        return try await withCard { card in
            switch card {
            case .icCard(let card):
                return try await challenge.sign(
                    for: .inProcess, with: try await card.signingKey(pin: pin, allowLastTry: allowLastTry))
            case .myNumber(let card):
                // The CA certificate goes with the answer as before (the login keeps it as an intermediate).
                return try await challenge.sign(
                    for: .inProcess,
                    with: try await card.signingKey(
                        .signing, pin: pin, allowLastTry: allowLastTry, includeCACertificate: true))
            }
        }
    }

    func fileCredential() throws -> FileCredential {
        guard let pkcs12 else { throw ValidationError("--pkcs12 is required here.") }
        let bytes = try [UInt8](Data(contentsOf: URL(fileURLWithPath: pkcs12)))
        var password = pinStdin ? try PINInput.readStandardInput() : try PINInput.prompt("\(pkcs12) のパスワード: ")
        let secret = try SecretPIN(wiping: &password, policy: Self.passwordPolicy)
        return try FileCredential(pkcs12: bytes, password: secret)
    }

    static let passwordPolicy = PINPolicy(
        name: "the file password", length: 1...128, allowedCharacters: .printableASCIIWithSpace)

    private func readPIN() throws -> SecretPIN {
        let policy = myNumber ? PINPolicy.jpkiSigning : ICCardProfile.procurementIdentitySimulator.pinPolicy
        let label = myNumber ? "署名用電子証明書のパスワード" : "PIN番号"
        var bytes = pinStdin ? try PINInput.readStandardInput() : try PINInput.prompt("\(label): ")
        return try SecretPIN(wiping: &bytes, policy: policy)
    }

    enum Card {
        case icCard(ICCard)
        case myNumber(MyNumberCard)
    }

    /// Connects to the card in the chosen reader and runs `body` inside a PC/SC transaction.
    private func withCard<T: Sendable>(_ body: @escaping @Sendable (Card) async throws -> T) async throws -> T {
        let context = try PCSCContext()
        let name = try await ReaderChoice.resolve(reader, context: context)
        // A card just put in may take pcscd a moment to notice.
        _ = try await PCSCReaderSlot(context: context, name: name).waitForCard(timeout: .seconds(10))
        let connection = try await context.connect(to: name)
        let myNumber = self.myNumber
        do {
            let value = try await connection.withTransaction { connection in
                if myNumber {
                    return try await body(.myNumber(try await MyNumberCard.connect(transport: connection)))
                }
                let card = try await ICCard.connect(transport: connection, profile: .procurementIdentitySimulator)
                return try await body(.icCard(card))
            }
            await connection.disconnect()
            return value
        } catch {
            await connection.disconnect()
            throw error
        }
    }
}

/// Who acts: `--as USER`, a user of the business (the rights decide what it may do).
struct ActorOption: ParsableArguments {
    @Option(name: .customLong("as"), help: "The user who makes the change (U-…); the rights matrix decides.")
    var user: String

    var userID: UserID { UserID(rawValue: user) }
    var actor: RegistrationActor { .user(userID, binding: nil) }

    func registration(in store: any RegistrationStore) async throws -> BusinessRegistration {
        guard let registration = try await store.registration(ofUser: userID) else {
            throw RegistrationError.userNotFound(userID)
        }
        return registration
    }

    /// Prepares the change `make` builds from the acting user's registration, shows its confirmation screen, asks
    /// (unless `yes`), and commits it.
    func commit(
        storage: StoreOptions, yes: Bool, _ make: (BusinessRegistration) async throws -> RegistrationChange
    ) async throws {
        let service = try await storage.service()
        let registration = try await self.registration(in: service.store)
        let prepared = try await service.prepare(try await make(registration), to: registration.id, by: actor)
        _ = try await Screens.confirmAndCommit(prepared, service: service, yes: yes)
    }
}

/// The certificate checks of the commands that read a certificate: the trusted roots and the CRLs.
struct TrustOptions: ParsableArguments {
    @Option(help: "Trusted root certificates (PEM): the private CAs, JPKI. Repeat for several files.")
    var trust: [String] = []
    @Option(help: "Certificate revocation lists (DER or PEM) to check. Repeat for several.") var crl: [String] = []

    func validate() throws {
        guard !trust.isEmpty else {
            throw ValidationError("Give --trust: the root certificates (PEM) the certificates must chain to.")
        }
    }

    /// A validator with the roots and the lists; a certificate with no list of its issuer is not refused for it.
    func validator() throws -> CertificateValidator {
        var anchors: [Certificate] = []
        for path in trust {
            anchors += try PEMText.certificates(in: String(contentsOfFile: path, encoding: .utf8), source: path)
        }
        let crls = try crl.map {
            try CertificateRevocationList(bytes: [UInt8](Data(contentsOf: URL(fileURLWithPath: $0))))
        }
        return CertificateValidator(trustAnchors: anchors, crls: crls, revocation: .whenAvailable)
    }
}

/// Whether a PIN may be sent when only one try is left. Without it the flows stop there (the PIN is not sent),
/// so that a typo cannot block the card; with it a wrong PIN blocks the card (閉塞).
struct LastTryOption: ParsableArguments {
    @Flag(help: "Send the PIN even when only one try is left (a wrong PIN then blocks it (閉塞)).")
    var allowLastTry = false
}

/// Asks before a commit.
struct ConfirmOption: ParsableArguments {
    @Flag(name: .long, help: "Commit without asking (for scripts).") var yes = false
}
