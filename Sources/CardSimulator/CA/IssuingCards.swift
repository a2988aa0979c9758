import SwiftASN1
import X509

extension JPKICard {
    /// Makes a new JPKI card: fresh RSA-2048 keys, a signing and an authentication certificate from the test
    /// authority, and the authority's two JPKI roots as the CA certificates in EFs `0002` and `000B`.
    ///
    /// - Parameters:
    ///   - authority: The test certification authority.
    ///   - holder: The card's holder.
    ///   - signingPIN: 6–16 upper-case letters and digits.
    ///   - authenticationPIN: 4 digits.
    ///   - textInputSupportPIN: 4 digits; the authentication PIN when `nil`.
    ///   - validity: Both certificates' validity (five years by default).
    ///   - behavior: Where real cards differ.
    public static func issue(
        by authority: TestCertificateAuthority, holder: JPKIHolder, signingPIN: String, authenticationPIN: String,
        textInputSupportPIN: String? = nil, validity: CertificateValidity = .valid(days: 5 * 365),
        behavior: CardBehavior = CardBehavior()
    ) throws(CardSimulatorError) -> JPKICard {
        let pins = try pinRecords(
            signingPIN: signingPIN, authenticationPIN: authenticationPIN, textInputSupportPIN: textInputSupportPIN)
        let signingKey = try CardRSAKey.generate()
        let authenticationKey = try CardRSAKey.generate()
        let signing = try authority.issueJPKISigningCertificate(
            for: holder, publicKey: signingKey, validity: validity)
        let authentication = try authority.issueJPKIAuthenticationCertificate(
            publicKey: authenticationKey, validity: validity)
        let snapshot = Snapshot(
            holder: holder,
            authenticationCertificate: try der(authentication),
            authenticationCACertificate: try der(authority.rootCertificate(.jpkiAuthentication)),
            signingCertificate: try der(signing),
            signingCACertificate: try der(authority.rootCertificate(.jpkiSigning)),
            authenticationKeyPEM: authenticationKey.pemRepresentation, signingKeyPEM: signingKey.pemRepresentation,
            pins: pins, atr: defaultATR, tokenLabel: tokenLabel)
        return try JPKICard(snapshot: snapshot, behavior: behavior)
    }
}

extension PrivateCAICCard {
    /// Makes a new private-CA IC card: a fresh RSA-2048 key, a certificate from the test authority's e-bidding CA
    /// and that CA's root.
    ///
    /// - Parameters:
    ///   - authority: The test certification authority.
    ///   - holder: Company, holder and address for the certificate's subject.
    ///   - pin: The card's PIN.
    ///   - maximumTries: Wrong tries before the PIN blocks (閉塞); 10 as AOSign.
    ///   - validity: The certificate's validity (a year and 30 days by default, as AOSign's shortest).
    ///   - behavior: Where real cards differ.
    public static func issue(
        by authority: TestCertificateAuthority, holder: EBiddingHolder, pin: String, maximumTries: Int = 10,
        validity: CertificateValidity = .valid(days: 395), behavior: CardBehavior = PrivateCAICCard.defaultBehavior
    ) throws(CardSimulatorError) -> PrivateCAICCard {
        let record = try pinRecord(pin, maximumTries: maximumTries)
        let key = try CardRSAKey.generate()
        let certificate = try authority.issueEBiddingCertificate(for: holder, publicKey: key, validity: validity)
        let snapshot = Snapshot(
            holderCertificate: try der(certificate), caCertificate: try der(authority.rootCertificate(.eBidding)),
            signingKeyPEM: key.pemRepresentation, pin: record, atr: defaultATR)
        return try PrivateCAICCard(snapshot: snapshot, behavior: behavior)
    }
}

/// A certificate's DER bytes.
func der(_ certificate: Certificate) throws(CardSimulatorError) -> [UInt8] {
    do {
        var serializer = DER.Serializer()
        try serializer.serialize(certificate)
        return serializer.serializedBytes
    } catch {
        throw .certificateFailed("the certificate could not be written as DER: \(error)")
    }
}
