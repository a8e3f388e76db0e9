import Foundation

/// The BM25 statistics of a whole index: document count, average field lengths and document
/// frequencies summed over its segments, so a document scores the same whichever segment holds
/// it. Deleted documents count until a merge removes them (as in Lucene). One per searcher.
final class CollectionStatistics {
    let documents: Int
    private let totalLengths: [Field: Int]
    private let segments: [SegmentReader]

    init(_ reader: IndexReader) {
        segments = reader.segments
        documents = reader.documentSlots
        var totals: [Field: Int] = [:]
        for segment in segments {
            for field in Field.allCases { totals[field, default: 0] += segment.info.fields[field.name]?.totalLength ?? 0 }
        }
        totalLengths = totals
    }

    func averageLength(_ field: Field) -> Double {
        guard documents > 0, let total = totalLengths[field] else { return 1 }
        return max(1, Double(total) / Double(documents))
    }

    /// The inverse document frequency of `key`, whose list in the asking segment has `local`
    /// documents (with one segment, that is all there is to know).
    func idf(_ key: [UInt8], local: Int) -> Float {
        let docFreq = segments.count > 1 ? documentFrequency(key) : local
        let n = Float(documents), df = Float(docFreq)
        return log(1 + (n - df + 0.5) / (df + 0.5))
    }

    /// Index-wide document frequencies asked for so far (every segment asks for the same keys;
    /// an open index does not change), up to a bound.
    private var docFreqs: [[UInt8]: Int] = [:]

    private func documentFrequency(_ key: [UInt8]) -> Int {
        if let known = docFreqs[key] { return known }
        if docFreqs.count >= 100_000 { docFreqs.removeAll(keepingCapacity: true) }
        let docFreq = segments.reduce(0) { $0 + ((try? $1.terms.lookup(key))??.docFreq ?? 0) }
        docFreqs[key] = docFreq
        return docFreq
    }
}

/// Ranks the documents of one segment with the index-wide statistics: what `Searcher` runs on
/// each segment. Document numbers here are the segment's own.
final class SegmentSearcher {
    let reader: SegmentReader
    let statistics: CollectionStatistics
    let ranking: Searcher.Ranking
    /// Whether the index splits compounds (then clauses read part lists).
    let decompounds: Bool
    let accumulator: ScoreAccumulator
    var fieldScoring: [Field: FieldScoring] = [:]
    /// The BM25 length factors `fieldScoring` points into, owned here.
    private var normFactors: [UnsafeMutableBufferPointer<Float>] = []
    var positionBuffers: [[Int32]] = []
    /// The fewest document ids a top-k window spans (`TopDocuments.defaultMinimumWindow`):
    /// tests narrow it to put many windows over a small index.
    var minimumWindow = TopDocuments.defaultMinimumWindow

    init(reader: SegmentReader, statistics: CollectionStatistics, ranking: Searcher.Ranking, decompounds: Bool) {
        self.reader = reader
        self.statistics = statistics
        self.ranking = ranking
        self.decompounds = decompounds
        accumulator = ScoreAccumulator(documentCount: reader.documentCount)
        for field in Field.allCases {
            let average = Float(statistics.averageLength(field))
            let factors = UnsafeMutableBufferPointer<Float>.allocate(capacity: FieldNorms.lengths.count)
            _ = factors.initialize(from: FieldNorms.lengths.map { ranking.k1 * (1 - ranking.b + ranking.b * Float($0) / average) })
            normFactors.append(factors)
            fieldScoring[field] = FieldScoring(saturation: ranking.k1 + 1, factors: UnsafeBufferPointer(factors), norms: reader.norms(field))
        }
    }

    deinit {
        for factors in normFactors { factors.deallocate() }
    }

    /// Whether document `doc` is live (not marked deleted).
    @inline(__always)
    func isLive(_ doc: Int32) -> Bool { !(reader.deletions?.contains(doc) ?? false) }

