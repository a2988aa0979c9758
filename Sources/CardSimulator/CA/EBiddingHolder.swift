/// The holder of a private-CA IC card for e-bidding, as its certificate's subject carries them (in Japanese,
/// UTF8String): company name, holder's name and address.
public struct EBiddingHolder: Sendable, Hashable, Codable {
    /// The company name (商号), subject `O`.
    public var companyName: String
    /// The holder's name in kanji, subject `CN`.
    public var name: String
    /// The prefecture, subject `ST`.
    public var prefecture: String
    /// The city, subject `L`.
    public var city: String
    /// The street address, subject `street`.
    public var street: String

    /// Makes a holder.
    public init(companyName: String, name: String, prefecture: String, city: String, street: String) {
        self.companyName = companyName
        self.name = name
        self.prefecture = prefecture
        self.city = city
        self.street = street
    }

    /// A fictitious holder for tests and demonstrations.
    public static let example = EBiddingHolder(
        companyName: "株式会社試験建設", name: "入札\u{3000}太郎", prefecture: "岐阜県", city: "岐阜市",
        street: "司町４０番地１")
}
