/// A query analyzed for one index: the syntax tree of `QuerySyntax` with every word turned into
/// index terms, ready for `Searcher`.
///
/// Build one from a query string (`Query(parsing:)`, the full syntax), from plain text whose
/// every word counts (`Query(words:)`, for headlines and other text that is not written as a
/// query), or from a `QueryExpression` assembled in code.
public struct Query: Sendable, Hashable {
    /// An index term of a clause and its position relative to the clause's first term.
    public struct Term: Sendable, Hashable {
        /// The analyzed term.
        public var term: String
        /// Words between it and the clause's first term (stop words count).
        public var offset: Int
    }

    /// Words a clause stands for that are looked up in the term dictionary at search time.
    public enum Expansion: Sendable, Hashable {
        /// Every indexed word form starting with the folded text (`sanktion*`).
        case prefix(String)
        /// Every indexed word form within `maxEdits` edits of the folded text (`pjongjang~1`).
        case fuzzy(String, maxEdits: Int)
    }

    /// One word, phrase, prefix or fuzzy word of a query.
    public struct Clause: Sendable, Hashable {
        /// The clause's index terms (empty for a prefix or fuzzy word until it is expanded).
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
        /// For a phrase, how many word moves it tolerates (`"Trump Kim"~5`).
        public var slop = 0
        /// For a prefix or fuzzy word, what it expands to.
        public var expansion: Expansion?
        /// The fields searched: both unless the query names one (`title:Gipfel`).
        public var fields: [Field] = Field.allCases
        /// For a prefix or fuzzy word, the indexed word forms it stands for, found in the term
        /// dictionary when the query runs.
        public var alternatives: [Alternative] = []
    }

    /// An indexed word form that a prefix or fuzzy word expanded to.
    public struct Alternative: Sendable, Hashable {
        /// The word form (folded, as indexed).
        public var word: String
        /// Its index term (stemmed), for highlighting.
        public var term: String
        /// Its edit distance from a fuzzy word (0 for a prefix expansion).
        public var edits: Int
        /// Its weight relative to a plain word: lower for more edits.
        public var boost: Float
    }

    /// A node of the query tree.
    public indirect enum Node: Sendable, Hashable {
        /// A word, phrase, prefix or fuzzy word, scored with BM25.
        case clause(Clause)
        /// Documents from an outlet (`source:zeit.de`), or from outlets starting with the text
        /// when `isPrefix`; a filter that adds nothing to scores.
        case source(String, isPrefix: Bool)
        /// Documents published within the range (`date:2020-03`); a filter.
        case dates(DateRange)
        /// Members combined by their `Occur`.
        case group([Member])
    }

    /// A node and how it takes part in its group.
    public struct Member: Sendable, Hashable {
        /// How the node takes part.
        public var occur: Occur
        /// The node.
        public var node: Node

        /// True for a `source:` or `date:` filter.
        var isFilter: Bool {
            switch node {
            case .source, .dates: true
            case .clause, .group: false
            }
        }
    }

    /// The query tree; its top is always a group.
    public var root: Node

    /// Every clause of the query, in query order (those under `NOT` too).
    public var clauses: [Clause] { Self.clauses(of: root) }

    /// Every index term of the query, compound parts included, for highlighting.
    public var allTerms: Set<String> { Set(clauses.flatMap { $0.terms.map(\.term) + $0.compoundParts + $0.alternatives.map(\.term) }) }

    /// Parses `text` in the full query syntax (see `QuerySyntax`). `compoundParts` gives the part
    /// terms of a word that is a compound (none when it is not). Throws `KidxError.badQuery`
    /// for text that does not parse and for a query with no searchable word.
    public init(parsing text: String, analyzer: GermanAnalyzer, compoundParts: (String) -> [String] = { _ in [] }) throws {
        try self.init(QuerySyntax.parse(text), analyzer: analyzer, compoundParts: compoundParts, text: text)
    }

    /// Reads `text` as plain words, each a clause combined by the default operator, with no
    /// operators, fields or phrases: for text not written in the query syntax (headlines).
    public init(words text: String, analyzer: GermanAnalyzer, compoundParts: (String) -> [String] = { _ in [] }) throws {
        // Split by scalars, ASCII ones compared directly: splitting by characters (grapheme
        // clusters) took a tenth of a one-word query's instructions, and Unicode properties
        // cost a few hundred per letter.
        let words = text.unicodeScalars.split { $0.isASCII ? $0 == " " || (0x09...0x0D).contains($0.value) : $0.properties.isWhitespace }.map {
            QueryClause(occur: .defaultOperator, expression: .word(String($0), field: nil))
        }
        try self.init(.group(words), analyzer: analyzer, compoundParts: compoundParts, text: text)
    }

    /// Analyzes a syntax tree, parsed or built in code.
    public init(_ expression: QueryExpression, analyzer: GermanAnalyzer, compoundParts: (String) -> [String] = { _ in [] }) throws {
        try self.init(expression, analyzer: analyzer, compoundParts: compoundParts, text: nil)
    }

