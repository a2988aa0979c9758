public import CardCredentials

/// The applications of a My Number card this module talks to, by their DF names (AIDs).
public enum MyNumberCardApplication: Sendable, Hashable, CaseIterable, CustomStringConvertible {
    /// The JPKI application (公的個人認証 AP): certificates, the two PINs and the two private keys.
    case jpki
    /// The text-input-support application (券面事項入力補助 AP): the individual number and the four basic facts.
    case textInputSupport

    /// The DF name to SELECT (`00 A4 04 0C Lc AID`).
    public var aid: [UInt8] {
        switch self {
        case .jpki: [0xD3, 0x92, 0xF0, 0x00, 0x26, 0x01, 0x00, 0x00, 0x00, 0x01]
        case .textInputSupport: [0xD3, 0x92, 0x10, 0x00, 0x31, 0x00, 0x01, 0x01, 0x04, 0x08]
        }
    }

    /// The application's name in English with its Japanese name.
    public var description: String {
        switch self {
        case .jpki: "the JPKI application (公的個人認証 AP)"
        case .textInputSupport: "the text-input-support application (券面事項入力補助 AP)"
        }
    }
}

/// The three PINs of a My Number card.
public enum JPKIPIN: Sendable, Hashable, CaseIterable, CustomStringConvertible {
    /// The user-authentication PIN (利用者証明用電子証明書のパスワード): 4 digits, 3 tries; EF `0018`.
    case authentication
    /// The signing PIN (署名用電子証明書のパスワード): 6–16 upper-case letters and digits, 5 tries; EF `001B`.
    case signing
    /// The text-input-support PIN (券面事項入力補助用暗証番号): 4 digits, 3 tries; EF `0011` of its own application.
    case textInputSupport

    /// The application that holds the PIN.
    public var application: MyNumberCardApplication {
        self == .textInputSupport ? .textInputSupport : .jpki
    }

    /// The PIN's EF, selected before the tries-left query and VERIFY (P2 = `80`).
    public var fileID: UInt16 {
        switch self {
        case .authentication: 0x0018
        case .signing: 0x001B
        case .textInputSupport: 0x0011
        }
    }

    /// The PIN's form, checked before anything is sent to the card.
    public var policy: PINPolicy {
        switch self {
        case .authentication: .jpkiAuthentication
        case .signing: .jpkiSigning
        case .textInputSupport: .textInputSupport
        }
    }

    /// The name a holder knows the PIN by, in English with the Japanese term.
    public var description: String {
        switch self {
        case .authentication: "the user-authentication PIN (利用者証明用電子証明書のパスワード)"
        case .signing: "the signing PIN (署名用電子証明書のパスワード)"
        case .textInputSupport: "the text-input-support PIN (券面事項入力補助用暗証番号)"
        }
    }
}

/// The two private keys of the JPKI application (RSA-2048; the card applies PKCS#1 v1.5 padding).
public enum JPKIKey: Sendable, Hashable, CaseIterable, CustomStringConvertible {
    /// The user-authentication key (EF `0017`), used after the user-authentication PIN.
    case authentication
    /// The signing key (EF `001A`, non-repudiation), used after the signing PIN.
    case signing

    /// The key's EF, selected before COMPUTE DIGITAL SIGNATURE.
    public var fileID: UInt16 { self == .signing ? 0x001A : 0x0017 }

    /// The PIN that unlocks the key.
    public var pin: JPKIPIN { self == .signing ? .signing : .authentication }

    /// The certificate of the key.
    public var certificate: JPKICertificateKind { self == .signing ? .signing : .authentication }

    /// The certificate of the key's issuing CA.
    public var caCertificate: JPKICertificateKind { self == .signing ? .signingCA : .authenticationCA }

    /// `"the signing key"` or `"the user-authentication key"`.
    public var description: String {
        self == .signing ? "the signing key" : "the user-authentication key"
    }
}

/// The four certificates of the JPKI application.
public enum JPKICertificateKind: String, Sendable, Hashable, CaseIterable, CustomStringConvertible {
    /// The user-authentication certificate (利用者証明用電子証明書), EF `000A`; readable by anyone.
    case authentication = "auth"
    /// Its CA certificate, EF `000B`; readable by anyone.
    case authenticationCA = "auth-ca"
    /// The signing certificate (署名用電子証明書), EF `0001`; readable only after the signing PIN.
    case signing = "sign"
    /// Its CA certificate, EF `0002`; readable by anyone.
    case signingCA = "sign-ca"

    /// The certificate's EF.
    public var fileID: UInt16 {
        switch self {
        case .authentication: 0x000A
        case .authenticationCA: 0x000B
        case .signing: 0x0001
        case .signingCA: 0x0002
        }
    }

    /// The PIN the card wants verified before the certificate can be read, if any (only the signing certificate).
    public var requiredPIN: JPKIPIN? { self == .signing ? .signing : nil }

    /// The certificate's name in English with the Japanese term.
    public var description: String {
        switch self {
        case .authentication: "the user-authentication certificate (利用者証明用電子証明書)"
        case .authenticationCA: "the user-authentication CA certificate"
        case .signing: "the signing certificate (署名用電子証明書)"
        case .signingCA: "the signing CA certificate"
        }
    }
}
