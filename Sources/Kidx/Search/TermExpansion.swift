/// Expands prefix words (`Sanktion*`) and fuzzy words (`Pjöngjang~1`) into the indexed word
/// forms they stand for, through the term dictionary's exact-word ranges: a prefix is one range
/// scan; a fuzzy word scans the words sharing its first letter (as Lucene's default prefix of
/// one would not, but German spelling mistakes rarely hit the first letter, and it bounds the
/// work) with a bounded edit distance. No posting list is read to expand.
extension Searcher {
    /// `query` with its prefix and fuzzy words expanded (the query itself when it has none).
    func expanded(_ query: Query) throws -> Query {
        guard query.clauses.contains(where: { $0.expansion != nil && $0.alternatives.isEmpty }) else { return query }
        var query = query
        query.root = try expanded(query.root)
        return query
    }

    private func expanded(_ node: Query.Node) throws -> Query.Node {
        switch node {
        case .clause(var clause) where clause.expansion != nil && clause.alternatives.isEmpty:
            clause.alternatives = try alternatives(of: clause)
            return .clause(clause)
        case .group(let members):
            return .group(try members.map { Query.Member(occur: $0.occur, node: try expanded($0.node)) })
        default:
            return node
        }
    }

    /// The most frequent `ranking.maximumExpansions` word forms of the clause's expansion
    /// (closest first for a fuzzy word), over the fields it searches.
    private func alternatives(of clause: Query.Clause) throws -> [Query.Alternative] {
        var found: [String: (edits: Int, docFreq: Int)] = [:]
        switch clause.expansion {
        case .prefix(let prefix):
            for field in clause.fields {
                for segment in reader.segments {
                    try segment.terms.forEach(withPrefix: field.exactKey(prefix)) { key, info in
                        found[String(decoding: key.dropFirst(), as: UTF8.self), default: (0, 0)].docFreq += info.docFreq
                        return true
                    }
                }
            }
        case .fuzzy(let word, let maxEdits):
            let wanted = Array(word.unicodeScalars)
            guard let first = wanted.first else { return [] }
            var distance = EditDistance(wanted, limit: maxEdits)
            var candidate: [Unicode.Scalar] = []
            for field in clause.fields {
                for segment in reader.segments {
                    try segment.terms.forEach(withPrefix: field.exactKey(String(first))) { key, info in
                        // Counting scalars (UTF-8 lead bytes) rules most words out before decoding.
                        let length = key.dropFirst().reduce(0) { $0 + ($1 & 0xC0 == 0x80 ? 0 : 1) }
                        guard abs(length - wanted.count) <= maxEdits else { return true }
                        candidate.removeAll(keepingCapacity: true)
                        var bytes = key.dropFirst().makeIterator()
                        var decoder = UTF8()
                        while case .scalarValue(let scalar) = decoder.decode(&bytes) { candidate.append(scalar) }
                        if let edits = distance.within(candidate) {
                            found[String(decoding: key.dropFirst(), as: UTF8.self), default: (edits, 0)].docFreq += info.docFreq
                        }
                        return true
                    }
                }
            }
        case nil:
            return []
        }
        let best = found.sorted { a, b in
            a.value.edits != b.value.edits ? a.value.edits < b.value.edits
                : a.value.docFreq != b.value.docFreq ? a.value.docFreq > b.value.docFreq : a.key < b.key
        }.prefix(ranking.maximumExpansions)
        return best.map { word, value in
            Query.Alternative(word: word, term: String(decoding: analyzer.term(ofWord: Array(word.utf8)), as: UTF8.self),
                              edits: value.edits, boost: 1 / Float(1 + value.edits))
        }
    }
}

/// The optimal-string-alignment distance (insertions, deletions, substitutions and swaps of
/// neighbours, as Lucene's fuzzy query counts them) from one word to others, up to a limit.
struct EditDistance {
    private let wanted: [Unicode.Scalar]
    private let limit: Int
    private var previous2: [Int], previous: [Int], current: [Int]

    init(_ wanted: [Unicode.Scalar], limit: Int) {
        self.wanted = wanted
        self.limit = limit
        previous2 = Array(repeating: 0, count: wanted.count + 1)
        previous = previous2
        current = previous2
    }

    /// The distance to `candidate`, or nil when it is above the limit.
    mutating func within(_ candidate: [Unicode.Scalar]) -> Int? {
        guard abs(candidate.count - wanted.count) <= limit else { return nil }
        guard !candidate.isEmpty, !wanted.isEmpty else { return max(candidate.count, wanted.count) }
        for column in 0...wanted.count { previous[column] = column }
        for row in 1...candidate.count {
            current[0] = row
            var rowMinimum = row
            for column in 1...wanted.count {
                let cost = candidate[row - 1] == wanted[column - 1] ? 0 : 1
                var value = min(previous[column] + 1, current[column - 1] + 1, previous[column - 1] + cost)
                if row > 1, column > 1, candidate[row - 1] == wanted[column - 2], candidate[row - 2] == wanted[column - 1] {
                    value = min(value, previous2[column - 2] + 1)
                }
                current[column] = value
                rowMinimum = min(rowMinimum, value)
            }
            // Every later row is at least this row's minimum: stop once it exceeds the limit.
            if rowMinimum > limit { return nil }
            swap(&previous2, &previous)
            swap(&previous, &current)
        }
        let distance = previous[wanted.count]
        return distance <= limit ? distance : nil
    }
}
