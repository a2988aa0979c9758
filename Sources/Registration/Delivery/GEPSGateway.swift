/// Something that hands a change over (連携) to GEPS (政府電子調達システム): ``HTTPJSONGEPSGateway``, or a fake in
/// tests.
///
/// A gateway must be idempotent by ``GEPSHandOver/idempotencyKey``: the ``OutboxDispatcher`` delivers at least
/// once, so the same hand-over may arrive twice (for example when GEPS took it but its answer was lost), and
/// GEPS must keep it once.
public protocol GEPSGateway: Sendable {
    /// Hands `handOver` to GEPS and returns its receipt.
    ///
    /// - Throws: ``RegistrationError/gepsRejected(status:message:)`` when GEPS refused it (retryable for 5xx, 408
    ///   and 429), ``RegistrationError/gepsUnavailable(_:)`` when GEPS could not be reached.
    func handOver(_ handOver: GEPSHandOver) async throws(RegistrationError) -> GEPSReceipt
}

/// One hand-over to GEPS: the JSON document of a change and the key that makes its delivery idempotent.
public struct GEPSHandOver: Sendable, Hashable {
    /// The outbox message's key (`<change>/gepsHandOver`): the same on every retry.
    public var idempotencyKey: String
    /// The JSON document, as the outbox keeps it.
    public var document: [UInt8]

    /// A hand-over of `document` under `idempotencyKey`.
    public init(idempotencyKey: String, document: [UInt8]) {
        self.idempotencyKey = idempotencyKey
        self.document = document
    }
}

/// What GEPS answered when it took a hand-over.
public struct GEPSReceipt: Sendable, Hashable {
    /// GEPS's reference for the hand-over (recorded as the outbox message's receipt).
    public var reference: String
    /// Whether GEPS had taken this idempotency key before (an earlier delivery whose answer was lost).
    public var wasDuplicate: Bool

    /// A receipt.
    public init(reference: String, wasDuplicate: Bool) {
        self.reference = reference
        self.wasDuplicate = wasDuplicate
    }
}
