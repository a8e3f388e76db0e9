import Foundation

/// How a search combines and returns its results.
public struct SearchOptions: Sendable, Hashable {
    /// Whether a document must match every clause or any.
    public enum Mode: String, Sendable, Hashable, CaseIterable {
        /// Documents matching any clause, ranked by BM25 (more clauses, higher scores).
        case any
        /// Only documents matching every clause.
        case all
    }

    /// Hits to return.
    public var limit: Int
    /// Hits to skip (for paging).
    public var offset: Int
    /// How clauses combine.
    public var mode: Mode
    /// Whether to load stored fields and build snippets (off for pure ranking, e.g. benchmarks).
    public var loadDocuments: Bool
    /// Whether to count every matching document for `SearchResults.totalHits`. Off, the top k
    /// is found without visiting every match and `totalHits` is only the number of hits returned.
    public var countsAllHits: Bool

    /// Creates options: top 10, any clause, with documents and snippets.
    public init(limit: Int = 10, offset: Int = 0, mode: Mode = .any, loadDocuments: Bool = true, countsAllHits: Bool = true) {
        self.limit = limit
        self.offset = offset
        self.mode = mode
        self.loadDocuments = loadDocuments
        self.countsAllHits = countsAllHits
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
    /// The best passage of the body with its matches marked.
    public var snippet: Snippet?
}

/// The result of a search.
public struct SearchResults: Sendable {
    /// The parsed query.
    public var query: Query
    /// All documents that matched, before `limit` and `offset`.
    public var totalHits: Int
    /// The requested page of hits, best first.
    public var hits: [SearchHit]
}

/// Ranks documents of one index with BM25 over title and body (title boosted).
///
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

    private let accumulator: ScoreAccumulator
    private var fieldScoring: [Field: FieldScoring] = [:]
    /// The BM25 length factors `fieldScoring` points into, owned here.
    private var normFactors: [UnsafeMutableBufferPointer<Float>] = []
    private var positionBuffers: [[Int32]] = []
    private var positionScratch: [Int32] = []

