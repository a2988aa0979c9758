public import ISO7816

/// What went wrong in the CardCredentials module: PIN checks and verification, certificate reading, private-CA
/// IC cards (``ICCard``), revocation lists, and (added by the file-credential and signing parts) PKCS#12,
/// signers and CMS.
///
/// Each case says what happened; ``description`` says what a person should do next. No case ever carries a
/// PIN or a password: a PIN's form problem names the rule it broke, never the characters typed.
public enum CardCredentialsError: Error, Sendable, Hashable, CustomStringConvertible {
    // MARK: PINs

    /// The PIN does not have the form its policy asks for; nothing was sent to the card.
    case pinFormat(PINFormatProblem)
    /// The card refused the PIN; `triesLeft` more wrong tries are allowed before the PIN is blocked.
    case wrongPIN(triesLeft: Int)
    /// The PIN is blocked (閉塞): the card refuses every further try.
    case pinBlocked
    /// Only one try was left, and the caller did not allow spending it; nothing was sent to the card.
    case lastTryRefused
    /// The card answered a command with a status word the operation cannot accept (for a PIN command: one with
    /// no PIN meaning).
    case unexpectedCardStatus(StatusWord, operation: String)
    /// The card wants its PIN verified before this operation (`69 82`), and no PIN was given to verify it.
    case pinNotVerified

    // MARK: IC cards

    /// The card in the reader is not the card `profile` names: it has no such application (SELECT of the
    /// profile's AID failed), or the application is not that card's; `reason` says which.
    case notThisCard(profile: String, reason: String)
    /// The card left the reader during the operation.
    case cardRemoved
    /// Something reset the card during the operation; the selected application and the verified PIN are gone.
    case cardReset
    /// The card or the reader cannot be reached; `failure` says how.
    case cardUnavailable(CardTransportFailure)
    /// The card answered something the protocol does not allow (a damaged or truncated answer).
    case malformedCardAnswer(String)

    // MARK: Certificates and revocation lists

    /// The bytes are not a certificate (DER or PEM) this library can read.
    case malformedCertificate(String)
    /// The bytes are not a certificate revocation list (DER or PEM) this library can read.
    case malformedCRL(String)
    /// PEM text had no block of the expected kind, or its Base64 was damaged.
    case malformedPEM(String)

    // MARK: File-type credentials (PKCS#12) and private keys

    /// The PKCS#12 file's integrity check (MAC) failed with the password given: the password is wrong, or the
    /// file was altered after it was made.
    case wrongPassword
    /// The bytes are not a PKCS#12 file (.p12, .pfx) this library can read, or they are damaged or truncated.
    case malformedPKCS12(String)
    /// The private key could not be read (PEM or DER, PKCS#8, PKCS#1 or SEC 1).
    case malformedPrivateKey(String)
    /// The private key and the certificate do not belong together.
    case keyDoesNotMatchCertificate
    /// OpenSSL refused an operation; `reason` is OpenSSL's own error text (never a secret).
    case openSSLFailure(operation: String, reason: String)

    // MARK: Signing

    /// The key cannot sign with this algorithm (for example ECDSA asked of an RSA key).
    case unsupportedSignatureAlgorithm(String)
    /// The signature the card returned does not verify with the certificate's public key.
    case cardSignatureInvalid
    /// The card-backed key was asked to sign synchronously; a card can only sign asynchronously.
    case synchronousSigningUnsupported
    /// A private key held by this library was asked for its bytes; it never gives them out.
    case privateKeyNotExportable

    // MARK: CMS SignedData

    /// The bytes are not CMS SignedData (DER, BER or PEM) this library can read.
    case malformedCMS(String)
    /// A detached signature was checked without the content it signs.
    case cmsContentMissing
    /// The content does not match the message digest the signer signed: the content or the signature was
    /// changed.
    case cmsContentMismatch
    /// The signature over the signed attributes (or the content) does not verify with the signer's certificate.
    case cmsSignatureInvalid
    /// The SignedData does not carry the certificate of its signer, and none was given.
    case cmsSignerCertificateMissing
    /// The signer's certificate does not chain to any of the trust anchors given; `reason` says why.
    case cmsSignerNotTrusted(String)

