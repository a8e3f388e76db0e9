/// A news article as kidx indexes and stores it.
public struct Document: Sendable, Hashable, Codable {
    /// The external id: the `id` field of a JSON line, or a text file's path in the corpus
    /// folder without its extension (`politik/eu-sanktionspaket`).
    public var id: String
    /// The headline (indexed as the `title` field, boosted in ranking).
    public var title: String
    /// The article text (indexed as the `body` field).
    public var body: String
    /// The publication date as given, ideally ISO 8601 (`2020-10-03` or `2020-10-03T12:33:53+02:00`).
    public var date: String?
    /// Where the article was published.
    public var url: String?
    /// The outlet (`zeit.de`).
    public var source: String?

    /// Creates a document.
    public init(id: String, title: String = "", body: String, date: String? = nil, url: String? = nil, source: String? = nil) {
        self.id = id
        self.title = title
        self.body = body
        self.date = date
        self.url = url
        self.source = source
    }
}
