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

/// Ranks the documents of an index with BM25 over title and body (title boosted).
///
/// ```swift
/// let searcher = Searcher(reader: try IndexReader(directory: "Index"))
/// let results = try searcher.search("Sanktionen source:zeit.de date:2020-03", options: SearchOptions(limit: 5))
/// ```
/// Each segment is searched with the index-wide statistics and the segments' best merged, so
/// the ranking is the same however the index was split into segments. A searcher reuses
/// scratch buffers between queries and owns an analyzer: use one per thread.
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
        /// Known-item MRR@10 is 0.446 at 0.2, 0.447 at 0.1, 0.05 and 0; the bound it adds to
        /// every document with all parts is what it costs: FANG's OR queries 538.5 k
        /// instructions each at 0.2, 512.4 k at 0.05 (AND 592.7 k, 572.0 k), the top 10 the
        /// same documents.
        public var nearBoost: Float = 0.05
        /// Weight of each part of a query compound found anywhere in a document.
        public var compoundPartBoost: Float = 0.4
        /// Weight of each part of a hyphenated query word (`Corona`, `Krise` of `Corona-Krise`).
        public var hyphenPartBoost: Float = 0.4
        /// Weight of each part of a query compound found inside other compounds (`impfstoff` of
        /// `Impfstoffmangel` in `Impfstofflieferung`), relative to the part's own weight. Off:
        /// known-item MRR@10 / R@10 / R@100 0.4472 / 0.627 / 0.7965 at 0.1 (the weight before),
        /// 0.4470 / 0.6265 / 0.7945 at 0, while these long lists took a tenth of the
        /// instructions of a FANG OR query (510.7 k → 461.1 k each; AND 570.8 k → 529.4 k) and
        /// changed no document of the 197 queries' top 10s (50 OR and 20 AND orders).
        public var compoundPartInsideBoost: Float = 0
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
    let segments: [SegmentSearcher]
    /// Each segment's documents' days as ranks among the index's days (-1: undated), read from
    /// the day lists the first time a search sorts by date.
    private lazy var dayRanks: [[Int32]] = (try? readDayRanks()) ?? []

    /// Creates a searcher over `reader`.
    public init(reader: IndexReader, ranking: Ranking = Ranking()) {
        self.reader = reader
        self.ranking = ranking
        analyzer = reader.makeAnalyzer()
        decompounder = reader.analyzerOptions.decompounding ? reader.decompounder() : nil
        let statistics = CollectionStatistics(reader)
        segments = reader.segments.map {
            SegmentSearcher(reader: $0, statistics: statistics, ranking: ranking, decompounds: reader.analyzerOptions.decompounding)
        }
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
        hits.reserveCapacity(max(0, top.count - options.offset))
        let highlighter = options.loadDocuments ? Highlighter(analyzer: analyzer, decompounder: decompounder, terms: query.allTerms) : nil
        for entry in top.dropFirst(options.offset) {
            var hit = SearchHit(doc: Int(entry.doc), score: entry.score, document: nil, titleHighlights: [], snippet: nil)
            if let highlighter {
                let document = try reader.document(Int(entry.doc))
                hit.document = document
                hit.titleHighlights = highlighter.matches(in: document.title)
                hit.snippet = highlighter.snippet(of: document.body)
            }
            if options.explains { hit.explanation = try explain(query, doc: Int(entry.doc)) }
            hits.append(hit)
        }
        try reader.analysis.checkUndamaged()  // the query's terms and the snippets read it
        return SearchResults(query: query, totalHits: total, hits: hits)
    }

    /// The best `k` of each segment's entries, by index-wide document number.
    private func merged(_ perSegment: [[TopK.Entry]], k: Int) -> [TopK.Entry] {
        if perSegment.count == 1 { return Array(perSegment[0].prefix(k)) }
        let all = zip(perSegment, reader.bases).flatMap { entries, base in
            entries.map { TopK.Entry(doc: $0.doc + Int32(base), score: $0.score) }
        }
        return Array(all.sorted { $0.isBetter(than: $1) }.prefix(k))
    }

    /// The best `k` documents of the tree over all segments, and each segment's own best.
    /// Segments are searched in turn, each only for documents above the k-th score found so
    /// far: a later segment starts with the pruning an earlier one ended with. (On equal scores
    /// the earlier segment's document comes first anyway, so the result is the merge of every
    /// segment's own top k.)
    private func best(_ root: Query.Node, k: Int, unwritten: Occur) throws -> (top: [TopK.Entry], perSegment: [[TopK.Entry]]) {
        var top = TopK(k: k)
        var perSegment: [[TopK.Entry]] = []
        for (segment, base) in zip(segments, reader.bases) {
            let found = try segment.topDocuments(root, k: k, unwritten: unwritten, above: top.threshold)
            for entry in found { top.insert(doc: entry.doc + Int32(base), score: entry.score) }
            perSegment.append(found)
        }
        return (top.sorted(), perSegment)
    }

    /// The best `k` documents of an expanded query (`expanded(_:)`), found document at a time with
    /// MaxScore and block-max pruning in each segment, and how many documents match
    /// (`counting`; otherwise the number found).
    func rank(_ query: Query, k: Int, mode: SearchOptions.Mode, counting: Bool = true) throws -> (top: [TopK.Entry], total: Int) {
        let top: [TopK.Entry]
        switch mode {
        case .any: top = try best(query.root, k: k, unwritten: .should).top
        case .all: top = try best(query.root, k: k, unwritten: .must).top
        case .allFirst:
            // Documents with every word, then, if they are fewer than k, the best of the rest.
            let (strictTop, strict) = try best(query.root, k: k, unwritten: .must)
            if strictTop.count < k, Self.hasUnwrittenChoice(query.root) {
                // Fewer than k in all: each segment's list holds all its strict matches.
                let rest = try zip(segments, strict).map { segment, found in
                    let found = Set(found.map(\.doc))
                    return try segment.topDocuments(query.root, k: k - strictTop.count, unwritten: .should) { !found.contains($0) }
                }
                top = strictTop + merged(rest, k: k - strictTop.count)
            } else {
                top = strictTop
            }
        }
        guard counting else { return (top, top.count) }
        let total = try segments.reduce(0) { $0 + (try $1.count(query.root, unwritten: mode == .all ? .must : .should)) }
        return (top, total)
    }

    /// Every match, newest first and by score within a day. Words without an operator must all
    /// match unless the mode is `.any`: a list in date order has no ranking to put them first.
    private func rankByDate(_ query: Query, k: Int, mode: SearchOptions.Mode) throws -> (top: [TopK.Entry], total: Int) {
        let ranks = dayRanks
        var matches: [(entry: TopK.Entry, day: Int32)] = []
        for (index, segment) in segments.enumerated() {
            let days = index < ranks.count ? ranks[index] : []
            for entry in try segment.allMatches(query.root, unwritten: mode == .any ? .should : .must) {
                let day = Int(entry.doc) < days.count ? days[Int(entry.doc)] : -1
                matches.append((TopK.Entry(doc: entry.doc + Int32(reader.bases[index]), score: entry.score), day))
            }
        }
        let sorted = matches.sorted { a, b in a.day != b.day ? a.day > b.day : a.entry.isBetter(than: b.entry) }
        return (sorted.prefix(k).map(\.entry), matches.count)
    }

    private func readDayRanks() throws -> [[Int32]] {
        var days = Set<String>()
        for segment in reader.segments {
            try segment.terms.forEach(withPrefix: [Field.dateSpace]) { key, _ in
                days.insert(String(decoding: key.dropFirst(), as: UTF8.self))
                return true
            }
        }
        let ranks = Dictionary(uniqueKeysWithValues: days.sorted().enumerated().map { ($1, Int32($0)) })
        return try segments.map { try $0.dayRanks(ranks) }
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

    /// What makes the score of document `doc`: every clause's matching lists, field by field.
    func explain(_ query: Query, doc: Int) throws -> [Explanation] {
        let (segment, local) = try reader.locate(doc)
        return try segments[segment].explain(query, doc: Int32(local))
    }

    /// The reference ranking: every segment scored exhaustively, term at a time (tests compare
    /// `rank` against it).
    func rankExhaustively(_ query: Query, k: Int, mode: SearchOptions.Mode) throws -> (top: [TopK.Entry], total: Int) {
        let results = try segments.map { try $0.rankExhaustively(query, k: k, mode: mode) }
        let complete = merged(results.map(\.complete), k: k)
        let partial = merged(results.map(\.partial), k: k - complete.count)
        return (complete + partial, results.reduce(0) { $0 + $1.total })
    }
}
