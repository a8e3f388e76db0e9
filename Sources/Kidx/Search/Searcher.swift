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

    /// Creates options: top 10, any clause, with documents and snippets.
    public init(limit: Int = 10, offset: Int = 0, mode: Mode = .any, loadDocuments: Bool = true) {
        self.limit = limit
        self.offset = offset
        self.mode = mode
        self.loadDocuments = loadDocuments
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
        /// Weight of two neighbouring query words found near each other (a sequential-dependence
        /// bonus: headlines and bodies share word pairs). 0 turns it off.
        public var pairBoost: Float = 0.0
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
    private var normFactors: [Field: [Float]] = [:]
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
            normFactors[field] = FieldNorms.lengths.map { ranking.k1 * (1 - ranking.b + ranking.b * Float($0) / average) }
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

    /// Runs a parsed query.
    public func search(_ query: Query, options: SearchOptions = SearchOptions()) throws -> SearchResults {
        let (top, total) = try rank(query, k: options.offset + options.limit, mode: options.mode)
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

    /// Scores every matching document exhaustively and keeps the best `k`.
    func rank(_ query: Query, k: Int, mode: SearchOptions.Mode) throws -> (top: [TopK.Entry], total: Int) {
        let clauses = query.clauses.prefix(64)
        defer { accumulator.reset() }
        for (index, clause) in clauses.enumerated() {
            let bit = UInt64(1) << UInt64(index)
            for field in Field.allCases {
                let boost = field == .title ? ranking.titleBoost : 1
                if clause.isPhrase {
                    try scorePhrase(clause, field: field, boost: boost, bit: bit)
                    continue
                }
                let term = clause.terms[0].term
                try scoreTerm(field.key(term), field: field, boost: boost, bit: bit)
                guard decompounder != nil else { continue }
                try scoreTerm(field.partKey(term), field: field, boost: boost * ranking.partBoost, bit: bit)
                if clause.compoundParts.count >= 2 {
                    // Each part on its own, as a word or inside another compound: bodies spell out
                    // what headlines compound (`Impfstoffmangel` → "… fehlt Impfstoff …").
                    let partBoost = clause.isHyphenated ? ranking.hyphenPartBoost : ranking.compoundPartBoost
                    if partBoost > 0 {
                        for part in clause.compoundParts {
                            try scoreTerm(field.key(part), field: field, boost: boost * partBoost, bit: bit)
                            try scoreTerm(field.partKey(part), field: field, boost: boost * partBoost * ranking.partBoost, bit: bit)
                        }
                    }
                }
            }
        }
        try addCandidateBonuses(Array(clauses), k: k)
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

    private func idf(_ docFreq: Int) -> Float {
        let n = Float(reader.documentCount), df = Float(docFreq)
        return log(1 + (n - df + 0.5) / (df + 0.5))
    }

    private func accumulate(doc: Int32, freq: Float, weight: Float, factors: [Float], norms: UnsafeRawBufferPointer, bit: UInt64) throws {
        let index = Int(doc)
        guard index < accumulator.count else {
            throw KidxError.corruptIndex(file: reader.postingsFile.name, reason: "document \(doc) beyond the last document")
        }
        accumulator.add(index, score: weight * freq * (ranking.k1 + 1) / (freq + factors[Int(norms[index])]), bit: bit)
    }

    private func scoreTerm(_ key: [UInt8], field: Field, boost: Float, bit: UInt64) throws {
        guard var cursor = try reader.postings(key) else { return }
        let weight = boost * idf(cursor.docFreq)
        let factors = normFactors[field]!, norms = reader.norms(field)
        while try cursor.next() {
            try accumulate(doc: cursor.doc, freq: Float(cursor.freq), weight: weight, factors: factors, norms: norms, bit: bit)
        }
    }

    private func scorePhrase(_ clause: Query.Clause, field: Field, boost: Float, bit: UInt64) throws {
        var cursors: [PostingsCursor] = []
        for term in clause.terms {
            guard let cursor = try reader.postings(field.key(term.term)) else { return }
            cursors.append(cursor)
        }
        // Lucene's phrase weight: the sum of the terms' idf.
        let weight = boost * cursors.reduce(0) { $0 + idf($1.docFreq) }
        let factors = normFactors[field]!, norms = reader.norms(field)
        while positionBuffers.count < cursors.count { positionBuffers.append([]) }
        var target: Int32 = 0
        outer: while true {
            // Leapfrog: advance every cursor to the largest current document until all agree.
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
                try accumulate(doc: target, freq: Float(count), weight: weight, factors: factors, norms: norms, bit: bit)
            }
            target += 1
        }
    }

    /// Bonuses computed for the best candidates only (`max(4k, 100)` by the scores so far), where
    /// reading a list costs a skip per candidate instead of a pass over the list:
    /// the very word form the query uses (`exactBoost`), a query compound's parts near each
    /// other (`nearBoost`: "Mangel an Impfstoff" for `Impfstoffmangel`), and neighbouring query
    /// words near each other (`pairBoost`, off by default).
    private func addCandidateBonuses(_ clauses: [Query.Clause], k: Int) throws {
        let exactWords = ranking.exactBoost > 0 ? clauses.compactMap { $0.isPhrase ? nil : $0.exactWord } : []
        var groups: [[String]] = []
        if ranking.nearBoost > 0 {
            groups += clauses.filter { !$0.isPhrase && $0.compoundParts.count >= 2 }.map(\.compoundParts)
        }
        var pairGroups: [[String]] = []
        if ranking.pairBoost > 0 {
            let limit = max(reader.documentCount / 10, 1)
            for index in clauses.indices.dropLast() where !clauses[index].isPhrase && !clauses[index + 1].isPhrase {
                let pair = [clauses[index].terms[0].term, clauses[index + 1].terms[0].term]
                // Function words would cost much and say little.
                let frequent = try pair.contains { try (reader.terms.lookup(Field.body.key($0))?.docFreq ?? 0) > limit }
                if pair[0] != pair[1], !frequent { pairGroups.append(pair) }
            }
        }
        guard !exactWords.isEmpty || !groups.isEmpty || !pairGroups.isEmpty else { return }
        var best = TopK(k: max(4 * k, 100))
        for doc in accumulator.touched { best.insert(doc: doc, score: accumulator.scores[Int(doc)]) }
        let candidates = best.heap.map(\.doc).sorted()
        for word in exactWords {
            for field in Field.allCases {
                let boost = ranking.exactBoost * (field == .title ? ranking.titleBoost : 1)
                try addExactBonus(field.exactKey(word), field: field, boost: boost, candidates: candidates)
            }
        }
        for (parts, boost, fields) in groups.map({ ($0, ranking.nearBoost, Field.allCases) }) + pairGroups.map({ ($0, ranking.pairBoost, [Field.body]) }) {
            for field in fields {
                let fieldBoost = boost * (field == .title ? ranking.titleBoost : 1)
                try addNearBonus(parts, field: field, boost: fieldBoost, candidates: candidates)
            }
        }
    }

    /// Adds the BM25 score of one list to the candidates on it.
    private func addExactBonus(_ key: [UInt8], field: Field, boost: Float, candidates: [Int32]) throws {
        guard var cursor = try reader.postings(key) else { return }
        let weight = boost * idf(cursor.docFreq)
        let factors = normFactors[field]!, norms = reader.norms(field)
        for doc in candidates {
            guard try cursor.advance(to: doc) else { return }
            if cursor.doc == doc {
                try accumulate(doc: doc, freq: Float(cursor.freq), weight: weight, factors: factors, norms: norms, bit: 0)
            }
        }
    }

    /// For each candidate where every part stands within `nearWindow` words of the first part (as
    /// a word or inside a compound, in any order), adds a BM25 score with the parts' idf summed.
    private func addNearBonus(_ parts: [String], field: Field, boost: Float, candidates: [Int32]) throws {
        var cursors: [UnionCursor] = []
        for part in parts {
            let lists = try [field.key(part), field.partKey(part)].compactMap { try reader.postings($0) }
            guard !lists.isEmpty else { return }
            cursors.append(UnionCursor(lists))
        }
        let weight = boost * cursors.reduce(0) { $0 + idf($1.docFreq) }
        let factors = normFactors[field]!, norms = reader.norms(field)
        let window = Int32(ranking.nearWindow)
        while positionBuffers.count < cursors.count { positionBuffers.append([]) }
        candidates: for doc in candidates {
            for index in cursors.indices {
                guard try cursors[index].advance(to: doc) else { return }
                if cursors[index].doc != doc { continue candidates }
            }
            for index in cursors.indices {
                try cursors[index].positions(into: &positionBuffers[index], scratch: &positionScratch)
            }
            let count = positionBuffers[0].filter { anchor in
                (1..<cursors.count).allSatisfy { other in positionBuffers[other].contains { abs($0 - anchor) <= window } }
            }.count
            if count > 0 {
                try accumulate(doc: doc, freq: Float(count), weight: weight, factors: factors, norms: norms, bit: 0)
            }
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
