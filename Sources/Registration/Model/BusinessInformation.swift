/// 事業者基本情報: the business basic information (商号又は名称, 所在地, 代表者, 法人番号).
public struct BusinessInformation: Sendable, Hashable, Codable {
    /// 商号又は名称: the registered company name, as certificates must carry it.
    public var name: String
    /// 郵便番号 of the head office.
    public var postalCode: PostalCode
    /// 所在地: the head office address.
    public var address: String
    /// 代表者役職名: the representative's title (e.g. 代表取締役).
    public var representativeTitle: String
    /// 代表者氏名: the representative's name.
    public var representativeName: String
    /// 法人番号, when the business has one (a sole proprietor has none).
    public var corporateNumber: CorporateNumber?
    /// 電話番号 of the business.
    public var phone: PhoneNumber

    /// Checks and keeps the business basic information.
    /// - Throws: ``RegistrationError/invalidField(field:reason:)`` for the first field that is not valid, or an
    ///   error of ``CorporateNumber``.
    public init(
        name: String, postalCode: String, address: String, representativeTitle: String, representativeName: String,
        corporateNumber: String?, phone: String
    ) throws(RegistrationError) {
        self.name = try Field.text(name, field: "商号又は名称", maximum: 100)
        self.postalCode = try PostalCode(postalCode)
        self.address = try Field.text(address, field: "所在地", maximum: 150)
        self.representativeTitle = try Field.text(representativeTitle, field: "代表者役職名", maximum: 50)
        self.representativeName = try Field.text(representativeName, field: "代表者氏名", maximum: 50)
        if let corporateNumber, !corporateNumber.trimmingSpaces.isEmpty {
            self.corporateNumber = try CorporateNumber(corporateNumber)
        } else {
            self.corporateNumber = nil
        }
        self.phone = try PhoneNumber(phone)
    }

    /// The fields as the confirmation screen lists them: the manual's label and the value.
    public var labeledFields: [(label: String, value: String)] {
        [
            ("商号又は名称", name), ("郵便番号", postalCode.text), ("所在地", address), ("代表者役職名", representativeTitle),
            ("代表者氏名", representativeName), ("法人番号", corporateNumber?.digits ?? ""), ("電話番号", phone.text),
        ]
    }
}
