/// One line of a flow's screen or printable record: the manual's label and the value shown beside it.
///
/// Every flow's confirmation screen is a list of these, in the manual's order, so a front end lays out any of
/// them the same way.
public struct ScreenRow: Sendable, Hashable, Codable {
    /// The label, e.g. `ICカード取得者氏名` or `証明書シリアル番号`.
    public var label: String
    /// The value (empty when the certificate or record lacks it).
    public var value: String

    /// A row.
    public init(label: String, value: String) {
        self.label = label
        self.value = value
    }
}
