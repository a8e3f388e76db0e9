import Foundation

/// How a search combines, orders and returns its results.
public struct SearchOptions: Sendable, Hashable {
    /// How words written side by side without an operator combine (`Sanktionen Nordkorea`).
    public enum Mode: String, Sendable, Hashable, CaseIterable {
        /// Documents with every word first, ranked by BM25; then documents missing some,
        /// ranked by BM25 (the default).
        case allFirst
        /// Only documents with every word (`--and`).
        case all
        /// Documents with any word, ranked by BM25: more words, higher scores (`--or`).
        case any
    }

    /// The order of hits.
    public enum Sort: String, Sendable, Hashable, CaseIterable {
        /// Best BM25 score first.
        case score
        /// Newest first, best score first within a day; undated documents last.
        case date
    }

    /// Hits to return.
    public var limit: Int
    /// Hits to skip (for paging).
    public var offset: Int
    /// How words without an operator combine.
    public var mode: Mode
    /// The order of hits.
    public var sort: Sort
    /// Whether to load stored fields and build snippets (off for pure ranking, e.g. benchmarks).
    public var loadDocuments: Bool
    /// Whether to count every matching document for `SearchResults.totalHits`. Off, the top k
    /// is found without visiting every match and `totalHits` is only the number of hits returned.
    public var countsAllHits: Bool
    /// Whether each hit carries the BM25 contributions that make its score.
    public var explains: Bool
    /// Only documents from this outlet (as `source:` in a query), when set.
    public var source: String?
    /// Only documents published within this range (as `date:` in a query), when set.
    public var dates: DateRange?

    /// Creates options: top 10, documents with every word first, by score, with documents and
    /// snippets, no filters.
    public init(limit: Int = 10, offset: Int = 0, mode: Mode = .allFirst, sort: Sort = .score,
                loadDocuments: Bool = true, countsAllHits: Bool = true, explains: Bool = false,
                source: String? = nil, dates: DateRange? = nil) {
        self.limit = limit
        self.offset = offset
        self.mode = mode
        self.sort = sort
        self.loadDocuments = loadDocuments
        self.countsAllHits = countsAllHits
        self.explains = explains
        self.source = source
        self.dates = dates
    }
}

/// One ranked result.
public struct SearchHit: Sendable {
    /// The document's number inside the index.
    public var doc: Int
    /// The BM25 score.
    public var score: Float
    /// The stored document (nil when `loadDocuments` is off).
    public var document: Document?
    /// Where query terms occur in the title, as UTF-8 byte ranges of `document.title`.
    public var titleHighlights: [Range<Int>]
    /// The best passages of the body with their matches marked.
    public var snippet: Snippet?
    /// What the score is made of (only with `SearchOptions.explains`).
    public var explanation: [Explanation]?
}

/// One BM25 contribution to a hit's score: a query clause matching one posting list of a field.
public struct Explanation: Sendable, Hashable {
    /// The clause as the query wrote it (`Impfstoffmangel`, `Sanktion*`).
    public var clause: String
    /// The field matched.
    public var field: Field
    /// The analyzed term or terms matched and how (`sanktion (stem)`, `impfstoff … mangel (near)`).
    public var match: String
    /// How often the term occurs in the field (for phrases and nearness: the weighted matches).
    public var frequency: Float
    /// The contribution to the score.
    public var score: Float
}

/// The result of a search.
public struct SearchResults: Sendable {
    /// The analyzed query, prefix and fuzzy words expanded.
    public var query: Query
    /// All documents that matched, before `limit` and `offset`.
    public var totalHits: Int
    /// The requested page of hits, in the requested order.
    public var hits: [SearchHit]
}

/// Ranks documents of one index with BM25 over title and body (title boosted).
///
/// ```swift
/// let searcher = Searcher(reader: try IndexReader(directory: "Index"))
/// let results = try searcher.search("Sanktionen source:zeit.de date:2020-03", options: SearchOptions(limit: 5))
/// ```
/// A searcher reuses scratch buffers between queries and owns an analyzer: use one per thread.
public final class Searcher {
    /// BM25 parameters and field weights.
    public struct Ranking: Sendable, Hashable {
        /// Term-frequency saturation.
        public var k1: Float = 1.2
        /// Length normalization.
        public var b: Float = 0.75
        /// Weight of a title match relative to a body match.
        public var titleBoost: Float = 2.0
        /// Weight of the very word form the query uses, on top of its stem (measured on
        /// known-item search: +1.6 points MRR@10).
        public var exactBoost: Float = 0.3
        /// Weight of a query word found as a part of a compound (`Trikot` in `Fußballtrikot`).
        public var partBoost: Float = 0.1
        /// Weight of a query compound's parts found near each other (`Mangel an Impfstoff`).
        public var nearBoost: Float = 0.2
        /// Weight of each part of a query compound found anywhere in a document.
        public var compoundPartBoost: Float = 0.4
        /// Weight of each part of a hyphenated query word (`Corona`, `Krise` of `Corona-Krise`).
        public var hyphenPartBoost: Float = 0.4
        /// How many words apart a compound's parts may stand to count as near.
        public var nearWindow = 4
        /// How many indexed words a prefix or fuzzy word expands to at most (the most frequent).
        public var maximumExpansions = 64
        /// The defaults: k1 = 1.2, b = 0.75, title counted twice.
        public init() {}
    }

