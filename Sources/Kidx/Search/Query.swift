/// A parsed query: words and quoted phrases, each analyzed with the index's analyzer.
///
/// The query language grows in its own issue; today it is words (`Sanktionen Nordkorea`) and
/// phrases in double quotes (`"Kim Jong Un"`), combined by `SearchOptions.mode`.
public struct Query: Sendable, Hashable {
    /// An index term of a clause and its position relative to the clause's first term.
    public struct Term: Sendable, Hashable {
        /// The analyzed term.
        public var term: String
        /// Words between it and the clause's first term (stop words count).
        public var offset: Int
    }

    /// One word or phrase of a query.
    public struct Clause: Sendable, Hashable {
        /// The clause's index terms.
        public var terms: [Term]
        /// True for a quoted phrase, whose terms must stand at exactly those distances.
        public var isPhrase: Bool
        /// The text the user wrote for this clause.
        public var text: String
        /// For a compound word, the index terms of its modifier and head (`impfstoff`, `mangel`):
        /// documents that have them near each other match too.
        public var compoundParts: [String] = []
        /// The word as the query writes it, folded but not stemmed: documents with this very
        /// form score extra (nil for phrases).
        public var exactWord: String?
        /// True when the parts were written with hyphens (`Corona-Krise`), false when the
        /// decompounder found them.
        public var isHyphenated = false
    }

    /// The clauses, in query order; clauses that analyze to nothing (stop words) are dropped.
    public var clauses: [Clause]

    /// Every index term of the query, compound parts included, for highlighting.
    public var allTerms: Set<String> { Set(clauses.flatMap { $0.terms.map(\.term) + $0.compoundParts }) }

    /// Parses `text`: double-quoted spans become phrases, everything else words.
    /// `compoundParts` gives the part terms of a word that is a compound (none when it is not).
    /// Throws `KidxError.badQuery` for an unbalanced quote or a query with no searchable word.
    public init(parsing text: String, analyzer: GermanAnalyzer, compoundParts: (String) -> [String] = { _ in [] }) throws {
        var clauses: [Clause] = []
        let parts = text.split(separator: "\"", omittingEmptySubsequences: false)
        guard parts.count % 2 == 1 else {
            throw KidxError.badQuery("unbalanced quote at character \(text.distance(from: text.startIndex, to: text.lastIndex(of: "\"")!) + 1)")
        }
        for (index, part) in parts.enumerated() {
            if index % 2 == 1 {
                let terms = analyzer.queryTokens(of: String(part))
                guard let first = terms.first else { continue }
                let phrase = terms.map { Term(term: $0.term, offset: $0.position - first.position) }
                clauses.append(Clause(terms: phrase, isPhrase: phrase.count > 1, text: String(part)))
            } else {
                for word in part.split(whereSeparator: { $0.isWhitespace }) {
                    let tokens = analyzer.tokens(of: String(word))
                    if let joined = tokens.first(where: { $0.kind == .hyphenJoined }), tokens.allSatisfy({ joined.byteRange.contains($0.byteRange.lowerBound) }) {
                        // A hyphenated word is a compound whose parts are spelled out: `Corona-Krise`
                        // matches `Coronakrise`, and `Corona` near `Krise`.
                        let parts = tokens.filter { $0.kind != .hyphenJoined }.map(\.term)
                        clauses.append(Clause(terms: [Term(term: joined.term, offset: 0)], isPhrase: false, text: String(word),
                                              compoundParts: parts, exactWord: joined.word, isHyphenated: true))
                        continue
                    }
                    for token in tokens where token.kind != .hyphenPart {
                        let parts = tokens.count == 1 ? compoundParts(String(word)) : []
                        clauses.append(Clause(terms: [Term(term: token.term, offset: 0)], isPhrase: false, text: String(word),
                                              compoundParts: parts, exactWord: token.word))
                    }
                }
            }
        }
        // A query of function words only would match nearly every document: say so instead.
        let words = text.split(whereSeparator: { $0.isWhitespace || $0 == "\"" })
        if !words.isEmpty, words.allSatisfy({ analyzer.isStopWord(String($0)) || analyzer.tokens(of: String($0)).isEmpty }) {
            clauses.removeAll()
        }
        guard !clauses.isEmpty else {
            throw KidxError.badQuery(text.allSatisfy(\.isWhitespace)
                ? "the query is empty"
                : "the query has only stop words or no words at all (\"\(text)\")")
        }
        self.clauses = clauses
    }
}