    /// A sentence for people: what happened and what to do next.
    public var description: String {
        switch self {
        case .pinFormat(let problem):
            return "The PIN was not sent to the card: \(problem). Enter it again."
        case .wrongPIN(let triesLeft):
            let tries = triesLeft == 1 ? "1 try is" : "\(triesLeft) tries are"
            return
                "The card refused the PIN: \(tries) left before the PIN is blocked (閉塞). "
                + "Check the PIN (the one the issuer gave with the card) and enter it again."
        case .pinBlocked:
            return
                "The PIN is blocked (閉塞) after too many wrong tries; the card cannot be used with it. "
                + "Ask the card's issuer to unblock it or to issue a new card (for a My Number card, the "
                + "municipal office)."
        case .lastTryRefused:
            return
                "Only one try is left before the PIN is blocked (閉塞), so the PIN was not sent. Ask the person to "
                + "make sure of the PIN, then try again allowing the last try."
        case .unexpectedCardStatus(let statusWord, let operation):
            return
                "The card answered \(operation) with \(statusWord), which this operation does not expect. Check that "
                + "the right card and application are in use, then try again."
        case .pinNotVerified:
            return "The card needs its PIN first. Enter the PIN, then try again."
        case .notThisCard(let profile, let reason):
            return
                "The card in the reader is not \(profile) (\(reason)). Insert the IC card your certification "
                + "authority (認証局) issued, then try again."
        case .cardRemoved:
            return "The card was removed from the reader during the operation. Insert it again and retry."
        case .cardReset:
            return
                "Another program reset the card during the operation. Retry; the PIN must be entered again."
        case .cardUnavailable(let failure):
            return "The card cannot be reached (\(Self.phrase(failure))). Check the reader and the card, then retry."
        case .malformedCardAnswer(let reason):
            return
                "The card's answer is damaged (\(reason)). Check that the card sits well in the reader, then retry."
        case .malformedCertificate(let reason):
            return
                "The certificate could not be read (\(reason)). Check that the file or card holds an X.509 certificate."
        case .malformedCRL(let reason):
            return
                "The certificate revocation list could not be read (\(reason)). Download the CRL again from its "
                + "issuer."
        case .malformedPEM(let reason):
            return "The PEM text could not be read (\(reason)). Check that the whole block was copied."
        case .wrongPassword:
            return
                "The password does not open the certificate file (the file's integrity check failed). Enter the "
                + "password again; if it is right, the file was altered: get it again from its issuer."
        case .malformedPKCS12(let reason):
            return
                "The certificate file (PKCS#12, .p12/.pfx) could not be read (\(reason)). Check that the whole "
                + "file was copied, or get it again from its issuer."
        case .malformedPrivateKey(let reason):
            return
                "The private key could not be read (\(reason)). Check that the key file is complete and not encrypted."
        case .keyDoesNotMatchCertificate:
            return
                "The private key does not belong to the certificate. Pair the key with the certificate issued for it."
        case .openSSLFailure(let operation, let reason):
            return "OpenSSL could not \(operation) (\(reason)). Check the input and the installed OpenSSL 3."
        case .unsupportedSignatureAlgorithm(let reason):
            return "The signature algorithm is not supported: \(reason). Use one of the supported algorithms."
        case .cardSignatureInvalid:
            return
                "The card returned a signature that does not match its certificate. Check that the right card and "
                + "key (certificate) are in use, then try again."
        case .synchronousSigningUnsupported:
            return "A card signs asynchronously only. Use the async signing API (for example `asyncPrivateKey:`)."
        case .privateKeyNotExportable:
            return
                "The private key never leaves its credential. Export the credential as a password-protected "
                + "PKCS#12 file instead."
        case .malformedCMS(let reason):
            return "The signature (CMS SignedData) could not be read (\(reason)). Check that the whole file was copied."
        case .cmsContentMissing:
            return "The signature is detached: give the signed content (the original file) to check it."
        case .cmsContentMismatch:
            return
                "The content does not match what was signed: the file or the signature was changed. Get both "
                + "again from the sender."
        case .cmsSignatureInvalid:
            return
                "The signature does not verify with the signer's certificate: the signature was changed or made "
                + "with another key. Get the signed file again from the sender."
        case .cmsSignerCertificateMissing:
            return "The signature does not carry its signer's certificate. Give the signer's certificate to check it."
        case .cmsSignerNotTrusted(let reason):
            return
                "The signer's certificate is not trusted (\(reason)). Check the trust anchors (CA certificates) "
                + "given, and that the certificate is still valid."
        }
    }

    private static func phrase(_ failure: CardTransportFailure) -> String {
        switch failure {
        case .cardRemoved: "the card was removed"
        case .cardReset: "the card was reset"
        case .cardUnresponsive: "the card does not answer"
        case .readerUnavailable: "the reader is gone"
        case .serviceUnavailable: "the smart card service (pcscd) is not running"
        case .sharingViolation: "another program holds the card"
        case .other: "the link failed"
        }
    }
}