    private init(_ expression: QueryExpression, analyzer: GermanAnalyzer, compoundParts: (String) -> [String], text: String?) throws {
        let members = try withoutActuallyEscaping(compoundParts) { compoundParts in
            try Builder(analyzer: analyzer, compoundParts: compoundParts).nodes(expression).map { Member(occur: .defaultOperator, node: $0) }
        }
        let root: Node = members.count == 1 && { if case .group = members[0].node { return true } else { return false } }()
            ? members[0].node : .group(members)
        guard case .group(let top) = root, !top.isEmpty else {
            throw KidxError.badQuery("the query has no words to search for (\"\(text ?? "")\")")
        }
        // Function words alone would match nearly every document and decide nothing: say so.
        if Self.clauses(of: root).allSatisfy({ !$0.isPhrase && $0.expansion == nil && analyzer.isStopWord($0.text) }),
           !top.contains(where: \.isFilter) {
            throw KidxError.badQuery("the query has only stop words (\"\(text ?? "")\"); add a word that says what you look for")
        }
        try Self.checkNegations(root)
        self.root = root
    }

    private static func clauses(of node: Node) -> [Clause] {
        switch node {
        case .clause(let clause): return [clause]
        case .source, .dates: return []
        case .group(let members): return members.flatMap { clauses(of: $0.node) }
        }
    }

    /// A group of negations alone matches nothing, which is never what was meant: say so.
    private static func checkNegations(_ node: Node) throws {
        guard case .group(let members) = node else { return }
        if members.allSatisfy({ $0.occur == .mustNot }) {
            throw KidxError.badQuery("a query or group with only excluded terms matches nothing; add a term to look for (Krieg -Russland)")
        }
        for member in members { try checkNegations(member.node) }
    }

    /// Turns syntax into analyzed nodes: one word may become several clauses (`U.S.-Präsident`)
    /// or none (a stop word).
    private struct Builder {
        let analyzer: GermanAnalyzer
        let compoundParts: (String) -> [String]

        func nodes(_ expression: QueryExpression) throws -> [Node] {
            switch expression {
            case .word(let text, let field) where field == "source", .phrase(let text, _, let field) where field == "source",
                 .fuzzy(let text, _, let field) where field == "source":
                return [.source(Field.normalizedSource(text), isPrefix: false)]
            case .prefix(let text, let field) where field == "source":
                return [.source(Field.normalizedSource(text), isPrefix: true)]
            case .word(let text, let field):
                return words(text, fields: Self.fields(field))
            case .phrase(let text, let slop, let field):
                let terms = analyzer.queryTokens(of: text)
                guard let first = terms.first else { return [] }
                if terms.count == 1 { return words(text, fields: Self.fields(field)) }
                return [.clause(Clause(terms: terms.map { Term(term: $0.term, offset: $0.position - first.position) }, isPhrase: true,
                                       text: text, slop: slop, fields: Self.fields(field)))]
            case .prefix(let text, let field):
                guard let folded = analyzer.fold(text) else { return [] }
                return [.clause(Clause(terms: [], isPhrase: false, text: text + "*", expansion: .prefix(folded), fields: Self.fields(field)))]
            case .fuzzy(let text, let maxEdits, let field):
                guard maxEdits > 0 else { return words(text, fields: Self.fields(field)) }
                guard let folded = analyzer.fold(text) else { return [] }
                return [.clause(Clause(terms: [], isPhrase: false, text: "\(text)~\(maxEdits)",
                                       expansion: .fuzzy(folded, maxEdits: maxEdits), fields: Self.fields(field)))]
            case .dateRange(let range):
                return [.dates(range)]
            case .group(let clauses):
                var members: [Member] = []
                for clause in clauses {
                    // A function word (`über`, `die`) without an operator adds to the score but is
                    // never required: documents with every other word need not have it.
                    var occur = clause.occur
                    if occur == .defaultOperator, case .word(let text, _) = clause.expression, analyzer.isStopWord(text) { occur = .should }
                    members += try nodes(clause.expression).map { Member(occur: occur, node: $0) }
                }
                return members.isEmpty ? [] : [.group(members)]
            }
        }

        /// The fields a word searches: the one the query names (the parser hands a field
        /// written before a group down to its words), or both.
        private static func fields(_ name: String?) -> [Field] {
            switch name {
            case "title": [.title]
            case "body": [.body]
            default: Field.allCases
            }
        }

        /// The clauses of one written word.
        private func words(_ word: String, fields: [Field]) -> [Node] {
            let tokens = analyzer.tokens(of: word)
            if let joined = tokens.first(where: { $0.kind == .hyphenJoined }), tokens.allSatisfy({ joined.byteRange.contains($0.byteRange.lowerBound) }) {
                // A hyphenated word is a compound whose parts are spelled out: `Corona-Krise`
                // matches `Coronakrise`, and `Corona` near `Krise`.
                let parts = tokens.filter { $0.kind != .hyphenJoined }.map(\.term)
                return [.clause(Clause(terms: [Term(term: joined.term, offset: 0)], isPhrase: false, text: word,
                                       compoundParts: parts, exactWord: joined.word, isHyphenated: true, fields: fields))]
            }
            return tokens.filter { $0.kind != .hyphenPart }.map { token in
                .clause(Clause(terms: [Term(term: token.term, offset: 0)], isPhrase: false, text: word,
                               compoundParts: tokens.count == 1 ? compoundParts(word) : [], exactWord: token.word, fields: fields))
            }
        }
    }
}