    /// The index searched.
    public let reader: IndexReader
    /// The ranking parameters.
    public let ranking: Ranking
    /// The analyzer queries go through: the index's own stages.
    public let analyzer: GermanAnalyzer
    /// Splits query compounds with the index's own lexicon (nil when the index has none).
    let decompounder: GermanDecompounder?

    let accumulator: ScoreAccumulator
    var fieldScoring: [Field: FieldScoring] = [:]
    /// The BM25 length factors `fieldScoring` points into, owned here.
    private var normFactors: [UnsafeMutableBufferPointer<Float>] = []
    var positionBuffers: [[Int32]] = []
    /// Each document's day as its rank among the index's days (-1: undated), read from the day
    /// lists the first time a search sorts by date.
    private lazy var dayRanks: [Int32] = (try? readDayRanks()) ?? []

    /// Creates a searcher over `reader`.
    public init(reader: IndexReader, ranking: Ranking = Ranking()) {
        self.reader = reader
        self.ranking = ranking
        analyzer = reader.makeAnalyzer()
        decompounder = reader.analyzerOptions.decompounding ? reader.decompounder() : nil
        accumulator = ScoreAccumulator(documentCount: reader.documentCount)
        for field in Field.allCases {
            let average = Float(reader.info.averageLength(field))
            let factors = UnsafeMutableBufferPointer<Float>.allocate(capacity: FieldNorms.lengths.count)
            _ = factors.initialize(from: FieldNorms.lengths.map { ranking.k1 * (1 - ranking.b + ranking.b * Float($0) / average) })
            normFactors.append(factors)
            fieldScoring[field] = FieldScoring(saturation: ranking.k1 + 1, factors: UnsafeBufferPointer(factors), norms: reader.norms(field))
        }
    }

    deinit {
        for factors in normFactors { factors.deallocate() }
    }

    /// Parses `text` in the query syntax (`QuerySyntax`) for this index.
    public func parse(_ text: String) throws -> Query {
        try Query(parsing: text, analyzer: analyzer, compoundParts: compoundParts)
    }

    /// Parses and runs `text`, returning the requested page of hits with stored fields and snippets.
    public func search(_ text: String, options: SearchOptions = SearchOptions()) throws -> SearchResults {
        try search(parse(text), options: options)
    }

    /// The index terms of the modifier and head of `word` when it is a compound.
    public func compoundParts(_ word: String) -> [String] {
        guard let decompounder, let folded = analyzer.fold(word), let split = decompounder.split(folded) else { return [] }
        return split.top.map { String(decoding: analyzer.term(ofWord: Array($0.utf8)), as: UTF8.self) }
    }

    /// Runs an analyzed query.
    public func search(_ query: Query, options: SearchOptions = SearchOptions()) throws -> SearchResults {
        var query = try expanded(query)
        // Filters of the options restrict the query as `source:` and `date:` clauses would.
        let filters = [options.source.map { Query.Node.source(Field.normalizedSource($0), isPrefix: false) }, options.dates.map { Query.Node.dates($0) }]
            .compactMap { $0 }.map { Query.Member(occur: .must, node: $0) }
        if !filters.isEmpty { query.root = .group([Query.Member(occur: .must, node: query.root)] + filters) }
        let k = options.offset + options.limit
        let (top, total) = options.sort == .date
            ? try rankByDate(query, k: k, mode: options.mode)
            : try rank(query, k: k, mode: options.mode, counting: options.countsAllHits)
        var hits: [SearchHit] = []
        let highlighter = Highlighter(analyzer: analyzer, decompounder: decompounder, terms: query.allTerms)
        for entry in top.dropFirst(options.offset) {
            var hit = SearchHit(doc: Int(entry.doc), score: entry.score, document: nil, titleHighlights: [], snippet: nil)
            if options.loadDocuments {
                let document = try reader.document(Int(entry.doc))
                hit.document = document
                hit.titleHighlights = highlighter.matches(in: document.title)
                hit.snippet = highlighter.snippet(of: document.body)
            }
            if options.explains { hit.explanation = try explain(query, doc: entry.doc) }
            hits.append(hit)
        }
        return SearchResults(query: query, totalHits: total, hits: hits)
    }

    /// The best `k` documents of an expanded query (`expanded(_:)`), found document at a time with
    /// MaxScore and block-max pruning, and how many documents match (`counting`; otherwise the
    /// number found).
    func rank(_ query: Query, k: Int, mode: SearchOptions.Mode, counting: Bool = true) throws -> (top: [TopK.Entry], total: Int) {
        let top: [TopK.Entry]
        switch mode {
        case .any: top = try topDocuments(query.root, k: k, unwritten: .should)
        case .all: top = try topDocuments(query.root, k: k, unwritten: .must)
        case .allFirst:
            // Documents with every word, then, if they are fewer than k, the best of the rest.
            let strict = try topDocuments(query.root, k: k, unwritten: .must)
            if strict.count < k, Self.hasUnwrittenChoice(query.root) {
                let found = Set(strict.map(\.doc))
                top = try strict + topDocuments(query.root, k: k - strict.count, unwritten: .should) { !found.contains($0) }
            } else {
                top = strict
            }
        }
        guard counting else { return (top, top.count) }
        let total = try scorer(query.root, unwritten: mode == .all ? .must : .should).map { try TopDocuments.count($0) } ?? 0
        return (top, total)
    }