    /// Creates a searcher over `reader`.
    public init(reader: IndexReader, ranking: Ranking = Ranking()) {
        self.reader = reader
        self.ranking = ranking
        analyzer = GermanAnalyzer(options: reader.analyzerOptions)
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

    /// Parses and runs `text`, returning the requested page of hits with stored fields and snippets.
    public func search(_ text: String, options: SearchOptions = SearchOptions()) throws -> SearchResults {
        let query = try Query(parsing: text, analyzer: analyzer, compoundParts: compoundParts)
        return try search(query, options: options)
    }

    /// The index terms of the modifier and head of `word` when it is a compound.
    public func compoundParts(_ word: String) -> [String] {
        guard let decompounder, let folded = analyzer.fold(word), let split = decompounder.split(folded) else { return [] }
        return split.top.map { String(decoding: analyzer.term(ofWord: Array($0.utf8)), as: UTF8.self) }
    }

    deinit {
        for factors in normFactors { factors.deallocate() }
    }

    /// Runs a parsed query.
    public func search(_ query: Query, options: SearchOptions = SearchOptions()) throws -> SearchResults {
        let (top, total) = try rank(query, k: options.offset + options.limit, mode: options.mode, counting: options.countsAllHits)
        let page = top.dropFirst(options.offset)
        var hits: [SearchHit] = []
        let highlighter = Highlighter(analyzer: analyzer, decompounder: decompounder, terms: query.allTerms)
        for entry in page {
            var hit = SearchHit(doc: Int(entry.doc), score: entry.score, document: nil, titleHighlights: [], snippet: nil)
            if options.loadDocuments {
                let document = try reader.document(Int(entry.doc))
                hit.document = document
                hit.titleHighlights = highlighter.matches(in: document.title)
                hit.snippet = highlighter.snippet(of: document.body)
            }
            hits.append(hit)
        }
        return SearchResults(query: query, totalHits: total, hits: hits)
    }

    /// The best `k` documents, found document at a time with MaxScore and block-max pruning, and
    /// how many documents match (`counting`; otherwise a lower bound).
    func rank(_ query: Query, k: Int, mode: SearchOptions.Mode, counting: Bool = true) throws -> (top: [TopK.Entry], total: Int) {
        let clauses = Array(query.clauses.prefix(64))
        let top: [TopK.Entry]
        switch mode {
        case .any:
            top = try TopDocuments.sum(of: clauses.flatMap(scorers) + clauses.flatMap(nearScorers), k: k, documentCount: reader.documentCount)
        case .all:
            top = try conjunction(clauses, optional: clauses.flatMap(nearScorers)).map {
                try TopDocuments.of($0, k: k, documentCount: reader.documentCount)
            } ?? []
        }
        guard counting else { return (top, top.count) }
        let total: Int
        switch mode {
        case .any: total = try TopDocuments.count(DisjunctionScorer(clauses.flatMap(scorers)))
        case .all: total = try conjunction(clauses).map { try TopDocuments.count($0) } ?? 0
        }
        return (top, total)
    }

    /// Scores every matching document term at a time and keeps the best `k`: the reference the
    /// pruned `rank` must equal (tests compare them).
    func rankExhaustively(_ query: Query, k: Int, mode: SearchOptions.Mode) throws -> (top: [TopK.Entry], total: Int) {
        let clauses = Array(query.clauses.prefix(64))
        defer { accumulator.reset() }
        for (index, clause) in clauses.enumerated() {
            let bit = UInt64(1) << UInt64(index)
            for field in Field.allCases {
                if clause.isPhrase {
                    try scorePhrase(clause, field: field, boost: field == .title ? ranking.titleBoost : 1, bit: bit)
                    continue
                }
                for list in wordLists(clause, field: field) {
                    try scoreTerm(list.key, field: field, boost: list.boost, bit: bit)
                }
            }
        }
        // Nearness only adds to documents that match already (bit 0).
        for scorer in try clauses.flatMap(nearScorers) {
            var doc = try scorer.advance(to: 0)
            while doc != PostingsCursor.exhausted {
                accumulator.add(Int(doc), score: try scorer.score(), bit: 0)
                doc = try scorer.advance(to: doc + 1)
            }
        }
        let required = clauses.count == 64 ? UInt64.max : (UInt64(1) << UInt64(clauses.count)) - 1
        var top = TopK(k: k)
        var total = 0
        for doc in accumulator.touched {
            let mask = accumulator.matched[Int(doc)]
            if mode == .all && mask != required { continue }
            total += 1
            top.insert(doc: doc, score: accumulator.scores[Int(doc)])
        }
        return (top.sorted(), total)
    }

    /// The posting lists a word clause reads in `field`, with their weights: its stem, its very
    /// word form (`exactBoost`), the word inside compounds (`partBoost`), and for a compound its
    /// parts on their own or inside other compounds (bodies spell out what headlines compound:
    /// `Impfstoffmangel` → "… fehlt Impfstoff …").
    private func wordLists(_ clause: Query.Clause, field: Field) -> [(key: [UInt8], boost: Float)] {
        let fieldBoost = field == .title ? ranking.titleBoost : 1
        let term = clause.terms[0].term
        var lists = [(key: field.key(term), boost: fieldBoost)]
        if ranking.exactBoost > 0, let word = clause.exactWord {
            lists.append((field.exactKey(word), fieldBoost * ranking.exactBoost))
        }
        guard decompounder != nil else { return lists }
        lists.append((field.partKey(term), fieldBoost * ranking.partBoost))
        let partBoost = clause.isHyphenated ? ranking.hyphenPartBoost : ranking.compoundPartBoost
        if clause.compoundParts.count >= 2, partBoost > 0 {
            for part in clause.compoundParts {
                lists.append((field.key(part), fieldBoost * partBoost))
                lists.append((field.partKey(part), fieldBoost * partBoost * ranking.partBoost))
            }
        }
        return lists
    }

    /// The scorers of one clause over both fields.
    private func scorers(of clause: Query.Clause) throws -> [DocumentScorer] {
        var scorers: [DocumentScorer] = []
        for field in Field.allCases {
            let scoring = fieldScoring[field]!
            if clause.isPhrase {
                var cursors: [PostingsCursor] = []
                for term in clause.terms {
                    guard let cursor = try reader.postings(field.key(term.term)) else { break }
                    cursors.append(cursor)
                }
                guard cursors.count == clause.terms.count else { continue }
                // Lucene's phrase weight: the sum of the terms' idf.
                let weight = (field == .title ? ranking.titleBoost : 1) * cursors.reduce(0) { $0 + idf($1.docFreq) }
                scorers.append(PhraseScorer(cursors, offsets: clause.terms.map(\.offset), slop: 0, weight: weight, scoring: scoring))
                continue
            }
            // A word used in one form only shares its stem's list: one scorer, the weights summed.
            var lists: [(info: TermInfo, boost: Float)] = []
            for list in wordLists(clause, field: field) {
                guard let info = try reader.terms.lookup(list.key) else { continue }
                if let same = lists.firstIndex(where: { $0.info.postingsOffset == info.postingsOffset }) {
                    lists[same].boost += list.boost
                } else {
                    lists.append((info, list.boost))
                }
            }
            for list in lists {
                scorers.append(TermScorer(try reader.cursor(list.info), weight: list.boost * idf(list.info.docFreq), scoring: scoring))
            }
        }
        return scorers
    }

    /// For a compound word, the scorers of its parts standing near each other, per field.
    private func nearScorers(of clause: Query.Clause) throws -> [DocumentScorer] {
        guard ranking.nearBoost > 0, !clause.isPhrase, clause.compoundParts.count >= 2 else { return [] }
        var scorers: [DocumentScorer] = []
        fields: for field in Field.allCases {
            var parts: [UnionCursor] = []
            for part in clause.compoundParts {
                let lists = try [field.key(part), field.partKey(part)].compactMap { try reader.postings($0) }
                guard !lists.isEmpty else { continue fields }
                parts.append(UnionCursor(lists))
            }
            let weight = ranking.nearBoost * (field == .title ? ranking.titleBoost : 1) * parts.reduce(0) { $0 + idf($1.docFreq) }
            scorers.append(NearScorer(parts, window: ranking.nearWindow, weight: weight, scoring: fieldScoring[field]!))
        }
        return scorers
    }

    /// Documents that match every clause (nil when one clause matches nothing), with `optional`
    /// scorers adding to their scores.
    private func conjunction(_ clauses: [Query.Clause], optional: [DocumentScorer] = []) throws -> ConjunctionScorer? {
        var required: [DocumentScorer] = []
        for clause in clauses {
            let scorers = try scorers(of: clause)
            guard !scorers.isEmpty else { return nil }
            required.append(scorers.count == 1 ? scorers[0] : DisjunctionScorer(scorers))
        }
        return ConjunctionScorer(required: required, optional: optional)
    }

    private func idf(_ docFreq: Int) -> Float {
        let n = Float(reader.documentCount), df = Float(docFreq)
        return log(1 + (n - df + 0.5) / (df + 0.5))
    }

    private func accumulate(doc: Int32, freq: Float, weight: Float, field: Field, bit: UInt64) throws {
        let scoring = fieldScoring[field]!
        try scoring.check(doc)
        accumulator.add(Int(doc), score: scoring.score(freq: freq, weight: weight, doc: doc), bit: bit)
    }

    private func scoreTerm(_ key: [UInt8], field: Field, boost: Float, bit: UInt64) throws {
        guard var cursor = try reader.postings(key) else { return }
        let weight = boost * idf(cursor.docFreq)
        while try cursor.next() {
            try accumulate(doc: cursor.doc, freq: Float(cursor.freq), weight: weight, field: field, bit: bit)
        }
    }

    private func scorePhrase(_ clause: Query.Clause, field: Field, boost: Float, bit: UInt64) throws {
        var cursors: [PostingsCursor] = []
        for term in clause.terms {
            guard let cursor = try reader.postings(field.key(term.term)) else { return }
            cursors.append(cursor)
        }
        let weight = boost * cursors.reduce(0) { $0 + idf($1.docFreq) }
        while positionBuffers.count < cursors.count { positionBuffers.append([]) }
        var target: Int32 = 0
        outer: while true {
            var agreed = true
            for index in cursors.indices {
                guard try cursors[index].advance(to: target) else { break outer }
                if cursors[index].doc != target {
                    target = cursors[index].doc
                    agreed = false
                }
            }
            guard agreed else { continue }
            let count = try phraseCount(&cursors, offsets: clause.terms.map(\.offset))
            if count > 0 {
                try accumulate(doc: target, freq: Float(count), weight: weight, field: field, bit: bit)
            }
            target += 1
        }
    }

    /// How often the terms stand at their offsets in the current document.
    private func phraseCount(_ cursors: inout [PostingsCursor], offsets: [Int]) throws -> Int {
        for index in cursors.indices { try cursors[index].positions(into: &positionBuffers[index]) }
        var count = 0
        for start in positionBuffers[0] {
            let anchor = Int(start) - offsets[0]
            var all = true
            for index in 1..<cursors.count {
                let wanted = Int32(anchor + offsets[index])
                if !Self.contains(positionBuffers[index], wanted) { all = false; break }
            }
            if all { count += 1 }
        }
        return count
    }

    private static func contains(_ sorted: [Int32], _ value: Int32) -> Bool {
        var low = 0, high = sorted.count
        while low < high {
            let middle = (low + high) / 2
            if sorted[middle] < value { low = middle + 1 } else { high = middle }
        }
        return low < sorted.count && sorted[low] == value
    }
}