    /// The best `k` live documents of the tree that `accept` lets through. A group of alternatives
    /// only, or one required word, is summed with MaxScore over all its scorers (`summedScorers`);
    /// anything else goes through its scorer.
    func topDocuments(_ root: Query.Node, k: Int, unwritten: Occur, above floor: Float = -.infinity,
                      accept: (Int32) throws -> Bool = { _ in true }) throws -> [TopK.Entry] {
        if let (scorers, required) = try summedScorers(root, unwritten: unwritten) {
            return try withoutActuallyEscaping(accept) { accept in
                try TopDocuments.sum(of: scorers, required: required, k: k, documentCount: reader.documentCount, above: floor,
                                     seeds: accumulator, minimumWindow: minimumWindow, accept: accepting(accept))
            }
        }
        guard let scorer = try scorer(root, unwritten: unwritten) else { return [] }
        return try withoutActuallyEscaping(accept) { accept in
            try TopDocuments.of(scorer, k: k, documentCount: reader.documentCount, above: floor, minimumWindow: minimumWindow,
                                accept: accepting(accept))
        }
    }

    /// The scorers whose sum ranks the tree when it is a group of alternatives only, or one
    /// word: every list of every clause, for MaxScore to weigh one by one, and which of them a
    /// document must be in (none, or a required compound's own lists beside its parts'). Nil
    /// for other trees.
    func summedScorers(_ root: Query.Node, unwritten: Occur) throws -> (scorers: [DocumentScorer], required: [Bool])? {
        guard case .group(let members) = root else { return nil }
        if members.allSatisfy({ occur($0, unwritten: unwritten) == .should }) || Self.isSimpleWord(members) {
            var scorers: [DocumentScorer] = []
            for member in members {
                if case .clause(let clause) = member.node {
                    scorers += try allComponents(of: clause).map(\.scorer)
                } else if let scorer = try scorer(member.node, unwritten: unwritten) {
                    scorers.append(scorer)
                }
            }
            return (scorers, [])
        }
        if members.count == 1, occur(members[0], unwritten: unwritten) == .must, case .clause(let clause) = members[0].node, !clause.isPhrase {
            let components = try allComponents(of: clause)
            // Without a list of its own the word matches nothing, whatever its parts have.
            guard components.contains(where: { !$0.isPart }) else { return ([], []) }
            return (components.map(\.scorer), components.map { !$0.isPart })
        }
        return nil
    }

    /// `accept` that also turns deleted documents away (`accept` itself without deletions).
    private func accepting(_ accept: @escaping (Int32) throws -> Bool) -> (Int32) throws -> Bool {
        guard let deletions = reader.deletions else { return accept }
        return { deletions.contains($0) ? false : try accept($0) }
    }

    /// How many live documents match the tree.
    func count(_ root: Query.Node, unwritten: Occur) throws -> Int {
        guard let scorer = try scorer(root, unwritten: unwritten) else { return 0 }
        return try TopDocuments.count(scorer) { [self] in isLive($0) }
    }

    /// Every live match of the tree with its score, in document order.
    func allMatches(_ root: Query.Node, unwritten: Occur) throws -> [TopK.Entry] {
        guard let scorer = try scorer(root, unwritten: unwritten) else { return [] }
        var matches: [TopK.Entry] = []
        var doc = try scorer.advance(to: 0)
        while doc != PostingsCursor.exhausted {
            if isLive(doc) { matches.append(TopK.Entry(doc: doc, score: try scorer.score())) }
            doc = try scorer.advance(to: doc + 1)
        }
        return matches
    }

    /// Each document's publication day, as its place in `days` (-1: undated).
    func dayRanks(_ days: [String: Int32]) throws -> [Int32] {
        var ranks = [Int32](repeating: -1, count: reader.documentCount)
        try reader.terms.forEach(withPrefix: [Field.dateSpace]) { key, info in
            let rank = days[String(decoding: key.dropFirst(), as: UTF8.self)] ?? -1
            var cursor = try reader.cursor(info)
            while try cursor.next() {
                if Int(cursor.doc) < ranks.count { ranks[Int(cursor.doc)] = rank }
            }
            return true
        }
        return ranks
    }

    /// True for one word that is not a compound: required or not, its lists are alternatives
    /// (a compound's parts alone do not make a required word match).
    private static func isSimpleWord(_ members: [Query.Member]) -> Bool {
        guard members.count == 1, members[0].occur != .mustNot, case .clause(let clause) = members[0].node else { return false }
        return clause.compoundParts.count < 2
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
                explanation.append(Explanation(clause: clause.text, field: component.field, match: component.match.description,
                                               frequency: component.scorer.currentFrequency, score: score))
            }
        }
        return explanation
    }

    func idf(_ key: [UInt8], local docFreq: Int) -> Float { statistics.idf(key, local: docFreq) }
}