    /// Every match, newest first and by score within a day. Words without an operator must all
    /// match unless the mode is `.any`: a list in date order has no ranking to put them first.
    private func rankByDate(_ query: Query, k: Int, mode: SearchOptions.Mode) throws -> (top: [TopK.Entry], total: Int) {
        guard let scorer = try scorer(query.root, unwritten: mode == .any ? .should : .must) else { return ([], 0) }
        var matches: [TopK.Entry] = []
        var doc = try scorer.advance(to: 0)
        while doc != PostingsCursor.exhausted {
            matches.append(TopK.Entry(doc: doc, score: try scorer.score()))
            doc = try scorer.advance(to: doc + 1)
        }
        let days = dayRanks
        func day(_ doc: Int32) -> Int32 { Int(doc) < days.count ? days[Int(doc)] : -1 }
        let sorted = matches.sorted { a, b in
            let dayA = day(a.doc), dayB = day(b.doc)
            return dayA != dayB ? dayA > dayB : a.isBetter(than: b)
        }
        return (Array(sorted.prefix(k)), matches.count)
    }

    private func readDayRanks() throws -> [Int32] {
        var ranks = [Int32](repeating: -1, count: reader.documentCount)
        var rank: Int32 = 0
        try reader.terms.forEach(withPrefix: [Field.dateSpace]) { _, info in
            var cursor = try reader.cursor(info)
            while try cursor.next() {
                if Int(cursor.doc) < ranks.count { ranks[Int(cursor.doc)] = rank }
            }
            rank += 1
            return true
        }
        return ranks
    }

    /// The best `k` documents of the tree that `accept` lets through. A group of alternatives
    /// only is summed with MaxScore over all its scorers; anything else goes through its scorer.
    private func topDocuments(_ root: Query.Node, k: Int, unwritten: Occur, accept: (Int32) throws -> Bool = { _ in true }) throws -> [TopK.Entry] {
        if case .group(let members) = root, members.allSatisfy({ occur($0, unwritten: unwritten) == .should }) || Self.isSimpleWord(members) {
            var scorers: [DocumentScorer] = []
            for member in members {
                if case .clause(let clause) = member.node {
                    scorers += try allComponents(of: clause).map(\.scorer)
                } else if let scorer = try scorer(member.node, unwritten: unwritten) {
                    scorers.append(scorer)
                }
            }
            return try TopDocuments.sum(of: scorers, k: k, documentCount: reader.documentCount, accept: accept)
        }
        guard let scorer = try scorer(root, unwritten: unwritten) else { return [] }
        return try TopDocuments.of(scorer, k: k, documentCount: reader.documentCount, accept: accept)
    }

    /// True for one word that is not a compound: required or not, its lists are alternatives
    /// (a compound's parts alone do not make a required word match).
    private static func isSimpleWord(_ members: [Query.Member]) -> Bool {
        guard members.count == 1, members[0].occur != .mustNot, case .clause(let clause) = members[0].node else { return false }
        return clause.compoundParts.count < 2
    }

    /// True when some group has a member without a written operator beside others, or a
    /// compound without one (its parts alone match only as alternatives): only then do `.all`
    /// and `.any` differ.
    private static func hasUnwrittenChoice(_ node: Query.Node) -> Bool {
        guard case .group(let members) = node else { return false }
        return (members.count > 1 && members.contains { $0.occur == .defaultOperator })
            || members.contains { member in
                if member.occur == .defaultOperator, case .clause(let clause) = member.node, clause.compoundParts.count >= 2 { return true }
                return hasUnwrittenChoice(member.node)
            }
    }

    /// How `member` takes part in its group: filters without an operator restrict; other
    /// members without one follow `unwritten`.
    func occur(_ member: Query.Member, unwritten: Occur) -> Occur {
        guard member.occur == .defaultOperator else { return member.occur }
        return member.isFilter ? .must : unwritten
    }

    /// What makes the score of `doc`: every clause's matching lists, field by field.
    func explain(_ query: Query, doc: Int32) throws -> [Explanation] {
        var explanation: [Explanation] = []
        for clause in query.clauses {
            for component in try allComponents(of: clause) {
                let score = try component.scorer.score(ifAt: doc)
                guard score > 0 else { continue }
                explanation.append(Explanation(clause: clause.text, field: component.field, match: component.match,
                                               frequency: component.scorer.currentFrequency, score: score))
            }
        }
        return explanation
    }

    func idf(_ docFreq: Int) -> Float {
        let n = Float(reader.documentCount), df = Float(docFreq)
        return log(1 + (n - df + 0.5) / (df + 0.5))
    }
}
